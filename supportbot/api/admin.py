"""`/api/admin/`: accounts, taking a conversation over, and the help desk's figures.

Roles are the services': users and metrics are for admins; taking a conversation over
(`escalate`) is for agents too, as on the desk.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from supportbot.api.chat import ChatMessageOut, TicketRef, message_out, ticket_ref
from supportbot.api.deps import CurrentUser, DbSession, Pagination
from supportbot.api.schemas import Page, UserOut, error_responses
from supportbot.errors import InvalidInput
from supportbot.models import Role, utcnow
from supportbot.services import accounts, chat, metrics
from supportbot.services.permissions import require_role

router = APIRouter(prefix="/api/admin", tags=["admin"],
                   responses=error_responses(401, 403, 404, 413, 422, 429))

DEFAULT_DAYS = 30


class EscalateIn(BaseModel):
    session_id: str = Field(min_length=1, max_length=64)
    note: str = Field(default="", max_length=200, description="Why (kept on the ticket).")


class EscalateOut(BaseModel):
    ticket: TicketRef
    bot_message: ChatMessageOut | None


class DayCount(BaseModel):
    day: date
    conversations: int


class MetricsOut(BaseModel):
    start: date
    end: date
    conversations_per_day: list[DayCount]
    conversations: int
    escalations_by_reason: dict[str, int]
    escalation_rate: float | None
    positive_feedback_share: float | None
    ratings: int
    latency_ms_p50: float | None
    latency_ms_p95: float | None
    bot_answers: int
    open_tickets: int
    tickets_opened: int
    tickets_closed: int


@router.get("/users/", response_model=Page[UserOut])
def list_users(user: CurrentUser, session: DbSession, pages: Pagination,
               role: Role | None = None) -> Page[UserOut]:
    """Accounts by username (admins)."""
    role_name = role.value if role else None
    found = accounts.list_users(session, user, role=role_name, limit=pages.page_size,
                                offset=pages.offset)
    total = accounts.count_users(session, user, role=role_name)
    return Page[UserOut](items=[UserOut.model_validate(u, from_attributes=True) for u in found],
                         total=total, page=pages.page, page_size=pages.page_size)


@router.post("/escalate/", status_code=status.HTTP_201_CREATED, response_model=EscalateOut)
def escalate(body: EscalateIn, user: CurrentUser, session: DbSession) -> EscalateOut:
    """Take a conversation over from the bot (reason `manual`): its ticket (an open one
    is reused) and the message the user sees (agents and admins)."""
    reply = chat.escalate_session(session, user, body.session_id, note=body.note)
    return EscalateOut(ticket=ticket_ref(reply.ticket),
                       bot_message=message_out(reply.bot_message) if reply.bot_message
                       else None)


@router.get("/metrics/", response_model=MetricsOut)
def read_metrics(user: CurrentUser, session: DbSession, start: date | None = None,
                 end: date | None = None) -> MetricsOut:
    """Figures for a period, both days included (default: the last 30 days; admins)."""
    require_role(user, Role.admin)  # before looking at the dates: 403 comes first
    end = end or utcnow().date()
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    if abs((end - start).days) > 366:  # one row per day: keep the answer bounded
        raise InvalidInput("Ask for a year at most.", fields={"start": "A year at most."})
    figures = dataclasses.asdict(metrics.summary(session, user, start, end))
    figures["conversations_per_day"] = [DayCount(day=day, conversations=count)
                                        for day, count in figures["conversations_per_day"]]
    return MetricsOut(**figures)

