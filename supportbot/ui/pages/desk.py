"""The agent desk: the ticket queue (`/desk`) and one ticket (`/desk/[ticket_id]`).

Agents and admins only: the pages send others away on load, and every handler acts as the
user of the request's cookie, so the services refuse a crafted event from anyone else.
The queue re-reads itself every few seconds while open, so new tickets appear without a
reload; the ticket page does the same for the conversation.
"""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx

from supportbot.db import session_scope
from supportbot.errors import NotAuthenticated, ServiceError
from supportbot.models import (
    EscalationReason,
    Message,
    Role,
    SenderType,
    Ticket,
    TicketPriority,
    TicketStatus,
    User,
)
from supportbot.services import tickets
from supportbot.ui.components.layout import notice, page_frame
from supportbot.ui.i18n import t
from supportbot.ui.state import SessionState, acting_user
from supportbot.ui.translate import service_message

PAGE_SIZE = 25
REFRESH_SECONDS = 3.0
REFRESH_MINUTES = 60
STATUSES = [s.value for s in TicketStatus]
PRIORITIES = [p.value for p in TicketPriority]
REASONS = [r.value for r in EscalationReason]
SENDERS = [s.value for s in SenderType]
NOBODY = "none"  # the assignee select's value for an unassigned ticket


def ticket_row(ticket: Ticket, names: dict[Any, str]) -> dict[str, str]:
    return {"id": str(ticket.id), "reference": ticket.reference, "title": ticket.title,
            "status": ticket.status, "priority": ticket.priority, "queue": ticket.queue,
            "tags": ", ".join(ticket.tags), "reason": ticket.escalation_reason or "",
            "assignee": names.get(ticket.assignee_id, ""),
            "assignee_id": str(ticket.assignee_id) if ticket.assignee_id else NOBODY,
            "created": ticket.created_at.strftime("%Y-%m-%d %H:%M")}


def _names(session, ids) -> dict[Any, str]:  # noqa: ANN001
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    from sqlmodel import col, select

    rows = session.exec(select(User.id, User.username).where(col(User.id).in_(wanted))).all()
    return dict(rows)


class _AgentState(rx.State):
    """Shared by the desk states: the acting user, checked on every event, and the loop
    that keeps an open page fresh."""

    error: str = ""
    _watching: bool = False

    async def _refresh(self) -> None:
        raise NotImplementedError

    def _still_here(self) -> bool:
        raise NotImplementedError

    async def _keep_fresh(self) -> None:
        """Re-read the page's data every REFRESH_SECONDS while it stays open (a background
        event's body: new tickets and messages appear without a reload)."""
        async with self:
            if self._watching:
                return
            self._watching = True
        try:
            for _ in range(int(REFRESH_MINUTES * 60 / REFRESH_SECONDS)):
                await asyncio.sleep(REFRESH_SECONDS)
                async with self:
                    if not self._still_here():
                        return
                    try:
                        await self._refresh()
                    except (ServiceError, NotAuthenticated):
                        return
        finally:
            async with self:
                self._watching = False

    async def _actor(self) -> User:
        return await acting_user(self, Role.agent)

    async def _fail(self, error: ServiceError) -> None:
        self.error = service_message(error.message, (await self.get_state(SessionState)).lang)


class DeskState(_AgentState):
    status: str = "open"
    priority: str = "all"
    assignee: str = "all"
    text: str = ""
    queue: str = ""
    tag: str = ""
    page: int = 0
    rows: list[dict[str, str]] = []
    total: int = 0

    def _still_here(self) -> bool:
        return self.router.page.path == "/desk"

    def _filters(self) -> dict[str, Any]:
        return {"status": None if self.status == "all" else self.status,
                "priority": None if self.priority == "all" else self.priority,
                "assignee": None if self.assignee == "all" else self.assignee,
                "queue": self.queue or None, "tag": self.tag or None,
                "text": self.text, "limit": PAGE_SIZE, "offset": self.page * PAGE_SIZE}

    async def _refresh(self) -> None:
        actor = await self._actor()
        with session_scope() as session:
            found, self.total = tickets.list_tickets(session, actor, **self._filters())
            names = _names(session, [t.assignee_id for t in found])
            self.rows = [ticket_row(t, names) for t in found]
        self.error = ""

    @rx.event
    async def load(self):  # noqa: ANN201
        try:
            await self._refresh()
        except NotAuthenticated:
            return rx.redirect("/login?next=/desk")
        except ServiceError as error:
            await self._fail(error)
            return None
        return DeskState.watch

    @rx.event
    async def filter(self, form: dict[str, Any]) -> None:
        self.status = form.get("status") or "all"
        self.priority = form.get("priority") or "all"
        self.assignee = form.get("assignee") or "all"
        self.text = str(form.get("text") or "")[:200]
        self.queue = str(form.get("queue") or "").strip()[:64]
        self.tag = str(form.get("tag") or "").strip()[:40]
        self.page = 0
        await self._show()

    async def _show(self) -> None:
        try:
            await self._refresh()
        except ServiceError as error:
            self.rows, self.total = [], 0
            await self._fail(error)

    @rx.event
    async def set_status_filter(self, value: str) -> None:
        self.status, self.page = value, 0
        await self._show()

    @rx.event
    async def set_priority_filter(self, value: str) -> None:
        self.priority, self.page = value, 0
        await self._show()

    @rx.event
    async def set_assignee_filter(self, value: str) -> None:
        self.assignee, self.page = value, 0
        await self._show()

    @rx.event
    async def turn_page(self, step: int) -> None:
        last = max(0, (self.total - 1) // PAGE_SIZE)
        self.page = min(max(0, self.page + int(step)), last)
        await self._show()

    @rx.var
    def page_label(self) -> str:
        if not self.total:
            return "0"
        first = self.page * PAGE_SIZE + 1
        return f"{first}-{min(self.total, first + PAGE_SIZE - 1)} / {self.total}"

    @rx.event(background=True)
    async def watch(self) -> None:
        await self._keep_fresh()


def message_row(message: Message, names: dict[Any, str]) -> dict[str, Any]:
    return {"id": str(message.id), "sender": message.sender_type, "text": message.text,
            "internal": message.is_internal, "author": names.get(message.sender_id, ""),
            "time": message.created_at.strftime("%H:%M"),
            "citations": ", ".join(str(c.get("title", "")) for c in message.citations)}


class TicketState(_AgentState):
    ticket: dict[str, str] = {}
    note: str = ""
    messages: list[dict[str, Any]] = []
    staff: list[dict[str, str]] = []  # who the ticket can be assigned to: id, username
    found: bool = True
    _watched: str = ""

    def _still_here(self) -> bool:
        return self.ticket_id == self._watched and self.router.page.path.startswith("/desk/")

    @rx.var
    def ticket_id(self) -> str:
        return self.router.page.params.get("ticket_id", "")

    async def _refresh(self) -> None:
        actor = await self._actor()
        with session_scope() as session:
            ticket = tickets.view_ticket(session, actor, self.ticket_id)
            messages = tickets.ticket_messages(session, actor, ticket)
            names = _names(session, [ticket.assignee_id, *(m.sender_id for m in messages)])
            self.ticket = ticket_row(ticket, names)
            self.note = ticket.handoff_note
            self.messages = [message_row(m, names) for m in messages]
            if not self.staff:
                self.staff = [{"id": str(u.id), "username": u.username}
                              for u in tickets.assignable_staff(session, actor)]
        self.found = True

    @rx.event
    async def load(self):  # noqa: ANN201
        self.error = ""
        try:
            await self._refresh()
        except NotAuthenticated:
            return rx.redirect(f"/login?next=/desk/{self.ticket_id}")
        except ServiceError:
            self.found, self.ticket, self.messages, self.note = False, {}, [], ""
            return None
        self._watched = self.ticket_id
        return TicketState.watch

    async def _act(self, action) -> None:  # noqa: ANN001
        try:
            actor = await self._actor()
            with session_scope() as session:
                action(session, actor)
            await self._refresh()
            self.error = ""
        except ServiceError as error:
            await self._fail(error)

    @rx.event
    async def send_reply(self, form: dict[str, Any]):  # noqa: ANN201
        text = str(form.get("reply") or "")
        internal = bool(form.get("internal"))
        before = self.error
        await self._act(lambda s, a: tickets.reply(s, a, self.ticket_id, text, internal=internal))
        if self.error and self.error != before:
            return None
        return rx.set_value("reply-input", "")

    @rx.event
    async def take(self) -> None:
        await self._act(lambda s, a: tickets.take(s, a, self.ticket_id))

    @rx.event
    async def assign(self, value: str) -> None:
        assignee = None if value == NOBODY else value
        await self._act(lambda s, a: tickets.update_ticket(s, a, self.ticket_id,
                                                           assignee_id=assignee))

    @rx.event
    async def save_tags(self, form: dict[str, Any]) -> None:
        tags = [tag for tag in str(form.get("tags") or "").split(",") if tag.strip()]
        await self._act(lambda s, a: tickets.update_ticket(s, a, self.ticket_id, tags=tags))

    @rx.event
    async def set_ticket_status(self, value: str) -> None:
        await self._act(lambda s, a: tickets.update_ticket(s, a, self.ticket_id, status=value))

    @rx.event
    async def set_ticket_priority(self, value: str) -> None:
        await self._act(lambda s, a: tickets.update_ticket(s, a, self.ticket_id, priority=value))

    @rx.event
    async def hand_back(self) -> None:
        await self._act(lambda s, a: tickets.hand_back(s, a, self.ticket_id))

    @rx.event
    async def close_ticket(self) -> None:
        await self._act(lambda s, a: tickets.close(s, a, self.ticket_id))

    @rx.event(background=True)
    async def watch(self) -> None:
        await self._keep_fresh()


# -- view ------------------------------------------------------------------------------

def _select(value: rx.Var, options: list[str], on_change, label_key: str,  # noqa: ANN001
            all_option: bool = True) -> rx.Component:
    items = ([rx.select.item(t("desk.all"), value="all")] if all_option else []) + [
        rx.select.item(t(f"desk.{option}"), value=option) for option in options]
    return rx.select.root(rx.select.trigger(aria_label=t(label_key)),
                          rx.select.content(*items), value=value, on_change=on_change)


def _label(value: rx.Var, prefix: str, options: list[str]) -> rx.Var:
    """A stored value (status, priority, reason, sender) in the page's language."""
    return rx.match(value, *[(option, t(f"{prefix}{option}")) for option in options], value)


def _queue_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(row["reference"], href="/desk/" + row["id"].to(str))),
        rx.table.cell(rx.text(row["title"])),
        rx.table.cell(rx.badge(_label(row["priority"], "desk.", PRIORITIES),
                               color_scheme=rx.match(row["priority"], ("urgent", "red"),
                                                     ("high", "orange"), "gray"))),
        rx.table.cell(_label(row["status"], "desk.", STATUSES)),
        rx.table.cell(row["queue"]),
        rx.table.cell(_label(row["reason"], "reason.", REASONS)),
        rx.table.cell(row["assignee"]),
        rx.table.cell(row["created"]),
        class_name="desk-row",
    )


def desk_view() -> rx.Component:
    return page_frame(rx.vstack(
        rx.heading(t("desk.title"), size="7", as_="h1"),
        rx.hstack(
            _select(DeskState.status, STATUSES, DeskState.set_status_filter, "desk.status"),
            _select(DeskState.priority, PRIORITIES, DeskState.set_priority_filter,
                    "desk.priority"),
            _select(DeskState.assignee, ["me", "none"], DeskState.set_assignee_filter,
                    "desk.assignee"),
            rx.form(rx.hstack(
                rx.input(name="text", placeholder=t("desk.search"), default_value=DeskState.text),
                rx.input(name="queue", placeholder=t("desk.col_queue"), width="8rem",
                         default_value=DeskState.queue, aria_label=t("desk.col_queue")),
                rx.input(name="tag", placeholder=t("desk.tag"), width="8rem",
                         default_value=DeskState.tag, aria_label=t("desk.tag")),
                rx.el.input(type="hidden", name="status", value=DeskState.status),
                rx.el.input(type="hidden", name="priority", value=DeskState.priority),
                rx.el.input(type="hidden", name="assignee", value=DeskState.assignee),
                rx.button(t("kb.search_button"), type="submit"),
            ), on_submit=DeskState.filter),
            wrap="wrap", spacing="3", align="center",
        ),
        rx.cond(DeskState.error != "", notice(DeskState.error)),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(t(f"desk.col_{c}"))
                                           for c in ("ref", "title", "priority", "status",
                                                     "queue", "reason", "assignee",
                                                     "created")])),
            rx.table.body(rx.foreach(DeskState.rows, _queue_row)),
            width="100%",
        ),
        rx.cond(DeskState.total == 0, rx.text(t("desk.empty"), color_scheme="gray")),
        rx.hstack(
            rx.button("‹", variant="soft", on_click=DeskState.turn_page(-1),
                      aria_label=t("desk.previous")),
            rx.text(DeskState.page_label, id="desk-page"),
            rx.button("›", variant="soft", on_click=DeskState.turn_page(1),
                      aria_label=t("desk.next")),
            align="center",
        ),
        spacing="4", width="100%",
    ))


def _desk_message(message: rx.Var) -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.text(_label(message["sender"], "desk.sender_", SENDERS), size="1",
                    weight="bold"),
            rx.text(message["author"], size="1", color_scheme="gray"),
            rx.cond(message["internal"].to(bool), rx.badge(t("desk.internal"),
                                                           color_scheme="amber")),
            rx.text(message["time"], size="1", color_scheme="gray"),
            spacing="2",
        ),
        rx.text(message["text"], white_space="pre-wrap"),
        rx.cond(message["citations"] != "", rx.text(t("chat.sources"), ": ",
                                                     message["citations"], size="1",
                                                     color_scheme="gray")),
        class_name="desk-message",
        data_sender=message["sender"],
        background=rx.cond(message["internal"].to(bool), "var(--amber-3)", "var(--gray-3)"),
        border_radius="8px", padding="0.5rem 0.75rem", width="100%",
    )


def ticket_view() -> rx.Component:
    ticket = TicketState.ticket
    return page_frame(rx.cond(
        TicketState.found,
        rx.vstack(
            rx.link(t("desk.back"), href="/desk"),
            rx.heading(ticket["reference"], " · ", ticket["title"], size="6", as_="h1"),
            rx.hstack(
                _select(ticket["status"], STATUSES, TicketState.set_ticket_status,
                        "desk.status", all_option=False),
                _select(ticket["priority"], PRIORITIES, TicketState.set_ticket_priority,
                        "desk.priority", all_option=False),
                rx.text(t("desk.col_queue"), ": ", ticket["queue"]),
                rx.text(t("desk.col_assignee"), ":"),
                rx.select.root(
                    rx.select.trigger(aria_label=t("desk.assign"), id="ticket-assignee"),
                    rx.select.content(
                        rx.select.item(t("desk.nobody"), value=NOBODY),
                        rx.foreach(TicketState.staff, lambda person: rx.select.item(
                            person["username"], value=person["id"]))),
                    value=ticket["assignee_id"], on_change=TicketState.assign),
                rx.button(t("desk.take"), variant="soft", on_click=TicketState.take),
                rx.button(t("desk.hand_back"), variant="soft", on_click=TicketState.hand_back),
                rx.button(t("desk.close"), color_scheme="gray", on_click=TicketState.close_ticket),
                wrap="wrap", spacing="3", align="center",
            ),
            rx.form(rx.hstack(
                rx.input(name="tags", default_value=ticket["tags"], key=ticket["tags"],
                         placeholder=t("desk.tags"), aria_label=t("desk.tags"),
                         id="ticket-tags", width="20rem", max_length=800),
                rx.button(t("desk.save_tags"), type="submit", variant="soft"),
                align="center", wrap="wrap"), on_submit=TicketState.save_tags,
                reset_on_submit=False),
            rx.cond(TicketState.error != "", notice(TicketState.error)),
            rx.card(rx.heading(t("desk.handoff"), size="3"),
                    rx.text(TicketState.note, white_space="pre-wrap", id="handoff-note"),
                    width="100%"),
            rx.vstack(rx.foreach(TicketState.messages, _desk_message), width="100%",
                      spacing="2", id="transcript"),
            rx.form(
                rx.vstack(
                    rx.text_area(id="reply-input", name="reply", placeholder=t("desk.reply"),
                                 aria_label=t("desk.reply"), width="100%", rows="3"),
                    rx.hstack(
                        rx.checkbox(t("desk.internal_note"), name="internal"),
                        rx.spacer(),
                        rx.button(t("desk.send"), type="submit"),
                        width="100%", align="center",
                    ),
                    width="100%",
                ),
                on_submit=TicketState.send_reply, reset_on_submit=False, width="100%",
            ),
            spacing="4", width="100%",
        ),
        notice(t("desk.not_found")),
    ))


DESK_ON_LOAD = [SessionState.require_agent, DeskState.load]
TICKET_ON_LOAD = [SessionState.require_agent, TicketState.load]
