"""Help-desk figures for a period, computed from the database (admin metrics page).

- conversations per day (started that day);
- escalations by reason code, and the escalation rate: conversations with at least one
  hand-over over conversations;
- positive-feedback share: helpful ratings over all ratings;
- bot answer latency p50 / p95: retrieval plus generation time recorded on bot messages;
- open tickets now, tickets opened and closed in the period.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

import numpy as np
from sqlmodel import Session, col, select

from supportbot.models import Conversation, Feedback, Message, Role, Ticket, TicketStatus
from supportbot.models.base import as_utc
from supportbot.services.permissions import Actor, require_role


@dataclass
class Summary:
    start: date
    end: date  # inclusive
    conversations_per_day: list[tuple[str, int]] = field(default_factory=list)
    conversations: int = 0
    escalations_by_reason: dict[str, int] = field(default_factory=dict)
    escalation_rate: float | None = None
    positive_feedback_share: float | None = None
    ratings: int = 0
    latency_ms_p50: float | None = None
    latency_ms_p95: float | None = None
    bot_answers: int = 0
    open_tickets: int = 0
    tickets_opened: int = 0
    tickets_closed: int = 0


def summary(session: Session, actor: Actor, start: date, end: date) -> Summary:
    require_role(actor, Role.admin)
    if end < start:
        start, end = end, start
    since = datetime.combine(start, time.min, tzinfo=timezone.utc)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=timezone.utc)
    result = Summary(start, end)

    conversations = session.exec(select(Conversation.id, Conversation.created_at).where(
        Conversation.created_at >= since, Conversation.created_at < until)).all()
    per_day = Counter(as_utc(created).date() for _, created in conversations)
    days = (end - start).days + 1
    result.conversations_per_day = [
        ((start + timedelta(days=n)).isoformat(), per_day.get(start + timedelta(days=n), 0))
        for n in range(days)]
    result.conversations = len(conversations)

    bot_messages = session.exec(select(Message.conversation_id, Message.meta).where(
        col(Message.is_bot), Message.created_at >= since, Message.created_at < until)).all()
    escalated_conversations = set()
    reasons: Counter[str] = Counter()
    latencies = []
    for conversation_id, meta in bot_messages:
        decision = meta.get("decision")
        if decision == "escalate":
            if meta.get("new_ticket", True):
                reasons[str(meta.get("rule"))] += 1
            escalated_conversations.add(conversation_id)
        elif decision == "answer":
            result.bot_answers += 1
            timings = meta.get("timings_ms") or {}
            total = sum(float(v) for v in timings.values() if isinstance(v, int | float))
            if total:
                latencies.append(total)
    result.escalations_by_reason = dict(reasons.most_common())
    if result.conversations:
        result.escalation_rate = round(len(escalated_conversations) / result.conversations, 4)
    if latencies:
        result.latency_ms_p50 = round(float(np.percentile(latencies, 50)), 1)
        result.latency_ms_p95 = round(float(np.percentile(latencies, 95)), 1)

    ratings = session.exec(select(Feedback.rating).where(
        Feedback.created_at >= since, Feedback.created_at < until)).all()
    result.ratings = len(ratings)
    if ratings:
        result.positive_feedback_share = round(sum(1 for r in ratings if r > 0) / len(ratings), 4)

    result.open_tickets = len(session.exec(select(Ticket.id).where(
        Ticket.status != TicketStatus.closed.value)).all())
    result.tickets_opened = len(session.exec(select(Ticket.id).where(
        Ticket.created_at >= since, Ticket.created_at < until)).all())
    result.tickets_closed = len(session.exec(select(Ticket.id).where(
        col(Ticket.closed_at).is_not(None), Ticket.closed_at >= since,
        Ticket.closed_at < until)).all())
    return result
