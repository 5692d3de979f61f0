"""Knowledge-base articles and their version history."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from supportbot.models.base import json_list, short_text, timestamp, uuid_pk


class EntrySource(StrEnum):
    manual = "manual"
    auto = "auto"
    feedback = "feedback"


class EntryStatus(StrEnum):
    draft = "draft"
    published = "published"


class KnowledgeEntry(SQLModel, table=True):
    __tablename__ = "knowledge_entries"

    id: uuid.UUID = uuid_pk()
    # Stable id from an import file (demo KB, eval sets); lets re-imports update in place.
    external_id: str | None = short_text(128, unique=True, index=True, default=None, nullable=True)
    title: str = short_text(200)
    problem: str = Field(default="", sa_type=sa.Text)
    solution: str = Field(default="", sa_type=sa.Text)
    tags: list[str] = json_list()
    locale: str = short_text(8, index=True, default="en")
    alternative_phrasings: list[str] = json_list()
    source: str = short_text(16, default=EntrySource.manual.value)
    status: str = short_text(16, index=True, default=EntryStatus.draft.value)
    version: int = Field(default=1)
    created_by_id: uuid.UUID | None = Field(
        default=None, foreign_key="users.id", ondelete="SET NULL"
    )
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp(index=True)


class KnowledgeEntryVersion(SQLModel, table=True):
    """A snapshot of an article as it was saved at `version`."""

    __tablename__ = "knowledge_entry_versions"
    __table_args__ = (sa.UniqueConstraint("entry_id", "version"),)

    id: uuid.UUID = uuid_pk()
    entry_id: uuid.UUID = Field(
        foreign_key="knowledge_entries.id", index=True, ondelete="CASCADE"
    )
    version: int
    title: str = short_text(200)
    problem: str = Field(default="", sa_type=sa.Text)
    solution: str = Field(default="", sa_type=sa.Text)
    tags: list[str] = json_list()
    locale: str = short_text(8, default="en")
    alternative_phrasings: list[str] = json_list()
    status: str = short_text(16)
    edited_by_id: uuid.UUID | None = Field(
        default=None, foreign_key="users.id", ondelete="SET NULL"
    )
    created_at: datetime = timestamp()
