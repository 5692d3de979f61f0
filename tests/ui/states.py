"""Page states outside a browser: a state tree for one request, as Reflex builds it for an
event, with the visitor's `sb_access` cookie in the WebSocket headers (or none)."""

from __future__ import annotations

from typing import TypeVar
from urllib.parse import urlencode

import reflex as rx
from reflex.state import State
from sqlmodel import Session

import supportbot.ui.app  # noqa: F401  - registers every page and so every page state
from supportbot.api.browser_session import ACCESS_COOKIE
from supportbot.models import User
from supportbot.services import auth_tokens
from supportbot.ui.state import SessionState

S = TypeVar("S", bound=rx.State)


def cookie_for(session: Session, user: User | None) -> str:
    """The cookie header a logged-in browser of `user` sends (empty: anonymous)."""
    if user is None:
        return ""
    tokens = auth_tokens.issue_tokens(session, user)
    session.commit()
    return f"{ACCESS_COOKIE}={tokens.access_token}"


def page_state(state_cls: type[S], *, cookie: str = "", route: str = "/",
               path: str | None = None, params: dict[str, str] | None = None,
               query: dict[str, str] | None = None, language: str = "en-US") -> S:
    """An instance of `state_cls` as an event on page `path` (matched by `route`, with the
    dynamic `params`) sees it. Every handler reaches SessionState through get_state."""
    root = State(_reflex_internal_init=True)
    path = path or route
    router_data = {
        "token": "test-client", "pathname": route,
        "asPath": path + (f"?{urlencode(query)}" if query else ""),
        "query": {**(params or {}), **(query or {})},
        "headers": {"cookie": cookie, "host": "localhost:3000", "origin": "http://localhost:3000",
                    "accept-language": language},
    }
    wanted = root.get_substate(state_cls.get_full_name().split("."))
    session_state = root.get_substate(SessionState.get_full_name().split("."))
    for state in {id(s): s for s in (root, session_state, wanted)}.values():
        state._update_router_vars(router_data, {})
    return wanted


async def run(handler_result):  # noqa: ANN001, ANN201
    """Await a handler's result, or drain it if it yields; returns the last value."""
    if hasattr(handler_result, "__aiter__"):
        last = None
        async for last in handler_result:
            pass
        return last
    if hasattr(handler_result, "__await__"):
        return await handler_result
    return handler_result
