"""Tickets: opened when the bot hands a conversation to people, worked by agents.

While a conversation's ticket is open the conversation belongs to humans: the bot stays
silent until an agent hands it back or the ticket is closed. A conversation has at most
one open ticket, so escalating twice never opens a second one.
"""

from __future__ import annotations

import secrets
import uuid

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
    TicketStatus,
    utcnow,
)
from supportbot.services import audit, notifications
from supportbot.services.escalation import Escalation, Rules, route
from supportbot.services.permissions import Actor, require_role

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
    try:
        key = ticket_id if isinstance(ticket_id, uuid.UUID) else uuid.UUID(str(ticket_id))
    except ValueError:
        raise NotFound("No such ticket.") from None
    ticket = session.get(Ticket, key)
    if ticket is None:
        raise NotFound("No such ticket.")
    return ticket


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
             language: str) -> tuple[Ticket, bool]:
    """Hand the conversation to people. Returns its ticket and whether it is new; an
    already open ticket is reused (its priority only ever goes up)."""
    existing = open_ticket_of(session, conversation)
    conversation.status = ConversationStatus.human.value
    conversation.updated_at = utcnow()
    session.add(conversation)
    if existing is not None:
        from supportbot.services.escalation import PRIORITY_RANK

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
    audit.record(session, None, "ticket.escalate", "ticket", ticket.id,
                 after={"reference": ticket.reference, "reason": ticket.escalation_reason,
                        "priority": ticket.priority, "queue": ticket.queue})
    notifications.ticket_opened(session, ticket)
    return ticket, True


def _text(text: str) -> str:
    text = (text or "").strip()
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
    message = Message(conversation_id=ticket.conversation_id, ticket_id=ticket.id,
                      sender_type=SenderType.agent.value, sender_id=getattr(actor, "id", None),
                      text=_text(text), is_internal=internal)
    session.add(message)
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
    require_role(actor, Role.agent)
    ticket = get_ticket(session, ticket_id)
    if ticket.status != TicketStatus.closed.value:
        ticket.status = TicketStatus.closed.value
        ticket.closed_at = ticket.updated_at = utcnow()
        session.add(ticket)
        _give_back_to_bot(session, ticket)
        audit.record(session, actor, "ticket.close", "ticket", ticket.id)
    return ticket
