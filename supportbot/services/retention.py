"""Retention: anonymize conversations nobody has written in for RETENTION_DAYS.

Anonymizing keeps every row the metrics count (conversations, bot decisions and their
timings, ratings, tickets and their dates), so the admin metrics of old periods do not
change, and removes what ties a conversation to a person:

- the conversation's account link, the user's id on their messages and feedback, the
  ticket's creator;
- e-mail addresses, phone, card and DNI/NIE numbers (`services.pii`, every kind whatever
  PII_MASK says) in message texts, the bot's recorded query and draft, feedback comments,
  and the ticket's title, description and handoff note;
- attachment references.

Free text such as a name typed in a sentence is not recognized by the masks; deployments
that must drop it delete old data themselves. Conversations whose ticket is still open
are left alone until it is closed. Running it again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists
from sqlmodel import Session, col, select

from supportbot.models import Conversation, Feedback, Message, Ticket, TicketStatus
from supportbot.models.base import utcnow
from supportbot.services import pii

MARK = "anonymized_at"


@dataclass
class RetentionResult:
    cutoff: datetime | None
    conversations: int = 0
    messages: int = 0
    tickets: int = 0
    skipped_open_tickets: int = 0


def _mask(text: str) -> str:
    return pii.mask(text, pii.KINDS)


def _masked_meta(meta: dict) -> dict:
    meta = dict(meta)
    if isinstance(meta.get("query"), str):
        meta["query"] = _mask(meta["query"])
    generation = meta.get("generation")
    if isinstance(generation, dict) and isinstance(generation.get("draft"), str):
        meta["generation"] = {**generation, "draft": _mask(generation["draft"])}
    return meta


def _anonymize(session: Session, conversation: Conversation, now: datetime,
               result: RetentionResult) -> None:
    for message in session.exec(select(Message).where(
            Message.conversation_id == conversation.id)).all():
        message.text = _mask(message.text)
        message.meta = _masked_meta(message.meta or {})
        message.attachments = []
        if message.sender_type == "user":
            message.sender_id = None
        session.add(message)
        result.messages += 1
    for feedback in session.exec(select(Feedback).where(
            Feedback.conversation_id == conversation.id)).all():
        feedback.comment = _mask(feedback.comment)
        feedback.user_id = None
        session.add(feedback)
    for ticket in session.exec(select(Ticket).where(
            Ticket.conversation_id == conversation.id)).all():
        ticket.title = _mask(ticket.title)
        ticket.description = _mask(ticket.description)
        ticket.handoff_note = _mask(ticket.handoff_note)
        ticket.creator_id = None
        session.add(ticket)
        result.tickets += 1
    conversation.user_id = None
    conversation.meta = {**(conversation.meta or {}), MARK: now.isoformat()}
    session.add(conversation)
    result.conversations += 1


def apply_retention(session: Session, days: int, *, now: datetime | None = None,
                    batch: int = 200) -> RetentionResult:
    """Anonymize every conversation without a message in the last `days` days (0: none);
    commits after each batch so a long first run does not hold one huge transaction."""
    if days <= 0:
        return RetentionResult(cutoff=None)
    now = now or utcnow()
    cutoff = now - timedelta(days=days)
    result = RetentionResult(cutoff=cutoff)
    recent_message = exists().where(Message.conversation_id == Conversation.id,
                                    Message.created_at >= cutoff)
    open_ticket = exists().where(Ticket.conversation_id == Conversation.id,
                                 Ticket.status != TicketStatus.closed.value)
    old = (select(Conversation).where(Conversation.updated_at < cutoff, ~recent_message)
           .order_by(col(Conversation.updated_at)))
    result.skipped_open_tickets = len(session.exec(
        select(Conversation.id).where(Conversation.updated_at < cutoff, ~recent_message,
                                      open_ticket)).all())
    seen = 0
    while True:
        rows = session.exec(old.where(~open_ticket).offset(seen).limit(batch)).all()
        if not rows:
            break
        for conversation in rows:
            if MARK not in (conversation.meta or {}):
                _anonymize(session, conversation, now, result)
        session.commit()
        seen += len(rows)
    return result
