"""The public help center: search and read published articles (`/kb`, `/kb/[article_id]`)."""

from __future__ import annotations

import uuid

import reflex as rx

from supportbot.db import session_scope
from supportbot.models import EntryStatus, KnowledgeEntry
from supportbot.services import knowledge
from supportbot.ui.components.layout import page_frame
from supportbot.ui.i18n import t
from supportbot.ui.state import SessionState

PAGE_SIZE = 50


def _summary(entry: KnowledgeEntry) -> dict[str, object]:
    return {"id": str(entry.id), "title": entry.title, "locale": entry.locale,
            "tags": list(entry.tags), "problem": entry.problem[:220]}


class HelpCenterState(rx.State):
    query: str = ""
    locale: str = "all"
    articles: list[dict[str, object]] = []
    loaded: bool = False

    def _search(self) -> None:
        with session_scope() as session:
            entries = knowledge.list_published(
                session, text=self.query, locale=None if self.locale == "all" else self.locale,
                limit=PAGE_SIZE)
            self.articles = [_summary(entry) for entry in entries]
        self.loaded = True

    @rx.event
    def load(self) -> None:
        self.query = self.router.url.query_parameters.get("q", "")[:200]
        self._search()

    @rx.event
    def search(self, form: dict[str, str]) -> None:
        self.query = (form.get("q") or "").strip()[:200]
        self._search()

    @rx.event
    def set_locale(self, locale: str | list[str]) -> None:
        value = locale if isinstance(locale, str) else (locale[0] if locale else "all")
        self.locale = value if value in ("all", "en", "es") else "all"
        self._search()


def _article_card(article: rx.Var) -> rx.Component:
    return rx.link(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.heading(article["title"].to(str), size="3"),
                    rx.spacer(),
                    rx.badge(article["locale"].to(str), variant="soft"),
                    width="100%",
                    align="center",
                ),
                rx.text(article["problem"].to(str), size="2", color_scheme="gray"),
                rx.hstack(
                    rx.foreach(article["tags"].to(list[str]),
                               lambda tag: rx.badge(tag, color_scheme="gray", variant="outline")),
                    spacing="1",
                    wrap="wrap",
                ),
                spacing="2",
                align="start",
            ),
            width="100%",
        ),
        href="/kb/" + article["id"].to(str),
        underline="none",
        color="inherit",
        width="100%",
    )


def help_center_view() -> rx.Component:
    return page_frame(
        rx.vstack(
            rx.heading(t("kb.title"), size="8", as_="h1"),
            rx.text(t("kb.subtitle"), color_scheme="gray"),
            rx.form(
                rx.hstack(
                    rx.input(name="q", placeholder=t("kb.search"), default_value=HelpCenterState.query,
                             aria_label=t("kb.search"), max_length=200, flex="1", size="3"),
                    rx.button(rx.icon("search", size=16), t("kb.search_button"), type="submit",
                              size="3"),
                    width="100%",
                ),
                on_submit=HelpCenterState.search,
                width="100%",
            ),
            rx.segmented_control.root(
                rx.segmented_control.item(t("kb.all_languages"), value="all"),
                rx.segmented_control.item(t("kb.lang_en"), value="en"),
                rx.segmented_control.item(t("kb.lang_es"), value="es"),
                value=HelpCenterState.locale,
                on_change=HelpCenterState.set_locale,
            ),
            rx.cond(
                HelpCenterState.articles.length() > 0,
                rx.vstack(
                    rx.text(HelpCenterState.articles.length(), " ", t("kb.count"), size="2",
                            color_scheme="gray"),
                    rx.grid(rx.foreach(HelpCenterState.articles, _article_card),
                            columns=rx.breakpoints(initial="1", md="2"), spacing="3",
                            width="100%"),
                    width="100%",
                ),
                rx.cond(HelpCenterState.loaded,
                        rx.callout(t("kb.empty"), icon="search-x", color_scheme="gray")),
            ),
            spacing="4",
            width="100%",
        )
    )


class ArticleState(rx.State):
    found: bool = True
    title: str = ""
    problem: str = ""
    solution: str = ""
    locale: str = ""
    tags: list[str] = []
    phrasings: list[str] = []
    version: int = 0
    updated: str = ""

    @rx.event
    def load(self) -> None:
        raw_id = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        entry = None
        try:
            key = uuid.UUID(raw_id)
        except ValueError:
            key = None
        if key is not None:
            with session_scope() as session:
                entry = session.get(KnowledgeEntry, key)
        self.found = entry is not None and entry.status == EntryStatus.published.value
        if not self.found:
            return
        self.title, self.problem, self.solution = entry.title, entry.problem, entry.solution
        self.locale, self.tags = entry.locale, list(entry.tags)
        self.phrasings, self.version = list(entry.alternative_phrasings), entry.version
        self.updated = entry.updated_at.strftime("%Y-%m-%d")


def article_view() -> rx.Component:
    back = rx.link(rx.hstack(rx.icon("arrow-left", size=16), t("kb.back"), align="center"),
                   href="/kb")
    return page_frame(
        rx.vstack(
            back,
            rx.cond(
                ArticleState.found,
                rx.vstack(
                    rx.heading(ArticleState.title, size="7", as_="h1"),
                    rx.hstack(
                        rx.badge(ArticleState.locale),
                        rx.foreach(ArticleState.tags,
                                   lambda tag: rx.badge(tag, variant="outline", color_scheme="gray")),
                        rx.text(t("kb.version"), " ", ArticleState.version, " · ",
                                t("kb.updated"), " ", ArticleState.updated, size="1",
                                color_scheme="gray"),
                        spacing="2", wrap="wrap", align="center",
                    ),
                    rx.heading(t("kb.problem"), size="4", as_="h2"),
                    rx.text(ArticleState.problem),
                    rx.heading(t("kb.solution"), size="4", as_="h2"),
                    # Plain text with line breaks kept: article text is never live HTML.
                    rx.text(ArticleState.solution, white_space="pre-wrap"),
                    rx.cond(
                        ArticleState.phrasings.length() > 0,
                        rx.vstack(
                            rx.heading(t("kb.also_asked"), size="3", as_="h2"),
                            rx.unordered_list(rx.foreach(ArticleState.phrasings,
                                                         lambda p: rx.list_item(p))),
                            spacing="2",
                        ),
                    ),
                    spacing="3",
                    align="start",
                    max_width="48rem",
                ),
                rx.callout(t("kb.not_found"), icon="file-x", color_scheme="gray"),
            ),
            spacing="4",
        )
    )


ON_LOAD_LIST = [SessionState.load_session, HelpCenterState.load]
ON_LOAD_ARTICLE = [SessionState.load_session, ArticleState.load]
