"""Deliveries of ticket notifications (e-mail, webhook): one row per recipient, with the
outcome of every attempt, so admins can see what failed and why."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from supportbot.models.base import short_text, timestamp, uuid_pk


class DeliveryChannel(StrEnum):
    email = "email"
    webhook = "webhook"


class DeliveryStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"  # every attempt failed


class NotificationDelivery(SQLModel, table=True):
    __tablename__ = "notification_deliveries"

    id: uuid.UUID = uuid_pk()
    ticket_id: uuid.UUID | None = Field(
        default=None, foreign_key="tickets.id", index=True, ondelete="CASCADE"
    )
    event: str = short_text(32)  # ticket.escalated, ...
    channel: str = short_text(16)
    target: str = short_text(500)  # e-mail address or URL
    status: str = short_text(16, index=True, default=DeliveryStatus.pending.value)
    attempts: int = Field(default=0)
    last_error: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = timestamp(index=True)
    sent_at: datetime | None = timestamp(nullable=True)
