"""What users said about a bot answer or a whole conversation."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from supportbot.models.base import timestamp, uuid_pk


class Feedback(SQLModel, table=True):
    __tablename__ = "feedback"
    __table_args__ = (sa.CheckConstraint("rating IN (-1, 1)", name="ck_feedback_rating"),)

    id: uuid.UUID = uuid_pk()
    conversation_id: uuid.UUID = Field(
        foreign_key="conversations.id", index=True, ondelete="CASCADE"
    )
    # None: about the conversation as a whole.
    message_id: uuid.UUID | None = Field(
        default=None, foreign_key="messages.id", index=True, ondelete="CASCADE"
    )
    user_id: uuid.UUID | None = Field(
        default=None, foreign_key="users.id", index=True, ondelete="SET NULL"
    )
    rating: int = Field(index=True)  # +1 helpful, -1 not helpful
    comment: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = timestamp(index=True)
    # Review by an admin: dismissed, or turned into this KB entry.
    reviewed_at: datetime | None = timestamp(nullable=True, index=True)
    knowledge_entry_id: uuid.UUID | None = Field(
        default=None, foreign_key="knowledge_entries.id", ondelete="SET NULL"
    )
