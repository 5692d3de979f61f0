"""Tickets from the side of the person who asked for help (the requester), and the one
rule for which ticket fields each role may change.

A ticket opened directly (REST API) gets a conversation of its own, owned by the
requester and held by people, so agents' replies (`tickets.reply`) and the requester's
reach the same thread as tickets opened by the bot's hand-over.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence

from sqlmodel import Session

from supportbot.ai.text import detect_language, fold
from supportbot.errors import Conflict, InvalidInput, PermissionDenied
from supportbot.models import (
    Conversation,
    ConversationStatus,
    Message,
    Role,
    SenderType,
    Ticket,
    TicketPriority,
    TicketStatus,
    utcnow,
)
from supportbot.services import audit, chat, notifications, telemetry, tickets
from supportbot.services.input_guard import require_storable
from supportbot.services.permissions import Actor, has_role, require_role

MAX_TITLE_CHARS = 200
REQUESTER_FIELDS = frozenset({"title", "description"})
AGENT_FIELDS = frozenset({"status", "priority", "assignee_id", "tags"})
AGENTS_ONLY = "Only agents and admins change this."


def _title(title: str) -> str:
    title = require_storable(" ".join((title or "").split()), "title")
    if not title:
        raise InvalidInput("A title is required.", fields={"title": "A title is required."})
    if len(title) > MAX_TITLE_CHARS:
        message = f"The title is longer than {MAX_TITLE_CHARS} characters."
        raise InvalidInput(message, fields={"title": message})
    return title


def _description(text: str) -> str:
    text = require_storable((text or "").strip(), "description")
    if len(text) > tickets.MAX_MESSAGE_CHARS:
        message = f"The description is limited to {tickets.MAX_MESSAGE_CHARS} characters."
        raise InvalidInput(message, fields={"description": message})
    return text


def _refuse_agent_fields(actor: Actor, given: Sequence[str]) -> None:
    refused = [name for name in given if name in AGENT_FIELDS]
    if refused and not has_role(actor, Role.agent):
        raise PermissionDenied("Only agents and admins change " + ", ".join(refused) + ".",
                               fields={name: AGENTS_ONLY for name in refused})


def open_ticket(session: Session, actor: Actor, *, title: str, description: str = "",
                priority: str | None = None, tags: Sequence[str] | None = None) -> Ticket:
    """A ticket opened by a logged-in person (not by the bot). Users give a title and a
    description; priority and tags are for agents and admins (PermissionDenied for a
    user who sends them). The description is also the thread's first message. Agents
    are notified as for a hand-over."""
    require_role(actor, Role.user)
    given = [name for name, value in (("priority", priority), ("tags", tags))
             if value is not None]
    _refuse_agent_fields(actor, given)
    title, description = _title(title), _description(description)
    require_storable(list(tags or ()), "tags")
    if priority is not None and priority not in {p.value for p in TicketPriority}:
        raise InvalidInput("Unknown priority.", fields={"priority": "Unknown priority."})
    language = detect_language(f"{title} {description}", default="en")
    conversation = Conversation(session_id=secrets.token_urlsafe(32), user_id=getattr(actor, "id", None),
                                locale=language, status=ConversationStatus.human.value)
    session.add(conversation)
    session.flush()
    ticket = Ticket(reference=tickets.new_reference(session), title=title,
                    description=description, creator_id=getattr(actor, "id", None),
                    conversation_id=conversation.id,
                    priority=priority or TicketPriority.normal.value,
                    tags=list(dict.fromkeys(fold(t).strip() for t in tags or () if t.strip()))[:20],
                    handoff_note=f"User wants: {title}\nOpened directly, not by the bot.\n"
                                 f"Language: {language}")
    session.add(ticket)
    session.flush()
    session.add(Message(conversation_id=conversation.id, ticket_id=ticket.id,
                        sender_type=SenderType.user.value, sender_id=getattr(actor, "id", None),
                        text=description or title))
    audit.record(session, actor, "ticket.create", "ticket", ticket.id,
                 after={"reference": ticket.reference, "priority": ticket.priority})
    notifications.ticket_opened(session, ticket)
    telemetry.ticket_opened_directly(session)
    telemetry.message_stored(session, SenderType.user.value)
    return ticket


def reply(session: Session, actor: Actor, ticket_id: object, text: str, *,
          internal: bool = False) -> Message:
    """A message on a ticket: agents and admins reply or write an internal note
    (`tickets.reply`); the requester replies on their own ticket (never internal; a
    closed ticket takes no more replies: Conflict). A ticket waiting for the requester
    goes back to the agents' queue."""
    if has_role(actor, Role.agent):
        return tickets.reply(session, actor, ticket_id, text, internal=internal)
    ticket = tickets.view_ticket(session, actor, ticket_id)
    if internal:
        raise PermissionDenied("Internal notes are for agents and admins.",
                               fields={"internal": AGENTS_ONLY})
    if ticket.status == TicketStatus.closed.value:
        raise Conflict("This ticket is closed; start a new one.")
    if ticket.conversation_id is None:
        raise InvalidInput("This ticket has no conversation to reply in.")
    message = Message(conversation_id=ticket.conversation_id, ticket_id=ticket.id,
                      sender_type=SenderType.user.value, sender_id=getattr(actor, "id", None),
                      text=chat.clean_message(text))
    session.add(message)
    telemetry.message_stored(session, SenderType.user.value)
    if ticket.status == TicketStatus.waiting.value:
        ticket.status = (TicketStatus.in_progress.value if ticket.assignee_id
                         else TicketStatus.open.value)
    ticket.updated_at = utcnow()
    session.add(ticket)
    session.flush()
    return message


def change_ticket(session: Session, actor: Actor, ticket_id: object,
                  changes: Mapping[str, object]) -> Ticket:
    """Apply the fields given in `changes`. The requester (and agents) may change title
    and description; status, priority, assignee_id and tags are for agents and admins
    (`tickets.update_ticket`). A user naming a field they may not change gets
    PermissionDenied, on someone else's ticket NotFound; nothing is applied then."""
    unknown = sorted(set(changes) - REQUESTER_FIELDS - AGENT_FIELDS)
    if unknown:
        raise InvalidInput("Unknown fields.", fields={name: "Unknown field." for name in unknown})
    ticket = tickets.view_ticket(session, actor, ticket_id)
    _refuse_agent_fields(actor, list(changes))
    edits: dict[str, object] = {}
    if "title" in changes:
        edits["title"] = _title(str(changes["title"] or ""))
    if "description" in changes:
        edits["description"] = _description(str(changes["description"] or ""))
    agent_changes = {name: value for name, value in changes.items() if name in AGENT_FIELDS}
    if agent_changes:
        tickets.update_ticket(session, actor, ticket.id, **agent_changes)
    before = {name: getattr(ticket, name) for name in edits}
    if edits and before != edits:
        for name, value in edits.items():
            setattr(ticket, name, value)
        ticket.updated_at = utcnow()
        session.add(ticket)
        audit.record(session, actor, "ticket.edit", "ticket", ticket.id,
                     before={"title": before.get("title")}, after={"title": edits.get("title")})
    return ticket
