"""`/api/tickets/`: open, list, read, change, answer and close tickets.

Users see and change only the tickets they opened (anyone else's is 404); agents and
admins see every ticket, internal notes and handoff notes included. Which fields each
role may change is decided by `services.requester.change_ticket`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from supportbot.api.deps import CurrentUser, DbSession, Pagination
from supportbot.api.schemas import Page, UtcDatetime, error_responses
from supportbot.models import Message, Role, Ticket, TicketPriority, TicketStatus, User
from supportbot.services import requester, tickets
from supportbot.services.permissions import has_role

router = APIRouter(prefix="/api/tickets", tags=["tickets"],
                   responses=error_responses(401, 403, 404, 409, 413, 422, 429))

Tag = Annotated[str, Field(max_length=40)]


class TicketIn(BaseModel):
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=4000)
    priority: TicketPriority | None = Field(default=None, description="Agents and admins.")
    tags: list[Tag] | None = Field(default=None, max_length=20,
                                   description="Agents and admins.")


class TicketPatch(BaseModel):
    """Only the fields sent are changed. Users: title, description (their own tickets);
    agents and admins: every field (`assignee_id: null` unassigns)."""

    title: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=4000)
    status: TicketStatus | None = None
    priority: TicketPriority | None = None
    assignee_id: uuid.UUID | None = None
    tags: list[Tag] | None = Field(default=None, max_length=20)


class TicketMessageIn(BaseModel):
    text: str = Field(max_length=4000)
    internal: bool = Field(default=False, description="An internal note (agents and admins).")


class TicketOut(BaseModel):
    id: uuid.UUID
    reference: str
    title: str
    description: str
    status: TicketStatus
    priority: TicketPriority
    queue: str
    tags: list[str]
    creator_id: uuid.UUID | None
    assignee_id: uuid.UUID | None
    escalation_reason: str | None
    handoff_note: str | None = Field(description="For agents and admins; null for users.")
    created_at: UtcDatetime
    updated_at: UtcDatetime
    closed_at: UtcDatetime | None


class TicketMessageOut(BaseModel):
    id: uuid.UUID
    sender: str = Field(description="user, bot, agent or system.")
    sender_id: uuid.UUID | None
    text: str
    internal: bool
    citations: list[dict[str, object]]
    created_at: UtcDatetime


class TicketDetailOut(TicketOut):
    messages: list[TicketMessageOut]


def ticket_out(ticket: Ticket, viewer: User) -> TicketOut:
    agent = has_role(viewer, Role.agent)
    return TicketOut(
        id=ticket.id, reference=ticket.reference, title=ticket.title,
        description=ticket.description, status=ticket.status, priority=ticket.priority,
        queue=ticket.queue, tags=list(ticket.tags), creator_id=ticket.creator_id,
        assignee_id=ticket.assignee_id, escalation_reason=ticket.escalation_reason,
        handoff_note=ticket.handoff_note if agent else None, created_at=ticket.created_at,
        updated_at=ticket.updated_at, closed_at=ticket.closed_at)


def message_out(message: Message) -> TicketMessageOut:
    return TicketMessageOut(id=message.id, sender=message.sender_type,
                            sender_id=message.sender_id, text=message.text,
                            internal=message.is_internal, citations=list(message.citations),
                            created_at=message.created_at)


@router.post("/", status_code=status.HTTP_201_CREATED, response_model=TicketOut)
def open_ticket(body: TicketIn, user: CurrentUser, session: DbSession) -> TicketOut:
    """Open a ticket for people to work on (any logged-in account)."""
    ticket = requester.open_ticket(
        session, user, title=body.title, description=body.description,
        priority=body.priority.value if body.priority else None, tags=body.tags)
    return ticket_out(ticket, user)


@router.get("/", response_model=Page[TicketOut])
def list_tickets(
    user: CurrentUser,
    session: DbSession,
    pages: Pagination,
    status: TicketStatus | None = None,  # noqa: A002 - the field's name
    priority: TicketPriority | None = None,
    tag: Annotated[str | None, Query(max_length=40)] = None,
    queue: Annotated[str | None, Query(max_length=64)] = None,
    assignee: Annotated[str | None, Query(
        max_length=36, description='A user id, "me" or "none".')] = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    q: Annotated[str, Query(max_length=200, description="Text in the title, reference "
                                                        "or handoff note.")] = "",
) -> Page[TicketOut]:
    """Tickets newest first: a user's own, or every ticket for agents and admins."""
    found, total = tickets.list_tickets(
        session, user, status=status.value if status else None,
        priority=priority.value if priority else None, queue=queue, tag=tag,
        assignee=assignee, text=q, limit=pages.page_size, offset=pages.offset,
        created_from=created_from, created_to=created_to)
    return Page[TicketOut](items=[ticket_out(t, user) for t in found], total=total,
                           page=pages.page, page_size=pages.page_size)


@router.get("/{ticket_id}/", response_model=TicketDetailOut)
def get_ticket(ticket_id: str, user: CurrentUser, session: DbSession) -> TicketDetailOut:
    """A ticket with its conversation (internal notes for agents and admins only)."""
    ticket = tickets.view_ticket(session, user, ticket_id)
    messages = tickets.ticket_messages(session, user, ticket)
    return TicketDetailOut(**ticket_out(ticket, user).model_dump(),
                           messages=[message_out(m) for m in messages])


@router.patch("/{ticket_id}/", response_model=TicketOut)
def change_ticket(ticket_id: str, body: TicketPatch, user: CurrentUser,
                  session: DbSession) -> TicketOut:
    """Change the fields sent; 403 names the fields the caller's role may not change."""
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    for name in ("status", "priority"):
        if changes.get(name) is not None:
            changes[name] = changes[name].value
    ticket = requester.change_ticket(session, user, ticket_id, changes)
    return ticket_out(ticket, user)


@router.post("/{ticket_id}/messages/", status_code=status.HTTP_201_CREATED,
             response_model=TicketMessageOut)
def add_message(ticket_id: str, body: TicketMessageIn, user: CurrentUser,
                session: DbSession) -> TicketMessageOut:
    """A reply on the ticket (reaches the user's chat), or an agent's internal note."""
    return message_out(requester.reply(session, user, ticket_id, body.text,
                                       internal=body.internal))


@router.post("/{ticket_id}/close/", response_model=TicketOut)
def close_ticket(ticket_id: str, user: CurrentUser, session: DbSession) -> TicketOut:
    """Close a ticket: agents and admins any, users their own."""
    return ticket_out(tickets.close(session, user, ticket_id), user)
