"""`/admin/feedback`: unhelpful answers to review; turn one into a draft KB article."""

from __future__ import annotations

import reflex as rx

from supportbot.db import session_scope
from supportbot.errors import NotAuthenticated, ServiceError
from supportbot.models import Role
from supportbot.services import feedback_review
from supportbot.ui.components.layout import notice, page_frame
from supportbot.ui.i18n import t
from supportbot.ui.state import SessionState, acting_user
from supportbot.ui.translate import service_message


class FeedbackState(rx.State):
    items: list[dict[str, str]] = []
    error: str = ""

    async def _admin(self):  # noqa: ANN202
        return await acting_user(self, Role.admin)

    async def _list(self) -> None:
        admin = await self._admin()
        with session_scope() as session:
            self.items = [{
                "id": str(item.feedback.id), "question": item.question,
                "cited": ", ".join(item.cited), "comment": item.feedback.comment,
                "replies": "\n".join(item.agent_replies), "language": item.language,
                "when": item.feedback.created_at.strftime("%Y-%m-%d %H:%M"),
            } for item in feedback_review.pending(session, admin)]

    @rx.event
    async def load(self) -> None:
        self.error = ""
        try:
            await self._list()
        except (ServiceError, NotAuthenticated):
            self.items = []

    @rx.event
    async def to_kb(self, feedback_id: str):  # noqa: ANN201
        try:
            admin = await self._admin()
            with session_scope() as session:
                entry = feedback_review.to_kb_draft(session, admin, feedback_id)
                session.flush()
                entry_id = str(entry.id)
        except ServiceError as error:
            self.error = service_message(error.message, (await self.get_state(SessionState)).lang)
            return None
        return rx.redirect(f"/admin/kb?edit={entry_id}")

    @rx.event
    async def dismiss(self, feedback_id: str) -> None:
        try:
            admin = await self._admin()
            with session_scope() as session:
                feedback_review.dismiss(session, admin, feedback_id)
            await self._list()
        except ServiceError as error:
            self.error = service_message(error.message, (await self.get_state(SessionState)).lang)


def _item(item: rx.Var) -> rx.Component:
    return rx.card(rx.vstack(
        rx.text(item["when"], " · ", item["language"], size="1", color_scheme="gray"),
        rx.text(t("feedback.asked"), ": ", rx.text.strong(item["question"])),
        rx.text(t("feedback.cited"), ": ", item["cited"], size="2"),
        rx.cond(item["comment"] != "", rx.text(t("feedback.comment"), ": ", item["comment"],
                                               size="2")),
        rx.cond(item["replies"] != "", rx.text(t("feedback.replies"), ": ", item["replies"],
                                               size="2", white_space="pre-wrap")),
        rx.hstack(
            rx.button(t("feedback.to_kb"), on_click=FeedbackState.to_kb(item["id"].to(str))),
            rx.button(t("feedback.dismiss"), variant="soft", color_scheme="gray",
                      on_click=FeedbackState.dismiss(item["id"].to(str))),
            spacing="3",
        ),
        spacing="2", align="start",
    ), width="100%", class_name="feedback-item")


def feedback_view() -> rx.Component:
    return page_frame(rx.vstack(
        rx.heading(t("feedback.title"), size="7", as_="h1"),
        rx.link(rx.hstack(rx.icon("lightbulb", size=16), t("feedback.to_suggestions"),
                          align="center", spacing="1"), href="/admin/suggestions"),
        rx.cond(FeedbackState.error != "", notice(FeedbackState.error)),
        rx.cond(FeedbackState.items.length() > 0,
                rx.vstack(rx.foreach(FeedbackState.items, _item), width="100%", spacing="3"),
                rx.text(t("feedback.empty"), color_scheme="gray")),
        spacing="4", width="100%",
    ))


ON_LOAD = [SessionState.require_admin, FeedbackState.load]
