"""`/tickets`: a logged-in user's own tickets and their conversations."""

from __future__ import annotations

from typing import Any

import reflex as rx

from supportbot.db import session_scope
from supportbot.errors import ServiceError
from supportbot.services import tickets
from supportbot.ui.components.layout import notice, page_frame
from supportbot.ui.i18n import t
from supportbot.ui.state import SessionState
from supportbot.ui.translate import service_message


class MyTicketsState(rx.State):
    rows: list[dict[str, str]] = []
    selected: str = ""
    messages: list[dict[str, Any]] = []
    error: str = ""

    async def _user(self):  # noqa: ANN202
        return (await self.get_state(SessionState)).current_user()

    @rx.event
    async def load(self) -> None:
        user = await self._user()
        self.selected, self.messages, self.error = "", [], ""
        if user is None:
            self.rows = []
            return
        with session_scope() as session:
            found, _ = tickets.list_tickets(session, user, limit=100, mine=True)
            self.rows = [{"id": str(x.id), "reference": x.reference, "title": x.title,
                          "status": x.status, "created": x.created_at.strftime("%Y-%m-%d %H:%M")}
                         for x in found]

    @rx.event
    async def open_ticket(self, ticket_id: str) -> None:
        user = await self._user()
        try:
            with session_scope() as session:
                ticket = tickets.view_ticket(session, user, ticket_id)  # own tickets only
                self.messages = [{"sender": m.sender_type, "text": m.text,
                                  "time": m.created_at.strftime("%Y-%m-%d %H:%M")}
                                 for m in tickets.ticket_messages(session, user, ticket)]
                self.selected = ticket.reference
        except ServiceError as error:
            self.error = service_message(error.message, (await self.get_state(SessionState)).lang)


def _row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.button(row["reference"], variant="ghost",
                                on_click=MyTicketsState.open_ticket(row["id"].to(str)))),
        rx.table.cell(row["title"]),
        rx.table.cell(rx.match(row["status"], ("open", t("desk.open")),
                               ("in_progress", t("desk.in_progress")),
                               ("waiting", t("desk.waiting")), t("desk.closed"))),
        rx.table.cell(row["created"]),
        class_name="my-ticket",
    )


def _message(message: rx.Var) -> rx.Component:
    return rx.box(
        rx.text(rx.match(message["sender"], ("user", t("chat.you")),
                         ("agent", t("chat.agent")), t("chat.bot")),
                " · ", message["time"], size="1", weight="bold", color_scheme="gray"),
        rx.text(message["text"], white_space="pre-wrap"),
        class_name="my-ticket-message", background="var(--gray-3)", border_radius="8px",
        padding="0.5rem 0.75rem", width="100%",
    )


def my_tickets_view() -> rx.Component:
    return page_frame(rx.vstack(
        rx.heading(t("tickets.title"), size="7", as_="h1"),
        rx.cond(MyTicketsState.error != "", notice(MyTicketsState.error)),
        rx.cond(
            MyTicketsState.rows.length() > 0,
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(t(f"desk.col_{c}"))
                                               for c in ("ref", "title", "status",
                                                         "created")])),
                rx.table.body(rx.foreach(MyTicketsState.rows, _row)),
                width="100%",
            ),
            rx.text(t("tickets.empty"), color_scheme="gray"),
        ),
        rx.cond(MyTicketsState.selected != "", rx.vstack(
            rx.heading(MyTicketsState.selected, size="4", as_="h2"),
            rx.foreach(MyTicketsState.messages, _message),
            width="100%", spacing="2", id="my-ticket-transcript",
        )),
        spacing="4", width="100%",
    ))


ON_LOAD = [SessionState.require_login, MyTicketsState.load]
