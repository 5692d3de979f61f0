"""What may reach the database from outside: text it can store, and attachment
references that stay inside the attachments folder.

Text is stored as typed, with one exception: no database here stores NUL (U+0000;
PostgreSQL refuses it in text and JSONB) or a lone surrogate (U+D800-U+DFFF, which has no
UTF-8 form; a JSON body or a Reflex event can still carry one as an escape). Text holding
either is refused with InvalidInput naming the field, never cleaned silently. Every other
character, control characters included, is kept as typed (one-line fields such as titles
collapse whitespace, as they always did); pages show text as text.

Services call `require_storable` where they validate what people send, so the error names
the field as the caller knows it and comes before anything is written. The same rule is
enforced once more on every flush (`_refuse_unstorable`): a service that forgets cannot
reach the database with such text; it gets InvalidInput naming the column instead of a
driver error. Searches need no check: `storable()` tells them nothing can match.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from supportbot.errors import InvalidInput

T = TypeVar("T")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")
MAX_ATTACHMENT_NAME = 255


def _strings(value: object) -> Iterator[str]:
    """Every string in `value`: itself, or the keys and values nested in lists and dicts."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def first_unstorable(value: object) -> str | None:
    """The first character of `value` (nested strings included) that cannot be stored,
    as "U+XXXX"; None when all of it can be."""
    for text in _strings(value):
        found = _UNSTORABLE.search(text)
        if found:
            return f"U+{ord(found.group()):04X}"
    return None


def storable(value: object) -> bool:
    return first_unstorable(value) is None


def unstorable_message(value: object, label: str) -> str | None:
    """Why `value` cannot be stored, naming `label`; None when it can."""
    code = first_unstorable(value)
    if code is None:
        return None
    return (f"The {label} contains a character that cannot be stored ({code}); "
            "remove it and try again.")


def require_storable(value: T, field: str, label: str | None = None) -> T:
    """`value` unchanged when it can be stored; InvalidInput naming `field` otherwise.
    `label` is how the message calls the field (default: the field's name)."""
    message = unstorable_message(value, label or field.replace("_", " "))
    if message is not None:
        raise InvalidInput(message, fields={field: message})
    return value


# -- attachments -----------------------------------------------------------------------

def attachment_name(name: object) -> str:
    """A file reference relative to the attachments folder, or InvalidInput: no absolute
    paths, no `..`, no backslashes or drive letters, nothing that cannot be stored."""
    message = "Attachment names are plain file names inside the attachments folder."
    if not isinstance(name, str) or not name or len(name) > MAX_ATTACHMENT_NAME:
        raise InvalidInput(message, fields={"attachments": message})
    if (not storable(name) or "\\" in name or name.startswith("/")
            or _WINDOWS_DRIVE.match(name) or set(name.split("/")) & {"", ".", ".."}):
        raise InvalidInput(message, fields={"attachments": message})
    return name


def check_attachments(references: object) -> None:
    """Every reference is a dict whose `name` (and `path`, if any) is an `attachment_name`."""
    message = "Attachments are a list of file references with a name."
    if not isinstance(references, list):
        raise InvalidInput(message, fields={"attachments": message})
    for reference in references:
        if not isinstance(reference, dict) or "name" not in reference:
            raise InvalidInput(message, fields={"attachments": message})
        for key in ("name", "path"):
            if key in reference:
                attachment_name(reference[key])


# -- the last check before a flush -----------------------------------------------------

def _changed_values(session: Session) -> Iterator[tuple[object, str, object]]:
    """(row, attribute, value) of every column value a flush is about to write."""
    for row in (*session.new, *session.dirty):
        state = sa.inspect(row)
        new = row in session.new
        for attribute in state.mapper.column_attrs:
            if new or state.attrs[attribute.key].history.has_changes():
                yield row, attribute.key, state.attrs[attribute.key].value


@sa.event.listens_for(Session, "before_flush")
def _refuse_unstorable(session: Session, _context: object, _instances: object) -> None:
    for _row, key, value in _changed_values(session):
        if key == "attachments":
            check_attachments(value)
        require_storable(value, key)
