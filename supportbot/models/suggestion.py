"""Knowledge-base suggestions made by the feedback digest from problem cases (unhelpful
answers, escalations that agents solved), for admins to accept, edit or reject."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from supportbot.models.base import json_list, short_text, timestamp, uuid_pk


class SuggestionKind(StrEnum):
    new_article = "new_article"  # accepting makes a draft article
    phrasings = "phrasings"  # accepting adds the questions to the matched article


class SuggestionStatus(StrEnum):
    pending = "pending"
    accepted = "accepted"
    rejected = "rejected"


class KbSuggestion(SQLModel, table=True):
    __tablename__ = "kb_suggestions"

    id: uuid.UUID = uuid_pk()
    kind: str = short_text(16, default=SuggestionKind.new_article.value)
    status: str = short_text(16, index=True, default=SuggestionStatus.pending.value)
    title: str = short_text(200)
    problem: str = Field(default="", sa_type=sa.Text)
    solution: str = Field(default="", sa_type=sa.Text)  # the agent's final reply
    phrasings: list[str] = json_list()  # how users asked it (personal data masked)
    locale: str = short_text(8, default="en")
    # The existing article the questions matched (kind phrasings) and how confidently.
    entry_id: uuid.UUID | None = Field(
        default=None, foreign_key="knowledge_entries.id", index=True, ondelete="SET NULL")
    match_confidence: float | None = Field(default=None)
    # The problem cases behind it ("feedback:<id>", "ticket:<id>"): never suggested twice.
    case_keys: list[str] = json_list()
    created_at: datetime = timestamp(index=True)
    decided_at: datetime | None = timestamp(nullable=True)
    decided_by_id: uuid.UUID | None = Field(
        default=None, foreign_key="users.id", ondelete="SET NULL")
    # The draft made, or the article updated, on acceptance.
    result_entry_id: uuid.UUID | None = Field(
        default=None, foreign_key="knowledge_entries.id", ondelete="SET NULL")
