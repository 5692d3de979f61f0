"""Fetching a row by the id a caller gave: any malformed id is simply "not found"."""

from __future__ import annotations

import uuid
from typing import TypeVar

from sqlmodel import Session, SQLModel

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
