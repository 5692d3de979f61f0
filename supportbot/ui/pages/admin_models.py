"""`/admin/models`: the search model. Fine-tune it on the KB (a background job whose stage
and progress show live), see every kept version with its figures on held-out phrasings,
activate one or roll back. Admins only; `services.finetune` decides and records.
"""

from __future__ import annotations

import asyncio

import reflex as rx

from supportbot.db import session_scope
from supportbot.errors import ServiceError
from supportbot.jobs.finetune import schedule_finetune
from supportbot.jobs.queue import job_status
from supportbot.models import Role
from supportbot.services import finetune
from supportbot.ui.components.layout import notice, page_frame
from supportbot.ui.i18n import t
from supportbot.ui.state import SessionState, acting_user
from supportbot.ui.translate import service_message


def _figure(figures: object, key: str) -> str:
    value = figures.get(key) if isinstance(figures, dict) else None
    return f"{value:.3f}" if isinstance(value, int | float) else "–"


def version_rows() -> list[dict[str, str]]:
    """Newest first, as the page shows them."""
    rows = []
    for row in reversed(finetune.describe()):
        created = str(row.get("created_at") or "")[:16].replace("T", " ")
        rows.append({
            "version": str(row["version"]), "created": created,
            "active": "yes" if row["active"] else "",
            "decision": str(row.get("decision") or ""),
            "r1_before": _figure(row.get("dev_current"), "recall_at_1"),
            "r1_after": _figure(row.get("dev_candidate"), "recall_at_1"),
            "mrr_before": _figure(row.get("dev_current"), "mrr"),
            "mrr_after": _figure(row.get("dev_candidate"), "mrr"),
            "dev": str(row.get("dev_queries") or ""),
        })
    return rows


class ModelsState(rx.State):
    rows: list[dict[str, str]] = []
    error: str = ""
    info: str = ""
    job: str = ""
    job_state: str = ""
    job_stage: str = ""
    job_percent: int = 0
    job_decision: str = ""
    job_error: str = ""

    async def _lang(self) -> str:
        return (await self.get_state(SessionState)).lang

    async def _refresh(self) -> None:
        self.rows = await asyncio.to_thread(version_rows)

    @rx.event
    async def load(self) -> None:
        self.error = self.info = ""
        try:
            await acting_user(self, Role.admin)
        except ServiceError:
            self.rows = []
            return
        await self._refresh()

    @rx.event
    async def start(self):  # noqa: ANN201
        self.error = self.info = ""
        try:
            admin = await acting_user(self, Role.admin)
        except ServiceError as error:
            self.error = service_message(error.message, await self._lang())
            return None
        self.job = schedule_finetune(actor_id=str(admin.id))
        self.job_state, self.job_stage, self.job_percent = "queued", "", 0
        self.job_decision = self.job_error = ""
        return ModelsState.follow_job

    @rx.event(background=True)
    async def follow_job(self) -> None:
        """Show the job's stage and progress until it ends (RQ or in-process)."""
        for _ in range(7200):
            async with self:
                job_id = self.job
            status = await asyncio.to_thread(job_status, job_id) if job_id else None
            async with self:
                if status is None or self.job != job_id:
                    return
                self.job_state = status.state
                self.job_stage = str(status.meta.get("stage", ""))
                self.job_percent = int(float(status.meta.get("done", 0)) * 100)
                if status.state in ("finished", "failed"):
                    result = status.result if isinstance(status.result, dict) else {}
                    self.job_decision = str(result.get("decision", ""))
                    message = (status.error or "").split(": ", 1)[-1]
                    self.job_error = service_message(message, await self._lang()) \
                        if message else ""
                    await self._refresh()
                    return
            await asyncio.sleep(1)

    @rx.event
    async def activate(self, version: str) -> None:
        await self._change(lambda session, admin: finetune.activate(session, admin, version))

    @rx.event
    async def rollback(self) -> None:
        await self._change(finetune.rollback)

    async def _change(self, action) -> None:  # noqa: ANN001
        self.error = self.info = ""
        try:
            admin = await acting_user(self, Role.admin)
            with session_scope() as session:
                action(session, admin)
        except ServiceError as error:
            self.error = service_message(error.message, await self._lang())
            return
        self.info = "activated"
        await self._refresh()


def _row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["created"]),
        rx.table.cell(rx.cond(row["version"] == "base", t("models.base"), t("models.tuned"))),
        rx.table.cell(row["r1_before"], " → ", row["r1_after"]),
        rx.table.cell(row["mrr_before"], " → ", row["mrr_after"]),
        rx.table.cell(row["dev"]),
        rx.table.cell(rx.match(row["decision"],
                               ("activated", t("models.decision_activated")),
                               ("not_better", t("models.decision_not_better")),
                               ("recall_down", t("models.decision_recall_down")),
                               "")),
        rx.table.cell(rx.cond(
            row["active"] == "yes",
            rx.badge(t("models.in_use"), color_scheme="green"),
            rx.button(t("models.activate"), size="1", variant="soft",
                      on_click=ModelsState.activate(row["version"])))),
        class_name="model-row",
    )


def models_view() -> rx.Component:
    return page_frame(rx.vstack(
        rx.heading(t("models.title"), size="7", as_="h1"),
        rx.text(t("models.intro")),
        rx.hstack(
            rx.button(t("models.finetune"), on_click=ModelsState.start, id="finetune",
                      disabled=(ModelsState.job_state == "queued")
                      | (ModelsState.job_state == "started")),
            rx.button(t("models.rollback"), variant="soft", on_click=ModelsState.rollback),
            spacing="3",
        ),
        rx.cond(ModelsState.job != "", rx.vstack(
            rx.text(t("models.job"), ": ", rx.match(
                ModelsState.job_state, ("queued", t("models.state_queued")),
                ("started", t("models.state_started")),
                ("finished", t("models.state_finished")),
                ("failed", t("models.state_failed")), ModelsState.job_state),
                rx.cond(ModelsState.job_state == "started", rx.fragment(
                    " · ", rx.match(ModelsState.job_stage,
                                    ("train", t("models.stage_train")),
                                    ("evaluate", t("models.stage_evaluate")),
                                    ("reindex", t("models.stage_reindex")), ""),
                    " ", ModelsState.job_percent, "%")),
                id="finetune-job", size="2", role="status"),
            rx.cond(ModelsState.job_state == "started",
                    rx.progress(value=ModelsState.job_percent, max=100, width="20rem")),
            rx.match(ModelsState.job_decision,
                     ("activated", notice(t("models.result_activated"), kind="info")),
                     ("not_better", notice(t("models.result_kept"), kind="info")),
                     ("recall_down", notice(t("models.result_kept"), kind="info")),
                     rx.fragment()),
            rx.cond(ModelsState.job_error != "", notice(ModelsState.job_error)),
            spacing="2",
        )),
        rx.cond(ModelsState.error != "", notice(ModelsState.error)),
        rx.cond(ModelsState.info == "activated", notice(t("models.switched"), kind="info")),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(t(key)) for key in (
                "models.created", "models.kind", "models.r1", "models.mrr", "models.dev",
                "models.decision", "models.state")])),
            rx.table.body(rx.foreach(ModelsState.rows, _row)),
            width="100%",
        ),
        rx.text(t("models.how"), size="2", color_scheme="gray"),
        spacing="4", width="100%",
    ))


ON_LOAD = [SessionState.require_admin, ModelsState.load]
