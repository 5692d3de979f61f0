"""Chat conversations and their messages (user, bot, agent and system turns)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from supportbot.models.base import json_dict, json_list, short_text, timestamp, uuid_pk


class ConversationStatus(StrEnum):
    bot = "bot"  # the bot answers
    human = "human"  # handed off: agents answer, the bot stays silent
    closed = "closed"


class SenderType(StrEnum):
    user = "user"
    bot = "bot"
    agent = "agent"
    system = "system"


class Conversation(SQLModel, table=True):
    __tablename__ = "conversations"

    id: uuid.UUID = uuid_pk()
    # Capability token of the chat session: unguessable, never listed.
    session_id: str = short_text(64, unique=True, index=True)
    user_id: uuid.UUID | None = Field(
        default=None, foreign_key="users.id", index=True, ondelete="SET NULL"
    )
    locale: str = short_text(8, default="en")
    status: str = short_text(16, index=True, default=ConversationStatus.bot.value)
    meta: dict[str, Any] = json_dict()
    created_at: datetime = timestamp(index=True)
    updated_at: datetime = timestamp(index=True)


class Message(SQLModel, table=True):
    __tablename__ = "messages"
    # A client's id for the message it sent (idempotency key): one message per id and
    # conversation, so a message sent again with its id is recognised exactly. NULLs
    # (messages sent without one, and every bot, agent and system message) do not clash.
    __table_args__ = (
        sa.Index("ix_messages_conversation_id_client_id", "conversation_id", "client_id",
                 unique=True),
    )

    id: uuid.UUID = uuid_pk()
    conversation_id: uuid.UUID = Field(
        foreign_key="conversations.id", index=True, ondelete="CASCADE"
    )
    ticket_id: uuid.UUID | None = Field(
        default=None, foreign_key="tickets.id", index=True, ondelete="SET NULL"
    )
    sender_type: str = short_text(16, index=True)
    sender_id: uuid.UUID | None = Field(
        default=None, foreign_key="users.id", index=True, ondelete="SET NULL"
    )
    text: str = Field(sa_type=sa.Text)
    client_id: str | None = short_text(64, default=None, nullable=True)
    is_bot: bool = Field(default=False)
    # Internal notes are visible to agents and admins only.
    is_internal: bool = Field(default=False)
    citations: list[dict[str, Any]] = json_list()
    confidence: float | None = Field(default=None)
    attachments: list[dict[str, Any]] = json_list()  # file references, never file bodies
    # The bot's decision and its inputs (articles, scores, rule, timings).
    meta: dict[str, Any] = json_dict()
    created_at: datetime = timestamp(index=True)
