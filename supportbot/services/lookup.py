"""Finding rows: by the id a caller gave (a malformed id is simply "not found"), and by
a piece of text typed into a search box."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import TypeVar

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, or_

from supportbot.errors import InvalidInput, NotFound
from supportbot.services.input_guard import storable

Row = TypeVar("Row", bound=SQLModel)
Choice = TypeVar("Choice", bound=StrEnum)


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
    the needle taken literally; None for a blank needle (no filter). A needle holding a
    character no database stores (`input_guard`) matches nothing."""
    needle = needle.strip()
    if not needle:
        return None
    if not storable(needle):
        return sa.false()
    literal = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(*(column.ilike(f"%{literal}%", escape="\\") for column in columns))


def choice(kind: type[Choice], value: str, field: str) -> Choice:
    """`value` as one of `kind`'s members (a list filter such as a status); InvalidInput
    naming `field` for anything else, so a crafted filter is refused, not a crash."""
    try:
        return kind(value)
    except ValueError:
        message = f"Unknown {field}."
        raise InvalidInput(message, fields={field: message}) from None
