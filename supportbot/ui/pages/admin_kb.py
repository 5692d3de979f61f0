"""`/admin/kb`: the knowledge base for admins: list, create, edit (draft / publish),
version history, delete, and the reindex job with its progress.

Saving goes through `services.knowledge`, which versions the article, audits it and
queues the incremental reindex after the commit. An edit made against an older version
than the one stored is refused (someone else saved meanwhile) and keeps what was typed.
"""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx

from supportbot.db import session_scope
from supportbot.errors import NotAuthenticated, ServiceError
from supportbot.jobs.queue import enqueue, job_status
from supportbot.models import Role
from supportbot.services import feedback_review, knowledge
from supportbot.ui.components.layout import notice, page_frame
from supportbot.ui.i18n import t
from supportbot.ui.state import SessionState, acting_user
from supportbot.ui.translate import service_message

FIELDS = ("title", "problem", "solution", "tags", "locale", "phrasings", "status")
EMPTY = {"id": "", "version": "", "title": "", "problem": "", "solution": "", "tags": "",
         "locale": "en", "phrasings": "", "status": "draft"}


def entry_form(entry) -> dict[str, str]:  # noqa: ANN001
    return {"id": str(entry.id), "version": str(entry.version), "title": entry.title,
            "problem": entry.problem, "solution": entry.solution,
            "tags": ", ".join(entry.tags), "locale": entry.locale,
            "phrasings": "\n".join(entry.alternative_phrasings), "status": entry.status}


def draft_from(form: dict[str, Any]) -> knowledge.ArticleDraft:
    return knowledge.ArticleDraft(
        title=str(form.get("title", "")), problem=str(form.get("problem", "")),
        solution=str(form.get("solution", "")),
        tags=[tag for tag in str(form.get("tags", "")).split(",") if tag.strip()],
        locale=str(form.get("locale", "en")),
        phrasings=[p for p in str(form.get("phrasings", "")).splitlines() if p.strip()],
        status=str(form.get("status", "draft")))


class KbAdminState(rx.State):
    query: str = ""
    status_filter: str = "all"
    rows: list[dict[str, str]] = []
    total: int = 0
    form: dict[str, str] = dict(EMPTY)
    editing: bool = False
    history: list[dict[str, str]] = []
    ratings: dict[str, str] = {}  # the edited article's helpful / not_helpful counts
    field_errors: dict[str, str] = {}
    error: str = ""
    info: str = ""
    job: str = ""
    job_state: str = ""
    job_result: str = ""

    async def _admin(self):  # noqa: ANN202
        return await acting_user(self, Role.admin)

    async def _lang(self) -> str:
        return (await self.get_state(SessionState)).lang

    async def _list(self) -> None:
        admin = await self._admin()
        with session_scope() as session:
            found, self.total = knowledge.list_entries(
                session, admin, text=self.query,
                status=None if self.status_filter == "all" else self.status_filter, limit=100)
            ratings = feedback_review.article_ratings(session, [e.id for e in found])
            none = feedback_review.ArticleRatings()
            self.rows = [{"id": str(e.id), "title": e.title, "locale": e.locale,
                          "status": e.status, "version": str(e.version),
                          "updated": e.updated_at.strftime("%Y-%m-%d %H:%M"),
                          "helpful": str(ratings.get(str(e.id), none).helpful),
                          "not_helpful": str(ratings.get(str(e.id), none).not_helpful)}
                         for e in found]

    @rx.event
    async def load(self) -> None:
        self.error = self.info = ""
        self.editing, self.form, self.field_errors, self.history = False, dict(EMPTY), {}, []
        try:
            await self._list()
        except (ServiceError, NotAuthenticated):
            self.rows, self.total = [], 0
            return
        wanted = self.router.url.query_parameters.get("edit", "")
        if wanted:  # e.g. a draft just made from feedback
            await self.edit(wanted)

    @rx.event
    async def search(self, form: dict[str, Any]) -> None:
        self.query = str(form.get("q", ""))[:200]
        self.status_filter = str(form.get("status_filter") or "all")
        try:
            await self._list()
        except ServiceError as error:
            self.rows, self.total = [], 0
            self.error = service_message(error.message, await self._lang())

    @rx.event
    def new(self) -> None:
        self.form, self.editing, self.field_errors, self.history = dict(EMPTY), True, {}, []
        self.ratings = {}
        self.error = self.info = ""

    @rx.event
    async def edit(self, entry_id: str) -> None:
        try:
            await self._admin()
            with session_scope() as session:
                entry = knowledge.get_entry(session, entry_id)
                self.form = entry_form(entry)
                counts = feedback_review.ratings_of(session, entry.id)
                self.ratings = {"helpful": str(counts.helpful),
                                "not_helpful": str(counts.not_helpful)}
                self.history = [{"version": str(v.version), "title": v.title,
                                 "status": v.status,
                                 "when": v.created_at.strftime("%Y-%m-%d %H:%M")}
                                for v in reversed(knowledge.history(session, entry.id))]
            self.editing, self.field_errors, self.error, self.info = True, {}, "", ""
        except ServiceError as error:
            self.error = service_message(error.message, await self._lang())

    @rx.event
    async def save(self, form: dict[str, Any]) -> None:
        lang = await self._lang()
        self.form = {**self.form, **{k: str(form.get(k, "")) for k in FIELDS}}
        try:
            admin = await self._admin()
            with session_scope() as session:
                if self.form["id"]:
                    entry = knowledge.update_entry(
                        session, admin, self.form["id"], draft_from(form),
                        expected_version=int(self.form["version"]))
                else:
                    entry = knowledge.create_entry(session, admin, draft_from(form))
                session.flush()
                self.form = entry_form(entry)
            self.field_errors, self.error = {}, ""
            self.info = "saved"
            await self._list()
            await self.edit(self.form["id"])
            self.info = "saved"
        except ServiceError as error:
            self.info = ""
            self.error = service_message(error.message, lang)
            self.field_errors = {k: service_message(v, lang) for k, v in error.fields.items()}

    @rx.event
    async def delete(self) -> None:
        try:
            admin = await self._admin()
            with session_scope() as session:
                knowledge.delete_entry(session, admin, self.form["id"])
            self.editing, self.form, self.history = False, dict(EMPTY), []
            self.info = "deleted"
            await self._list()
        except ServiceError as error:
            self.error = service_message(error.message, await self._lang())

    @rx.event
    async def reindex(self):  # noqa: ANN201
        from supportbot.jobs.reindex import rebuild_index

        try:
            await self._admin()
        except (ServiceError, NotAuthenticated):
            return None
        self.job = enqueue(rebuild_index)
        self.job_state, self.job_result = "queued", ""
        return KbAdminState.follow_job

    @rx.event(background=True)
    async def follow_job(self) -> None:
        """Show the job's state until it ends (RQ or in-process, same status)."""
        for _ in range(1800):
            async with self:
                job_id = self.job
            status = await asyncio.to_thread(job_status, job_id) if job_id else None
            async with self:
                if status is None or self.job != job_id:
                    return
                self.job_state = status.state
                if status.state in ("finished", "failed"):
                    result = status.result if isinstance(status.result, dict) else {}
                    self.job_result = status.error or (
                        result.get("skipped") or
                        f"{result.get('articles', '?')} articles, "
                        f"{result.get('passages', '?')} passages, "
                        f"{result.get('embedded_passages', '?')} embedded")
                    return
            await asyncio.sleep(1)


# -- view ------------------------------------------------------------------------------

def _input(name: str, label_key: str, *, area: bool = False, rows: str = "4") -> rx.Component:
    control = (rx.text_area(name=name, id=f"kb-{name}", default_value=KbAdminState.form[name],
                            rows=rows, width="100%")
               if area else rx.input(name=name, id=f"kb-{name}",
                                     default_value=KbAdminState.form[name], width="100%"))
    return rx.vstack(
        rx.el.label(t(label_key), html_for=f"kb-{name}", font_weight="bold"),
        control,
        rx.cond(KbAdminState.field_errors.contains(name),
                rx.text(KbAdminState.field_errors[name], color_scheme="red", size="2",
                        class_name="field-error")),
        width="100%", spacing="1",
    )


def _choice(name: str, label_key: str, options: list[tuple[str, str]]) -> rx.Component:
    return rx.vstack(
        rx.el.label(t(label_key), html_for=f"kb-{name}", font_weight="bold"),
        rx.el.select(*[rx.el.option(t(text_key), value=value) for value, text_key in options],
                     name=name, id=f"kb-{name}", default_value=KbAdminState.form[name]),
        spacing="1",
    )


def _editor() -> rx.Component:
    return rx.card(rx.form(
        rx.vstack(
            rx.heading(rx.cond(KbAdminState.form["id"] != "", t("kbadmin.edit"),
                               t("kbadmin.new")), size="5"),
            rx.cond(KbAdminState.form["id"] != "",
                    rx.text(t("kb.version"), " ", KbAdminState.form["version"], size="2",
                            color_scheme="gray", id="kb-version")),
            rx.cond(KbAdminState.ratings.contains("helpful"), rx.text(
                t("kbadmin.ratings"), ": ", KbAdminState.ratings["helpful"], " ",
                t("kbadmin.helpful"), " · ", KbAdminState.ratings["not_helpful"], " ",
                t("kbadmin.not_helpful"), size="2", color_scheme="gray", id="kb-ratings")),
            _input("title", "kbadmin.title"),
            _input("problem", "kb.problem", area=True),
            _input("solution", "kb.solution", area=True, rows="8"),
            _input("phrasings", "kbadmin.phrasings", area=True),
            _input("tags", "kbadmin.tags"),
            rx.hstack(
                _choice("locale", "kbadmin.locale", [("en", "kb.lang_en"), ("es", "kb.lang_es")]),
                _choice("status", "kbadmin.status", [("draft", "kbadmin.draft"),
                                                     ("published", "kbadmin.published")]),
                spacing="5",
            ),
            rx.hstack(
                rx.button(t("kbadmin.save"), type="submit"),
                rx.cond(KbAdminState.form["id"] != "", rx.alert_dialog.root(
                    rx.alert_dialog.trigger(rx.button(t("kbadmin.delete"), color_scheme="red",
                                                      variant="soft", type="button")),
                    rx.alert_dialog.content(
                        rx.alert_dialog.title(t("kbadmin.delete_confirm")),
                        rx.hstack(
                            rx.alert_dialog.cancel(rx.button(t("kbadmin.cancel"),
                                                             variant="soft")),
                            rx.alert_dialog.action(rx.button(
                                t("kbadmin.delete"), color_scheme="red",
                                on_click=KbAdminState.delete)),
                            spacing="3", justify="end",
                        ),
                    ),
                )),
                spacing="3",
            ),
            rx.cond(KbAdminState.history.length() > 0, rx.vstack(
                rx.heading(t("kbadmin.history"), size="3"),
                rx.foreach(KbAdminState.history, lambda v: rx.text(
                    "v", v["version"], " · ", v["when"], " · ", v["status"], " · ", v["title"],
                    size="2", class_name="kb-history")),
                spacing="1",
            )),
            spacing="3", width="100%",
        ),
        on_submit=KbAdminState.save, reset_on_submit=False,
        key=KbAdminState.form["id"] + KbAdminState.form["version"],
    ), width="100%")


def _row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.button(row["title"], variant="ghost",
                                on_click=KbAdminState.edit(row["id"].to(str)))),
        rx.table.cell(row["locale"]),
        rx.table.cell(rx.badge(row["status"], color_scheme=rx.cond(
            row["status"] == "published", "green", "gray"))),
        rx.table.cell(row["version"]),
        rx.table.cell(row["updated"]),
        rx.table.cell(rx.hstack(
            rx.icon("thumbs-up", size=14), rx.text(row["helpful"], size="2"),
            rx.icon("thumbs-down", size=14), rx.text(row["not_helpful"], size="2"),
            spacing="1", align="center", class_name="kb-ratings",
            title=t("kbadmin.ratings"))),
        class_name="kb-row",
    )


def kb_admin_view() -> rx.Component:
    return page_frame(rx.vstack(
        rx.hstack(
            rx.heading(t("kbadmin.title_page"), size="7", as_="h1"),
            rx.spacer(),
            rx.button(t("kbadmin.new"), on_click=KbAdminState.new),
            rx.button(t("kbadmin.reindex"), variant="soft", on_click=KbAdminState.reindex),
            rx.link(rx.button(t("kbadmin.finetune"), variant="soft"), href="/admin/models"),
            width="100%", align="center",
        ),
        rx.cond(KbAdminState.job != "", rx.text(
            t("kbadmin.job"), ": ", KbAdminState.job_state, " ", KbAdminState.job_result,
            id="kb-job", size="2")),
        rx.cond(KbAdminState.error != "", notice(KbAdminState.error)),
        rx.cond(KbAdminState.info == "saved", notice(t("kbadmin.saved"), kind="info")),
        rx.cond(KbAdminState.info == "deleted", notice(t("kbadmin.deleted"), kind="info")),
        rx.cond(KbAdminState.editing, _editor()),
        rx.form(rx.hstack(
            rx.input(name="q", placeholder=t("kb.search"), default_value=KbAdminState.query),
            rx.el.select(rx.el.option(t("desk.all"), value="all"),
                         rx.el.option(t("kbadmin.draft"), value="draft"),
                         rx.el.option(t("kbadmin.published"), value="published"),
                         name="status_filter", aria_label=t("kbadmin.status")),
            rx.button(t("kb.search_button"), type="submit"),
        ), on_submit=KbAdminState.search),
        rx.text(KbAdminState.total, " ", t("kb.count"), size="2", color_scheme="gray"),
        rx.table.root(rx.table.body(rx.foreach(KbAdminState.rows, _row)), width="100%"),
        spacing="4", width="100%",
    ))


ON_LOAD = [SessionState.require_admin, KbAdminState.load]
