"""Tickets: work for humans, opened by escalation or directly by a user."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from supportbot.models.base import json_list, short_text, timestamp, uuid_pk


class TicketStatus(StrEnum):
    open = "open"
    in_progress = "in_progress"
    waiting = "waiting"
    closed = "closed"


class TicketPriority(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class EscalationReason(StrEnum):
    low_confidence = "low_confidence"
    keyword = "keyword"
    user_request = "user_request"
    unresolved_turns = "unresolved_turns"
    negative_feedback = "negative_feedback"
    manual = "manual"


class Ticket(SQLModel, table=True):
    __tablename__ = "tickets"

    id: uuid.UUID = uuid_pk()
    # What people quote on the phone and in the chat ("SB-7K3QD2").
    reference: str = short_text(16, unique=True, index=True)
    title: str = short_text(200)
    description: str = Field(default="", sa_type=sa.Text)
    creator_id: uuid.UUID | None = Field(
        default=None, foreign_key="users.id", index=True, ondelete="SET NULL"
    )
    assignee_id: uuid.UUID | None = Field(
        default=None, foreign_key="users.id", index=True, ondelete="SET NULL"
    )
    conversation_id: uuid.UUID | None = Field(
        default=None, foreign_key="conversations.id", index=True, ondelete="SET NULL"
    )
    status: str = short_text(16, index=True, default=TicketStatus.open.value)
    priority: str = short_text(16, index=True, default=TicketPriority.normal.value)
    tags: list[str] = json_list()
    queue: str = short_text(64, index=True, default="general")
    escalation_reason: str | None = short_text(32, index=True, default=None, nullable=True)
    handoff_note: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = timestamp(index=True)
    updated_at: datetime = timestamp(index=True)
    closed_at: datetime | None = timestamp(nullable=True)
