"""`/admin/suggestions`: the feedback digest's KB suggestions. Accept one (a draft article,
or its phrasings added to the matched article), optionally after editing it; reject it;
run the digest now and follow its job live. Admins only; `services.feedback_digest`
decides and records.
"""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx

from supportbot.db import session_scope
from supportbot.errors import NotAuthenticated, ServiceError
from supportbot.models import Role
from supportbot.services import feedback_digest, knowledge
from supportbot.ui.components.layout import notice, page_frame
from supportbot.ui.i18n import t
from supportbot.ui.state import SessionState, acting_user
from supportbot.ui.translate import service_message

EDIT_FIELDS = ("title", "problem", "solution", "phrasings", "locale")
EMPTY_FORM = {"id": "", "kind": "", "title": "", "problem": "", "solution": "",
              "phrasings": "", "locale": "en"}


def suggestion_row(session, suggestion) -> dict[str, str]:  # noqa: ANN001
    """A suggestion as the page shows it, with the matched article's current title."""
    matched = ""
    if suggestion.entry_id is not None:
        try:
            matched = knowledge.get_entry(session, suggestion.entry_id).title
        except ServiceError:  # deleted meanwhile: accepting makes a draft
            matched = ""
    confidence = suggestion.match_confidence
    return {"id": str(suggestion.id), "kind": suggestion.kind, "title": suggestion.title,
            "problem": suggestion.problem, "solution": suggestion.solution,
            "phrasings": "\n".join(suggestion.phrasings),
            "shown_phrasings": "\n".join(f"• {p}" for p in suggestion.phrasings),
            "locale": suggestion.locale, "cases": str(len(suggestion.case_keys)),
            "entry_id": str(suggestion.entry_id) if suggestion.entry_id and matched else "",
            "matched": matched,
            "confidence": f"{confidence:.2f}" if confidence is not None else "",
            "created": suggestion.created_at.strftime("%Y-%m-%d %H:%M")}


def edit_from(kind: str, form: dict[str, Any]) -> feedback_digest.SuggestionEdit:
    """The admin's changes; phrasings suggestions only change their phrasings."""
    phrasings = [p for p in str(form.get("phrasings", "")).splitlines() if p.strip()]
    if kind == "phrasings":
        return feedback_digest.SuggestionEdit(phrasings=phrasings)
    return feedback_digest.SuggestionEdit(
        title=str(form.get("title", "")), problem=str(form.get("problem", "")),
        solution=str(form.get("solution", "")), phrasings=phrasings,
        locale=str(form.get("locale", "en")))


class SuggestionsState(rx.State):
    items: list[dict[str, str]] = []
    total: int = 0
    form: dict[str, str] = dict(EMPTY_FORM)  # the suggestion being edited ("" id: none)
    field_errors: dict[str, str] = {}
    error: str = ""
    info: str = ""  # accepted_draft, accepted_phrasings, rejected
    result_entry: str = ""  # the article made or changed by the last acceptance
    job: str = ""
    job_state: str = ""
    job_stage: str = ""
    job_percent: int = 0
    job_cases: str = ""
    job_new: str = ""
    job_suggestions: str = ""
    job_error: str = ""

    async def _admin(self):  # noqa: ANN202
        return await acting_user(self, Role.admin)

    async def _lang(self) -> str:
        return (await self.get_state(SessionState)).lang

    async def _list(self) -> None:
        admin = await self._admin()
        with session_scope() as session:
            found, self.total = feedback_digest.list_suggestions(session, admin, limit=50)
            self.items = [suggestion_row(session, s) for s in found]

    async def _fail(self, error: ServiceError) -> None:
        lang = await self._lang()
        self.info = ""
        self.error = service_message(error.message, lang)
        self.field_errors = {k: service_message(v, lang) for k, v in error.fields.items()}

    @rx.event
    async def load(self) -> None:
        self.error = self.info = self.result_entry = ""
        self.form, self.field_errors = dict(EMPTY_FORM), {}
        try:
            await self._list()
        except (ServiceError, NotAuthenticated):
            self.items, self.total = [], 0

    @rx.event
    async def open_editor(self, suggestion_id: str) -> None:
        self.error = self.info = ""
        self.field_errors = {}
        try:
            admin = await self._admin()
            with session_scope() as session:
                row = suggestion_row(session, feedback_digest.get_suggestion(
                    session, admin, suggestion_id))
        except ServiceError as error:
            await self._fail(error)
            return
        self.form = {key: row[key] for key in EMPTY_FORM}

    @rx.event
    def close_editor(self) -> None:
        self.form, self.field_errors = dict(EMPTY_FORM), {}

    @rx.event
    async def accept(self, suggestion_id: str) -> None:
        await self._accept(suggestion_id, None)

    @rx.event
    async def accept_edited(self, form: dict[str, Any]) -> None:
        # Keep what was typed, whatever happens next.
        self.form = {**self.form, **{k: str(form.get(k, "")) for k in EDIT_FIELDS
                                     if k in form}}
        await self._accept(self.form["id"], edit_from(self.form["kind"], form))

    async def _accept(self, suggestion_id: str,
                      edit: feedback_digest.SuggestionEdit | None) -> None:
        self.error = self.info = self.result_entry = ""
        try:
            admin = await self._admin()
            with session_scope() as session:
                kind = feedback_digest.get_suggestion(session, admin, suggestion_id).kind
                entry = feedback_digest.accept(session, admin, suggestion_id, edit)
                session.flush()
                self.result_entry = str(entry.id)
        except ServiceError as error:
            await self._fail(error)
            return
        self.info = "accepted_phrasings" if kind == "phrasings" else "accepted_draft"
        self.form, self.field_errors = dict(EMPTY_FORM), {}
        await self._list()

    @rx.event
    async def reject(self, suggestion_id: str) -> None:
        self.error = self.info = self.result_entry = ""
        try:
            admin = await self._admin()
            with session_scope() as session:
                feedback_digest.reject(session, admin, suggestion_id)
        except ServiceError as error:
            await self._fail(error)
            return
        self.info = "rejected"
        if self.form["id"] == suggestion_id:
            self.form, self.field_errors = dict(EMPTY_FORM), {}
        await self._list()

    @rx.event
    async def run_digest(self):  # noqa: ANN201
        self.error = self.info = ""
        try:
            admin = await self._admin()
            job_id = feedback_digest.start_digest(admin)
        except ServiceError as error:
            await self._fail(error)
            return None
        self.job, self.job_state, self.job_stage, self.job_percent = job_id, "queued", "", 0
        self.job_cases = self.job_new = self.job_suggestions = self.job_error = ""
        return SuggestionsState.follow_job

    @rx.event(background=True)
    async def follow_job(self) -> None:
        """Show the digest's stage until it ends (RQ or in-process), then the new list."""
        for _ in range(1800):
            async with self:
                job_id = self.job
                try:
                    admin = await self._admin()
                except ServiceError:
                    return
            try:
                status = await asyncio.to_thread(feedback_digest.digest_status, admin, job_id)
            except ServiceError:
                return
            async with self:
                if self.job != job_id:
                    return  # another run started meanwhile: its own loop follows it
                self.job_state = status.state
                self.job_stage = str(status.meta.get("stage", ""))
                self.job_percent = int(float(status.meta.get("done", 0)) * 100)
                if status.state in ("finished", "failed"):
                    result = status.result if isinstance(status.result, dict) else {}
                    self.job_cases = str(result.get("cases", ""))
                    self.job_new = str(result.get("new_cases", ""))
                    self.job_suggestions = str(result.get("suggestions", ""))
                    message = (status.error or "").strip().splitlines()
                    self.job_error = service_message(message[-1].split(": ", 1)[-1],
                                                     await self._lang()) if message else ""
                    try:
                        await self._list()
                    except ServiceError:
                        pass
                    return
            await asyncio.sleep(1)


# -- view ------------------------------------------------------------------------------

def _field(name: str, label_key: str, *, area: bool = False, rows: str = "4") -> rx.Component:
    value = SuggestionsState.form[name]
    control = (rx.text_area(name=name, id=f"sugg-{name}", default_value=value, rows=rows,
                            width="100%")
               if area else rx.input(name=name, id=f"sugg-{name}", default_value=value,
                                     width="100%"))
    return rx.vstack(
        rx.el.label(t(label_key), html_for=f"sugg-{name}", font_weight="bold"),
        control,
        rx.cond(SuggestionsState.field_errors.contains(name),
                rx.text(SuggestionsState.field_errors[name], color_scheme="red", size="2",
                        class_name="field-error")),
        width="100%", spacing="1",
    )


def _editor() -> rx.Component:
    new_article = SuggestionsState.form["kind"] != "phrasings"
    return rx.form(
        rx.vstack(
            rx.cond(new_article, rx.fragment(
                _field("title", "kbadmin.title"),
                _field("problem", "kb.problem", area=True, rows="3"),
                _field("solution", "kb.solution", area=True, rows="6"),
            )),
            _field("phrasings", "sugg.phrasings_edit", area=True),
            rx.cond(new_article, rx.vstack(
                rx.el.label(t("kbadmin.locale"), html_for="sugg-locale", font_weight="bold"),
                rx.el.select(rx.el.option(t("kb.lang_en"), value="en"),
                             rx.el.option(t("kb.lang_es"), value="es"),
                             name="locale", id="sugg-locale",
                             default_value=SuggestionsState.form["locale"]),
                spacing="1",
            )),
            rx.hstack(
                rx.button(t("sugg.accept"), type="submit", id="sugg-accept-edited"),
                rx.button(t("sugg.cancel"), type="button", variant="soft", color_scheme="gray",
                          on_click=SuggestionsState.close_editor),
                spacing="3",
            ),
            spacing="3", width="100%",
        ),
        on_submit=SuggestionsState.accept_edited, reset_on_submit=False,
        key=SuggestionsState.form["id"], width="100%",
    )


def _item(item: rx.Var) -> rx.Component:
    suggestion_id = item["id"].to(str)
    return rx.card(rx.vstack(
        rx.hstack(
            rx.badge(rx.cond(item["kind"] == "phrasings", t("sugg.kind_phrasings"),
                             t("sugg.kind_new_article")),
                     color_scheme=rx.cond(item["kind"] == "phrasings", "blue", "green")),
            rx.text(t("sugg.cases"), ": ", item["cases"], " · ", item["locale"], " · ",
                    item["created"], size="1", color_scheme="gray", class_name="sugg-cases"),
            align="center", spacing="2", wrap="wrap",
        ),
        rx.heading(item["title"], size="4", as_="h2"),
        rx.cond(item["matched"] != "", rx.text(
            t("sugg.matched"), ": ",
            rx.link(item["matched"], href="/admin/kb?edit=" + item["entry_id"].to(str)),
            " (", t("sugg.confidence"), " ", item["confidence"], ")", size="2",
            class_name="sugg-matched")),
        rx.cond((item["kind"] != "phrasings") & (item["problem"] != item["title"]),
                rx.text(t("kb.problem"), ": ", item["problem"], size="2")),
        rx.cond((item["kind"] != "phrasings") & (item["solution"] != ""),
                rx.text(t("kb.solution"), ": ", item["solution"], size="2",
                        white_space="pre-wrap")),
        rx.text(t("sugg.phrasings"), ":", size="2", weight="bold"),
        rx.text(item["shown_phrasings"], size="2", white_space="pre-wrap",
                class_name="sugg-phrasings"),
        rx.cond(
            SuggestionsState.form["id"] == suggestion_id,
            _editor(),
            rx.hstack(
                rx.button(t("sugg.accept"), on_click=SuggestionsState.accept(suggestion_id)),
                rx.button(t("sugg.edit"), variant="soft",
                          on_click=SuggestionsState.open_editor(suggestion_id)),
                rx.button(t("sugg.reject"), variant="soft", color_scheme="gray",
                          on_click=SuggestionsState.reject(suggestion_id)),
                spacing="3",
            ),
        ),
        spacing="2", align="start", width="100%",
    ), width="100%", class_name="suggestion-item")


def _job() -> rx.Component:
    running = (SuggestionsState.job_state == "queued") | (SuggestionsState.job_state == "started")
    return rx.cond(SuggestionsState.job != "", rx.vstack(
        rx.text(
            t("sugg.job"), ": ",
            rx.match(SuggestionsState.job_state, ("queued", t("models.state_queued")),
                     ("started", t("models.state_started")),
                     ("finished", t("models.state_finished")),
                     ("failed", t("models.state_failed")), SuggestionsState.job_state),
            rx.cond(SuggestionsState.job_state == "started", rx.fragment(
                " · ", rx.match(SuggestionsState.job_stage,
                                ("collect", t("sugg.stage_collect")),
                                ("cluster", t("sugg.stage_cluster")),
                                ("match", t("sugg.stage_match")), ""),
                " ", SuggestionsState.job_percent, "%")),
            rx.cond(SuggestionsState.job_cases != "", rx.fragment(
                " · ", SuggestionsState.job_cases, " ", t("sugg.result_cases"), " (",
                SuggestionsState.job_new, " ", t("sugg.result_new"), ") · ",
                SuggestionsState.job_suggestions, " ", t("sugg.result_suggestions"))),
            id="digest-job", size="2", role="status"),
        rx.cond(running, rx.progress(value=SuggestionsState.job_percent, max=100,
                                     width="20rem")),
        rx.cond(SuggestionsState.job_error != "", notice(SuggestionsState.job_error)),
        spacing="2",
    ))


def _outcome() -> rx.Component:
    open_link = rx.link(t("sugg.open_article"),
                        href="/admin/kb?edit=" + SuggestionsState.result_entry,
                        id="sugg-open-article")
    return rx.fragment(
        rx.cond(SuggestionsState.info == "accepted_draft", rx.callout(
            rx.hstack(rx.text(t("sugg.accepted_draft")), open_link, spacing="2", wrap="wrap"),
            icon="info", color_scheme="green", role="status", width="100%")),
        rx.cond(SuggestionsState.info == "accepted_phrasings", rx.callout(
            rx.hstack(rx.text(t("sugg.accepted_phrasings")), open_link, spacing="2",
                      wrap="wrap"),
            icon="info", color_scheme="green", role="status", width="100%")),
        rx.cond(SuggestionsState.info == "rejected", notice(t("sugg.rejected"), kind="info")),
    )


def suggestions_view() -> rx.Component:
    running = (SuggestionsState.job_state == "queued") | (SuggestionsState.job_state == "started")
    return page_frame(rx.vstack(
        rx.hstack(
            rx.heading(t("sugg.title"), size="7", as_="h1"),
            rx.spacer(),
            rx.button(t("sugg.run"), on_click=SuggestionsState.run_digest, id="digest-run",
                      disabled=running),
            width="100%", align="center", wrap="wrap",
        ),
        rx.text(t("sugg.intro"), size="2", color_scheme="gray"),
        _job(),
        rx.cond(SuggestionsState.error != "", notice(SuggestionsState.error)),
        _outcome(),
        rx.text(SuggestionsState.total, " ", t("sugg.pending"), size="2", color_scheme="gray",
                id="sugg-total"),
        rx.cond(SuggestionsState.items.length() > 0,
                rx.vstack(rx.foreach(SuggestionsState.items, _item), width="100%", spacing="3"),
                rx.text(t("sugg.empty"), color_scheme="gray", id="sugg-empty")),
        spacing="4", width="100%",
    ))


ON_LOAD = [SessionState.require_admin, SuggestionsState.load]
