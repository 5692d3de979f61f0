"""Reflex configuration, taken from SupportBot's settings (see .env.example)."""

import reflex as rx

from supportbot.config import get_settings

settings = get_settings()

config = rx.Config(
    app_name="supportbot",
    app_module_import="supportbot.ui.app",
    db_url=settings.effective_database_url,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[rx.plugins.SitemapPlugin(), rx.plugins.RadixThemesPlugin()],
)
