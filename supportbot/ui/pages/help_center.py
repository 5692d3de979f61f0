"""The public help center: search and read published articles (`/kb`, `/kb/[article_id]`)."""

from __future__ import annotations

import uuid

import reflex as rx

from supportbot.db import session_scope
from supportbot.models import EntryStatus, KnowledgeEntry
from supportbot.services import feedback_review, knowledge
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
    tag: str = ""  # one topic, or "" for all
    topics: list[str] = []  # the most used tags of the published articles shown
    articles: list[dict[str, object]] = []
    loaded: bool = False

    def _search(self) -> None:
        locale = None if self.locale == "all" else self.locale
        with session_scope() as session:
            entries = knowledge.list_published(session, text=self.query, locale=locale,
                                               tag=self.tag or None, limit=PAGE_SIZE)
            self.articles = [_summary(entry) for entry in entries]
            self.topics = [tag for tag, _ in knowledge.published_tags(session, locale=locale)]
        self.loaded = True

    @rx.event
    def load(self) -> None:
        parameters = self.router.url.query_parameters
        self.query = parameters.get("q", "")[:200]
        self.tag = parameters.get("tag", "").strip().lower()[:40]
        self._search()

    @rx.event
    def set_tag(self, tag: str) -> None:
        """Show one topic's articles; choosing it again (or "") shows every topic."""
        tag = str(tag).strip().lower()[:40]
        self.tag = "" if tag == self.tag else tag
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
            rx.hstack(
                rx.text(t("kb.topics"), size="2", color_scheme="gray"),
                rx.button(t("kb.all_topics"), size="1",
                          variant=rx.cond(HelpCenterState.tag == "", "solid", "soft"),
                          on_click=HelpCenterState.set_tag("")),
                rx.foreach(HelpCenterState.topics, lambda topic: rx.button(
                    topic, size="1", class_name="kb-topic",
                    variant=rx.cond(HelpCenterState.tag == topic, "solid", "soft"),
                    aria_pressed=rx.cond(HelpCenterState.tag == topic, "true", "false"),
                    on_click=HelpCenterState.set_tag(topic))),
                spacing="2", wrap="wrap", align="center", width="100%",
                role="group", aria_label=t("kb.topics"),
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
    helpful: int = 0  # ratings of the chat's answers that cited it
    rated: int = 0

    @rx.event
    def load(self) -> None:
        raw_id = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        entry = None
        self.helpful = self.rated = 0
        try:
            key = uuid.UUID(raw_id)
        except ValueError:
            key = None
        if key is not None:
            with session_scope() as session:
                entry = session.get(KnowledgeEntry, key)
                if entry is not None and entry.status == EntryStatus.published.value:
                    ratings = feedback_review.ratings_of(session, entry.id)
                    self.helpful = ratings.helpful
                    self.rated = ratings.helpful + ratings.not_helpful
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
                        rx.foreach(ArticleState.tags, lambda tag: rx.link(
                            rx.badge(tag, variant="outline", color_scheme="gray"),
                            href="/kb?tag=" + tag, aria_label=t("kb.topic_link") + " " + tag)),
                        rx.text(t("kb.version"), " ", ArticleState.version, " · ",
                                t("kb.updated"), " ", ArticleState.updated, size="1",
                                color_scheme="gray"),
                        spacing="2", wrap="wrap", align="center",
                    ),
                    rx.cond(ArticleState.rated > 0, rx.hstack(
                        rx.icon("thumbs-up", size=14, color="var(--gray-11)"),
                        rx.text(ArticleState.helpful, " ", t("kb.rated_of"), " ",
                                ArticleState.rated, " ", t("kb.rated_helpful"), size="2",
                                color_scheme="gray"),
                        spacing="2", align="center", id="kb-article-ratings")),
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
