"""Column helpers shared by the tables: UUID keys, UTC timestamps, JSON lists."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field

# JSON everywhere; JSONB on PostgreSQL so it can be indexed and queried later.
JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: datetime) -> datetime:
    """SQLite returns naive datetimes; everything we store is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def uuid_pk() -> Any:
    return Field(default_factory=uuid.uuid4, primary_key=True)


def timestamp(*, index: bool = False, nullable: bool = False) -> Any:
    """A timezone-aware UTC timestamp; set to now unless `nullable`."""
    if nullable:
        return Field(default=None, sa_type=sa.DateTime(timezone=True), nullable=True, index=index)
    return Field(
        default_factory=utcnow, sa_type=sa.DateTime(timezone=True), nullable=False, index=index
    )


def short_text(length: int, *, index: bool = False, **kwargs: Any) -> Any:
    return Field(sa_type=sa.String(length), index=index, **kwargs)


def json_list() -> Any:
    return Field(default_factory=list, sa_type=JSONType, nullable=False)


def json_dict() -> Any:
    return Field(default_factory=dict, sa_type=JSONType, nullable=False)
