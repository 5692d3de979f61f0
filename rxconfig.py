"""Reflex configuration, taken from SupportBot's settings (see .env.example)."""

import sys

import reflex as rx

from supportbot.config import ConfigError, get_settings

try:
    settings = get_settings()
except ConfigError as error:  # a readable message naming the variable, not a traceback
    sys.exit(str(error))

config = rx.Config(
    app_name="supportbot",
    app_module_import="supportbot.ui.app",
    db_url=settings.effective_database_url,
    # REDIS_URL also holds the pages' state, so several backend workers (and hosts)
    # serve the same sessions; without it one worker keeps state on disk.
    redis_url=settings.redis_url or None,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[
        rx.plugins.SitemapPlugin(),
        rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", radius="medium")),
    ],
)
