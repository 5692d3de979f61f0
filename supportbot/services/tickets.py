"""Tickets: opened when the bot hands a conversation to people, worked by agents.

While a conversation's ticket is open the conversation belongs to humans: the bot stays
silent until an agent hands it back or the ticket is closed. A conversation has at most
one open ticket, so escalating twice never opens a second one.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from supportbot.ai.text import fold
from supportbot.errors import InvalidInput, NotFound
from supportbot.models import (
    Conversation,
    ConversationStatus,
    Message,
    Role,
    SenderType,
    Ticket,
    TicketPriority,
    TicketStatus,
    User,
    utcnow,
)
from supportbot.models.base import as_utc
from supportbot.services import audit, notifications, telemetry
from supportbot.services.input_guard import require_storable, storable
from supportbot.services.lookup import choice, contains_text, get_or_404
from supportbot.services.escalation import PRIORITY_RANK, Escalation, Rules, route
from supportbot.services.permissions import Actor, require_role, role_at_least

REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L
TRANSCRIPT_MESSAGES = 20
MAX_MESSAGE_CHARS = 4000


def new_reference(session: Session) -> str:
    while True:
        reference = "SB-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))
        if session.exec(select(Ticket.id).where(Ticket.reference == reference)).first() is None:
            return reference


def open_ticket_of(session: Session, conversation: Conversation) -> Ticket | None:
    return session.exec(
        select(Ticket).where(Ticket.conversation_id == conversation.id,
                             Ticket.status != TicketStatus.closed.value)
        .order_by(col(Ticket.created_at).desc())
    ).first()


def get_ticket(session: Session, ticket_id: object) -> Ticket:
    return get_or_404(session, Ticket, ticket_id, "No such ticket.")


def transcript(messages: list[Message]) -> str:
    """The conversation as agents read it: one line per public message, oldest first."""
    lines = []
    for message in messages:
        if message.is_internal:
            continue
        when = message.created_at.strftime("%Y-%m-%d %H:%M")
        lines.append(f"[{when}] {message.sender_type}: {message.text}")
    return "\n".join(lines)


def handoff_note(*, wants: str, tried: list[dict[str, object]], escalation: Escalation,
                 language: str) -> str:
    """What an agent needs before reading the transcript, in four lines."""
    one_line = " ".join(wants.split())
    if len(one_line) > 200:
        one_line = one_line[:197] + "..."
    if tried:
        attempts = "; ".join(f"{t['title']} (confidence {float(t['confidence']):.2f})"
                             for t in tried)
    else:
        attempts = "no article matched"
    reason = escalation.reason.value
    if escalation.keywords:
        reason += f" (matched: {', '.join(escalation.keywords)})"
    elif escalation.detail:
        reason += f" ({escalation.detail})"
    return (f"User wants: {one_line or '(no text)'}\n"
            f"Bot tried: {attempts}\n"
            f"Reason: {reason}\n"
            f"Language: {language}")


def escalate(session: Session, conversation: Conversation, escalation: Escalation, *,
             rules: Rules, wants: str, tried: list[dict[str, object]], tags: list[str],
             language: str, actor: Actor | None = None) -> tuple[Ticket, bool]:
    """Hand the conversation to people. Returns its ticket and whether it is new; an
    already open ticket is reused (its priority only ever goes up). `actor`: the agent
    or admin who took it over (None: the bot's rules did); the audit row names them."""
    existing = open_ticket_of(session, conversation)
    conversation.status = ConversationStatus.human.value
    conversation.updated_at = utcnow()
    session.add(conversation)
    if existing is not None:
        if PRIORITY_RANK[escalation.priority] > PRIORITY_RANK[existing.priority]:
            existing.priority = escalation.priority
            existing.updated_at = utcnow()
            session.add(existing)
        return existing, False
    messages = list(session.exec(
        select(Message).where(Message.conversation_id == conversation.id)
        .order_by(col(Message.created_at).desc(), col(Message.id)).limit(TRANSCRIPT_MESSAGES)
    ))[::-1]
    all_tags = list(dict.fromkeys([*(fold(t) for t in tags),
                                   *(fold(k) for k in escalation.keywords), language]))
    title = " ".join(wants.split())[:120] or {"es": "Conversación con el bot",
                                               "en": "Conversation with the bot"}[language]
    ticket = Ticket(
        reference=new_reference(session), title=title, description=transcript(messages),
        creator_id=conversation.user_id, conversation_id=conversation.id,
        priority=escalation.priority, tags=all_tags,
        queue=route(tags, escalation.keywords, rules),
        escalation_reason=escalation.reason.value,
        handoff_note=handoff_note(wants=wants, tried=tried, escalation=escalation,
                                  language=language),
    )
    session.add(ticket)
    session.flush()
    audit.record(session, actor, "ticket.escalate", "ticket", ticket.id,
                 after={"reference": ticket.reference, "reason": ticket.escalation_reason,
                        "priority": ticket.priority, "queue": ticket.queue})
    notifications.ticket_opened(session, ticket)
    telemetry.escalated(session, ticket.escalation_reason)
    return ticket, True


def _text(text: str) -> str:
    text = require_storable((text or "").strip(), "text", "message")
    if not text:
        raise InvalidInput("Write a message first.", fields={"text": "Write a message first."})
    if len(text) > MAX_MESSAGE_CHARS:
        message = f"Messages are limited to {MAX_MESSAGE_CHARS} characters."
        raise InvalidInput(message, fields={"text": message})
    return text


def reply(session: Session, actor: Actor, ticket_id: object, text: str, *,
          internal: bool = False) -> Message:
    """An agent's reply (shown in the user's chat) or internal note (agents only)."""
    require_role(actor, Role.agent)
    ticket = get_ticket(session, ticket_id)
    if ticket.conversation_id is None:
        raise InvalidInput("This ticket has no conversation to reply in.")
    if not internal and session.exec(select(Message.id).where(
            Message.ticket_id == ticket.id, Message.sender_type == SenderType.agent.value,
            col(Message.is_internal).is_(False))).first() is None:
        telemetry.agent_first_response(session, ticket.created_at)
    message = Message(conversation_id=ticket.conversation_id, ticket_id=ticket.id,
                      sender_type=SenderType.agent.value, sender_id=getattr(actor, "id", None),
                      text=_text(text), is_internal=internal)
    session.add(message)
    if not internal:
        telemetry.message_stored(session, SenderType.agent.value)
    if not internal and ticket.status == TicketStatus.open.value:
        ticket.status = TicketStatus.in_progress.value
    if ticket.assignee_id is None and getattr(actor, "id", None) and not internal:
        ticket.assignee_id = actor.id
    ticket.updated_at = utcnow()
    session.add(ticket)
    session.flush()
    return message


def _give_back_to_bot(session: Session, ticket: Ticket) -> None:
    if ticket.conversation_id is None:
        return
    conversation = session.get(Conversation, ticket.conversation_id)
    if conversation is not None and conversation.status == ConversationStatus.human.value:
        conversation.status = ConversationStatus.bot.value
        conversation.meta = {**conversation.meta, "resolved_from": utcnow().isoformat()}
        conversation.updated_at = utcnow()
        session.add(conversation)


def hand_back(session: Session, actor: Actor, ticket_id: object) -> Ticket:
    """The bot answers this conversation again; the ticket waits for the user."""
    require_role(actor, Role.agent)
    ticket = get_ticket(session, ticket_id)
    _give_back_to_bot(session, ticket)
    ticket.status = TicketStatus.waiting.value
    ticket.updated_at = utcnow()
    session.add(ticket)
    audit.record(session, actor, "ticket.hand_back", "ticket", ticket.id)
    return ticket


def close(session: Session, actor: Actor, ticket_id: object) -> Ticket:
    """Agents and admins close any ticket; a user closes one they opened (NotFound for
    anyone else's, as in `view_ticket`)."""
    ticket = view_ticket(session, actor, ticket_id)
    if ticket.status != TicketStatus.closed.value:
        ticket.status = TicketStatus.closed.value
        ticket.closed_at = ticket.updated_at = utcnow()
        session.add(ticket)
        _give_back_to_bot(session, ticket)
        audit.record(session, actor, "ticket.close", "ticket", ticket.id)
        telemetry.ticket_closed(session)
    return ticket


# -- the desk: lists and changes --------------------------------------------------------

PAGE_LIMIT = 100
_UNSET = object()


def list_tickets(session: Session, actor: Actor, *, status: str | None = None,
                 priority: str | None = None, queue: str | None = None, tag: str | None = None,
                 assignee: str | None = None, text: str = "", limit: int = 25,
                 offset: int = 0, mine: bool = False, created_from: datetime | None = None,
                 created_to: datetime | None = None) -> tuple[list[Ticket], int]:
    """Tickets newest first, with the total that match. Agents and admins see every
    ticket; users (and anyone with `mine`) the ones they opened. `assignee`: a user id,
    "me" or "none"; `created_from` / `created_to`: bounds of the creation time (inclusive,
    naive values are UTC)."""
    require_role(actor, Role.user)
    query = select(Ticket)
    if mine or not role_at_least(getattr(actor, "role", Role.admin.value), Role.agent):
        query = query.where(Ticket.creator_id == actor.id)
    if status:
        query = query.where(Ticket.status == choice(TicketStatus, status, "status").value)
    if priority:
        query = query.where(Ticket.priority == choice(TicketPriority, priority,
                                                      "priority").value)
    if queue:  # a queue name no database can store matches no ticket
        query = query.where(Ticket.queue == queue if storable(queue) else sa.false())
    if assignee == "none":
        query = query.where(col(Ticket.assignee_id).is_(None))
    elif assignee == "me":
        query = query.where(Ticket.assignee_id == getattr(actor, "id", None))
    elif assignee:
        try:
            query = query.where(Ticket.assignee_id == uuid.UUID(assignee))
        except ValueError:
            raise InvalidInput("Unknown assignee.", fields={"assignee": "Unknown assignee."}) from None
    if created_from is not None:
        query = query.where(Ticket.created_at >= as_utc(created_from))
    if created_to is not None:
        query = query.where(Ticket.created_at <= as_utc(created_to))
    matches = contains_text(text, col(Ticket.title), col(Ticket.reference),
                            col(Ticket.handoff_note))
    if matches is not None:
        query = query.where(matches)
    query = query.order_by(col(Ticket.created_at).desc(), col(Ticket.id))
    limit = max(1, min(limit, PAGE_LIMIT))
    if tag:  # tags are a JSON list: filter portably in Python
        wanted = fold(tag).strip()
        matching = [t for t in session.exec(query) if wanted in t.tags]
        return matching[offset:offset + limit], len(matching)
    total = session.exec(select(sa.func.count()).select_from(query.subquery())).one()
    return list(session.exec(query.offset(max(0, offset)).limit(limit))), int(total)


def view_ticket(session: Session, actor: Actor, ticket_id: object) -> Ticket:
    """A ticket its viewer may see: agents any, users their own (NotFound otherwise)."""
    require_role(actor, Role.user)
    ticket = get_ticket(session, ticket_id)
    if (not role_at_least(getattr(actor, "role", Role.admin.value), Role.agent)
            and ticket.creator_id != getattr(actor, "id", None)):
        raise NotFound("No such ticket.")
    return ticket


def ticket_messages(session: Session, actor: Actor, ticket: Ticket) -> list[Message]:
    """The ticket's conversation; internal notes only for agents and admins."""
    if ticket.conversation_id is None:
        return []
    agent = role_at_least(getattr(actor, "role", Role.admin.value), Role.agent)
    query = select(Message).where(Message.conversation_id == ticket.conversation_id)
    if not agent:
        query = query.where(col(Message.is_internal).is_(False))
    return list(session.exec(query.order_by(col(Message.created_at), col(Message.id))))


def update_ticket(session: Session, actor: Actor, ticket_id: object, *,
                  status: str | None = None, priority: str | None = None,
                  assignee_id: object = _UNSET, tags: list[str] | None = None) -> Ticket:
    """Change status, priority, assignee or tags (agents and admins), audited."""
    require_role(actor, Role.agent)
    ticket = get_ticket(session, ticket_id)
    before = {"status": ticket.status, "priority": ticket.priority,
              "assignee_id": str(ticket.assignee_id) if ticket.assignee_id else None,
              "tags": list(ticket.tags)}
    errors: dict[str, str] = {}
    if status is not None:
        if status not in {s.value for s in TicketStatus}:
            errors["status"] = "Unknown status."
        elif status == TicketStatus.closed.value:
            close(session, actor, ticket.id)
        else:
            if ticket.status == TicketStatus.closed.value:
                telemetry.ticket_reopened(session)
            ticket.status = status
            ticket.closed_at = None
    if priority is not None:
        if priority not in {p.value for p in TicketPriority}:
            errors["priority"] = "Unknown priority."
        else:
            ticket.priority = priority
    if assignee_id is not _UNSET:
        if assignee_id in (None, ""):
            ticket.assignee_id = None
        else:
            try:
                assignee = session.get(User, uuid.UUID(str(assignee_id)))
            except ValueError:
                assignee = None
            if assignee is None or not assignee.is_active or not role_at_least(
                    assignee.role, Role.agent):
                errors["assignee"] = "Tickets go to active agents or admins."
            else:
                ticket.assignee_id = assignee.id
    if tags is not None:
        require_storable(tags, "tags")
        ticket.tags = list(dict.fromkeys(fold(t).strip() for t in tags if fold(t).strip()))[:20]
    if errors:
        raise InvalidInput("The ticket change has errors.", fields=errors)
    ticket.updated_at = utcnow()
    session.add(ticket)
    after = {"status": ticket.status, "priority": ticket.priority,
             "assignee_id": str(ticket.assignee_id) if ticket.assignee_id else None,
             "tags": list(ticket.tags)}
    if after != before:
        audit.record(session, actor, "ticket.update", "ticket", ticket.id, before=before,
                     after=after)
    return ticket


def assignable_staff(session: Session, actor: Actor) -> list[User]:
    """Who a ticket can be assigned to: active agents and admins, by username (agents
    and admins may ask)."""
    require_role(actor, Role.agent)
    query = (select(User).where(User.is_active, col(User.role).in_([Role.agent.value,
                                                                   Role.admin.value]))
             .order_by(col(User.username)))
    return list(session.exec(query))


def take(session: Session, actor: Actor, ticket_id: object) -> Ticket:
    """The acting agent becomes the assignee."""
    require_role(actor, Role.agent)
    return update_ticket(session, actor, ticket_id, assignee_id=actor.id)
