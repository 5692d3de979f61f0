"""What the pages say when an event fails before any page code runs.

In production the pages' state lives in Redis (rxconfig.py): with Redis unreachable, no
event can load its state, so nothing it would have done happened, and nothing was stored.
Reflex's own message for that ("An error occurred. Contact the website administrator.")
reads like a bug and hides after 4 s; this one says what happened and what to do, in both
languages (the failed event had no state, so no language either). The chat's text stays
in its box (the box is cleared only once a message is stored), so trying again loses
nothing (docs/reliability.md, "Faults": Redis stopped under the chat page). Other
exceptions keep Reflex's handling.

No `from __future__ import annotations` here: Reflex checks the handler's annotations as
types.
"""

import logging

import reflex as rx
from reflex.app import default_backend_exception_handler
from reflex.event import EventSpec
from redis.exceptions import RedisError

from supportbot.ui.i18n import text_for

log = logging.getLogger(__name__)

KEY = "page.unavailable"


def _from_redis(exception: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exception
    while current is not None and id(current) not in seen:
        if isinstance(current, RedisError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def backend_exception(exception: Exception) -> EventSpec | None:
    if not _from_redis(exception):
        return default_backend_exception_handler(exception)
    log.warning("a page event failed: the pages' state store is unreachable (%s: %s)",
                type(exception).__name__, exception)
    return rx.toast.error(f"{text_for(KEY, 'en')}\n{text_for(KEY, 'es')}", id="backend_error",
                          duration=15_000, position="top-center",
                          style={"white-space": "pre-wrap"})
