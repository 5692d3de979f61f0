"""The frame every page shares: navigation by role, language switch, content, footer."""

from __future__ import annotations

import reflex as rx

from supportbot.ui.components.backend import backend_url
from supportbot.ui.components.post_form import post_form
from supportbot.ui.i18n import t
from supportbot.ui.state import SessionState


def _language_switch() -> rx.Component:
    return rx.select.root(
        rx.select.trigger(aria_label="Language / Idioma", variant="ghost"),
        rx.select.content(
            rx.select.item("English", value="en"),
            rx.select.item("Español", value="es"),
        ),
        value=SessionState.lang,
        on_change=SessionState.set_language,
        size="1",
    )


def logout_button() -> rx.Component:
    return post_form(
        rx.button(t("nav.logout"), type="submit", variant="soft", size="2"),
        action=backend_url("/api/auth/session/logout/"),
        method="post",
    )


def _account_area() -> rx.Component:
    return rx.cond(
        SessionState.is_authenticated,
        rx.hstack(
            rx.link(rx.hstack(rx.icon("user", size=16), rx.text(SessionState.username),
                              align="center", spacing="1"),
                    href="/account"),
            logout_button(),
            align="center",
            spacing="3",
        ),
        rx.hstack(
            rx.link(t("nav.login"), href="/login"),
            rx.button(rx.link(t("nav.register"), href="/register"), as_child=True, size="2"),
            align="center",
            spacing="3",
        ),
    )


ADMIN_PAGES = (("nav.kbadmin", "/admin/kb"), ("nav.feedback", "/admin/feedback"),
               ("nav.suggestions", "/admin/suggestions"),
               ("nav.metrics", "/admin/metrics"), ("nav.rules", "/admin/rules"),
               ("nav.deliveries", "/admin/notifications"), ("nav.users", "/admin/users"),
               ("nav.audit", "/admin/audit"), ("nav.embed", "/admin/embed"),
               ("nav.models", "/admin/models"))


def _admin_menu() -> rx.Component:
    """The admin pages in one menu (one nav line at any width); each item is a real link."""
    return rx.menu.root(
        rx.menu.trigger(rx.button(t("nav.admin"), rx.icon("chevron-down", size=14),
                                  variant="ghost", size="2", id="admin-menu")),
        rx.menu.content(*[rx.menu.item(rx.link(t(key), href=href, color="inherit",
                                               underline="none"), as_child=True)
                          for key, href in ADMIN_PAGES]),
    )


def navbar() -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.link(
                rx.hstack(rx.icon("life-buoy", size=22), rx.text("SupportBot", size="5", weight="bold"),
                          align="center", spacing="2"),
                href="/", underline="none", color="inherit",
            ),
            rx.link(t("nav.chat"), href="/"),
            rx.link(t("nav.help_center"), href="/kb"),
            rx.cond(SessionState.is_authenticated, rx.link(t("nav.tickets"), href="/tickets")),
            rx.cond((SessionState.role == "agent") | (SessionState.role == "admin"),
                    rx.link(t("nav.desk"), href="/desk")),
            rx.cond(SessionState.role == "admin", _admin_menu()),
            rx.spacer(),
            _language_switch(),
            _account_area(),
            align="center",
            spacing="4",
            wrap="wrap",
            max_width="72rem",
            margin_x="auto",
            padding_x="1rem",
            padding_y="0.75rem",
        ),
        as_="nav",
        border_bottom="1px solid var(--gray-a5)",
        background="var(--color-panel-solid)",
    )


def page_frame(*children: rx.Component) -> rx.Component:
    return rx.box(
        navbar(),
        rx.box(
            *children,
            as_="main",
            max_width="72rem",
            margin_x="auto",
            padding="1.5rem 1rem 3rem",
            width="100%",
        ),
        rx.box(
            rx.text("SupportBot · ", t("brand.tagline"), size="1", color_scheme="gray"),
            as_="footer",
            text_align="center",
            padding="1rem",
        ),
        min_height="100vh",
    )


def notice(message: rx.Var | str, kind: str = "error") -> rx.Component:
    """A callout for an error or a piece of good news."""
    return rx.callout(
        message,
        icon="triangle-alert" if kind == "error" else "info",
        color_scheme="red" if kind == "error" else "green",
        role="alert" if kind == "error" else "status",
        width="100%",
    )
