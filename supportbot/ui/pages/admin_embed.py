"""`/admin/embed`: the snippet that puts the chat on another website, with this
installation's PUBLIC_URL filled in, ready to copy. Admins only.

The snippet loads `assets/embed.js` (served by the app as `/embed.js`), which adds a
launcher button opening the `/widget` page in an iframe.
"""

from __future__ import annotations

import html

import reflex as rx

from supportbot.config import get_settings
from supportbot.errors import ServiceError
from supportbot.models import Role
from supportbot.ui.components.layout import notice, page_frame
from supportbot.ui.i18n import t
from supportbot.ui.state import SessionState, acting_user

OPTIONS = ("lang", "position", "color", "label")


def snippet(public_url: str, lang: str = "") -> str:
    """The tag a site pastes before `</body>`; `lang` "" lets the visitor's browser choose."""
    src = html.escape(public_url.rstrip("/") + "/embed.js", quote=True)
    language = f' data-lang="{lang}"' if lang in ("en", "es") else ""
    return f'<script src="{src}"{language} defer></script>'


class EmbedState(rx.State):
    public_url: str = ""
    lang: str = ""
    copied: bool = False

    @rx.var
    def code(self) -> str:
        return snippet(self.public_url, self.lang) if self.public_url else ""

    @rx.event
    async def load(self) -> None:
        self.copied, self.lang = False, ""
        try:
            await acting_user(self, Role.admin)
        except ServiceError:
            self.public_url = ""
            return
        self.public_url = get_settings().public_url

    @rx.event
    def set_lang(self, value: str) -> None:
        self.lang = value if value in ("en", "es") else ""
        self.copied = False

    @rx.event
    def mark_copied(self) -> None:
        self.copied = self.code != ""


def embed_view() -> rx.Component:
    return page_frame(rx.vstack(
        rx.heading(t("embed.title"), size="7", as_="h1"),
        rx.text(t("embed.intro")),
        rx.hstack(
            rx.el.label(t("embed.language"), html_for="embed-lang", font_weight="bold"),
            rx.el.select(rx.el.option(t("embed.lang_auto"), value=""),
                         rx.el.option("English", value="en"),
                         rx.el.option("Español", value="es"),
                         id="embed-lang", value=EmbedState.lang,
                         on_change=EmbedState.set_lang),
            align="center", spacing="3",
        ),
        rx.el.pre(rx.el.code(EmbedState.code), id="embed-snippet", white_space="pre-wrap",
                  word_break="break-all", background="var(--gray-3)", padding="1rem",
                  border_radius="8px", width="100%", font_size="0.9em"),
        rx.hstack(
            rx.button(rx.icon("copy", size=16), t("embed.copy"),
                      # in the click itself: browsers let only a user's gesture write
                      on_click=[rx.set_clipboard(EmbedState.code), EmbedState.mark_copied]),
            rx.cond(EmbedState.copied, rx.text(t("embed.copied"), color_scheme="green",
                                               role="status")),
            align="center", spacing="3",
        ),
        rx.heading(t("embed.options"), size="4"),
        rx.table.root(
            rx.table.body(*[rx.table.row(
                rx.table.cell(rx.code(f"data-{name}")),
                rx.table.cell(t(f"embed.option_{name}")),
            ) for name in OPTIONS]),
            width="100%",
        ),
        notice(t("embed.public_url_hint"), kind="info"),
        spacing="4", width="100%", max_width="52rem",
    ))


ON_LOAD = [SessionState.require_admin, EmbedState.load]
