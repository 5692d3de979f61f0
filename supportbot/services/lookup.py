"""Finding rows: by the id a caller gave (a malformed id is simply "not found"), and by
a piece of text typed into a search box."""

from __future__ import annotations

import uuid
from typing import TypeVar

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, or_

from supportbot.errors import NotFound

Row = TypeVar("Row", bound=SQLModel)


def get_or_404(session: Session, model: type[Row], key: object, message: str) -> Row:
    """The `model` row with primary key `key` (a UUID or its text); NotFound(message)."""
    try:
        ident = key if isinstance(key, uuid.UUID) else uuid.UUID(str(key))
    except (TypeError, ValueError):
        raise NotFound(message) from None
    row = session.get(model, ident)
    if row is None:
        raise NotFound(message)
    return row


def contains_text(needle: str, *columns: sa.ColumnElement) -> sa.ColumnElement[bool] | None:
    """A case-insensitive "any column contains `needle`" clause, with LIKE's wildcards in
    the needle taken literally; None for a blank needle (no filter)."""
    needle = needle.strip()
    if not needle:
        return None
    literal = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(*(column.ilike(f"%{literal}%", escape="\\") for column in columns))
