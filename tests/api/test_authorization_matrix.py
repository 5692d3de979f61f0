"""Who may call what: every route of the API's route table (`create_api().routes`) against
anonymous, a user (ana), another user (bob), an agent and an admin.

`MATRIX` holds one rule per route (method and path). A route added to the API without a
rule, or a rule left for a route that is gone, fails `test_every_route_has_a_rule`, so
nobody ships an endpoint without deciding who reaches it. Each rule is a real request per
caller, on a fresh world, with the status expected: 401 no token, 403 role, 404 not
theirs (never "forbidden": no hints that it exists).
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.routing import APIWebSocketRoute
from starlette.routing import BaseRoute
from starlette.websockets import WebSocketDisconnect

from supportbot.api.app import create_api
from supportbot.models import KbSuggestion
from supportbot.services import auth_tokens, chat, knowledge, requester
from supportbot.services.permissions import SYSTEM
from tests.api.conftest import assert_error
from tests.conftest import PASSWORD

CALLERS = ("anonymous", "user", "other", "agent", "admin")
OPEN = (200,) * 5  # everyone, anonymous included


def route_table(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(METHOD, path) of every route, included routers flattened; WS for WebSockets."""
    for route in routes:
        inner = getattr(route, "original_router", None)  # an included router
        if inner is not None:
            yield from route_table(inner.routes, prefix + route.include_context.prefix)
        elif isinstance(route, APIWebSocketRoute):
            yield "WS", prefix + route.path
        else:
            for method in sorted(set(getattr(route, "methods", None) or ()) - {"HEAD"}):
                yield method, prefix + route.path


@dataclass(frozen=True)
class Rule:
    """The status each of CALLERS gets; `body(world, caller)` is the JSON (or form) sent;
    `params` overrides path parameters (the world's defaults are the strictest case)."""

    expected: tuple[int, ...]
    body: Callable[[dict[str, Any], str], Any] | None = None
    params: dict[str, str] = field(default_factory=dict)
    form: bool = False


def json_of(**values: Any) -> Callable[[dict[str, Any], str], Any]:
    """A body with {placeholders} filled from the world and {caller}."""
    def build(world: dict[str, Any], caller: str) -> Any:
        return {key: value.format(caller=caller, **world) if isinstance(value, str) else value
                for key, value in values.items()}
    return build


def refresh_body(world: dict[str, Any], caller: str) -> Any:
    return {"refresh_token": world["refresh"].get(caller, "not-a-token")}


ARTICLE = json_of(title="Coffee machine E42", solution="Empty the drip tray.")
MATRIX: dict[tuple[str, str], list[Rule]] = {
    # Documentation and scraping: public by design (METRICS_TOKEN closes /metrics).
    ("GET", "/api/openapi.json"): [Rule(OPEN)],
    ("GET", "/api/docs"): [Rule(OPEN)],
    ("GET", "/docs/oauth2-redirect"): [Rule(OPEN)],
    ("GET", "/metrics"): [Rule(OPEN)],
    # Accounts: sign-up and log-in are for everyone; the rest needs one's own token.
    ("POST", "/api/auth/register/"): [Rule((201,) * 5, json_of(
        username="new-{caller}", email="new-{caller}@example.org", password=PASSWORD))],
    ("POST", "/api/auth/login/"): [Rule(OPEN, json_of(username="ana", password=PASSWORD))],
    ("POST", "/api/auth/token/refresh/"): [Rule((401, 200, 200, 200, 200), refresh_body)],
    ("GET", "/api/auth/me/"): [Rule((401, 200, 200, 200, 200))],
    ("POST", "/api/auth/logout/"): [Rule((204,) * 5, refresh_body)],
    ("POST", "/api/auth/password/"): [Rule((401, 200, 200, 200, 200), json_of(
        current_password=PASSWORD, new_password="a brand new passphrase"))],
    # The browser's log-in form and cookies: always a redirect (to the page or the form).
    ("POST", "/api/auth/session/"): [Rule((303,) * 5, json_of(
        username="ana", password=PASSWORD, next="/"), form=True)],
    ("GET", "/api/auth/session/refresh/"): [Rule((303,) * 5)],
    ("POST", "/api/auth/session/logout/"): [Rule((303,) * 5)],
    # Tickets: ana's ticket is hers and the staff's; bob gets 404.
    ("POST", "/api/tickets/"): [Rule((401, 201, 201, 201, 201), json_of(title="Printer"))],
    ("GET", "/api/tickets/"): [Rule((401, 200, 200, 200, 200))],
    ("GET", "/api/tickets/{ticket_id}/"): [Rule((401, 200, 404, 200, 200))],
    ("PATCH", "/api/tickets/{ticket_id}/"): [
        Rule((401, 200, 404, 200, 200), json_of(title="Laptop dead")),
        Rule((401, 403, 404, 200, 200), json_of(priority="high")),
    ],
    ("POST", "/api/tickets/{ticket_id}/messages/"): [
        Rule((401, 201, 404, 201, 201), json_of(text="Any news?")),
        Rule((401, 403, 404, 201, 201), json_of(text="note", internal=True)),
    ],
    ("POST", "/api/tickets/{ticket_id}/close/"): [Rule((401, 200, 404, 200, 200))],
    # Chat: an account's conversation answers to that account only (404 for anyone else,
    # staff included: they take it over with /api/admin/escalate/); anonymous ones to
    # whoever holds the session id.
    ("POST", "/api/chat/session/"): [Rule((201,) * 5)],
    ("POST", "/api/chat/message/"): [
        Rule((404, 200, 404, 404, 404), json_of(session_id="{session_id}", text="hello")),
        Rule(OPEN, json_of(session_id="{anonymous_session}", text="hello")),
    ],
    ("GET", "/api/chat/conversations/{session_id}/"): [
        Rule((404, 200, 404, 404, 404)),
        Rule(OPEN, params={"session_id": "{anonymous_session}"}),
    ],
    ("POST", "/api/chat/feedback/"): [Rule((404, 200, 404, 404, 404), json_of(
        session_id="{session_id}", message_id="{bot_message}", rating=1))],
    # WebSocket: 200 stands for "accepted", 404 for close code 4404.
    ("WS", "/ws/chat/{session_id}/"): [
        Rule((404, 200, 404, 404, 404)),
        Rule(OPEN, params={"session_id": "{anonymous_session}"}),
    ],
    # Knowledge base: published articles for everyone, everything else for admins.
    ("GET", "/api/kb/"): [Rule(OPEN)],
    ("POST", "/api/kb/"): [Rule((401, 403, 403, 403, 201), ARTICLE)],
    ("POST", "/api/kb/reindex/"): [Rule((401, 403, 403, 403, 202))],
    ("GET", "/api/kb/reindex/{job_id}/"): [Rule((401, 403, 403, 403, 404))],  # no such job
    ("GET", "/api/kb/{article_id}/"): [
        Rule((404, 404, 404, 404, 200)),  # a draft
        Rule(OPEN, params={"article_id": "{published}"}),
    ],
    ("PUT", "/api/kb/{article_id}/"): [Rule((401, 403, 403, 403, 200), json_of(
        title="Coffee machine E42", solution="Descale it.", expected_version=1))],
    ("DELETE", "/api/kb/{article_id}/"): [Rule((401, 403, 403, 403, 204))],
    # Administration: admins; taking a conversation over: agents too.
    ("GET", "/api/admin/users/"): [Rule((401, 403, 403, 403, 200))],
    ("GET", "/api/admin/metrics/"): [Rule((401, 403, 403, 403, 200))],
    ("POST", "/api/admin/escalate/"): [Rule((401, 403, 403, 201, 201), json_of(
        session_id="{anonymous_session}"))],
    ("GET", "/api/admin/suggestions/"): [Rule((401, 403, 403, 403, 200))],
    ("POST", "/api/admin/suggestions/digest/"): [Rule((401, 403, 403, 403, 202))],
    ("GET", "/api/admin/suggestions/digest/{job_id}/"): [Rule((401, 403, 403, 403, 404))],
    ("GET", "/api/admin/suggestions/{suggestion_id}/"): [Rule((401, 403, 403, 403, 200))],
    ("POST", "/api/admin/suggestions/{suggestion_id}/accept/"): [
        Rule((401, 403, 403, 403, 200))],
    ("POST", "/api/admin/suggestions/{suggestion_id}/reject/"): [
        Rule((401, 403, 403, 403, 200))],
}
CASES = [(method, path, index, rule) for (method, path), rules in MATRIX.items()
         for index, rule in enumerate(rules)]


def test_every_route_has_a_rule():
    routes = set(route_table(create_api().routes))
    # The table was read whole: included routers, the WebSocket and the docs routes too.
    assert {("WS", "/ws/chat/{session_id}/"), ("GET", "/api/docs")} <= routes
    assert len(routes) >= 40
    assert sorted(routes - set(MATRIX)) == [], "routes without a rule: add them to MATRIX"
    assert sorted(set(MATRIX) - routes) == [], "rules for routes that no longer exist"


@pytest.fixture
def world(session, callers, monkeypatch):
    """ana's ticket and chat (with a bot message), an anonymous chat, a draft and a
    published article, a pending suggestion, and a refresh token per caller."""
    import supportbot.jobs.reindex as reindex

    monkeypatch.setattr(reindex, "schedule_reindex", lambda: None)
    ana = callers["user"].user
    ticket = requester.open_ticket(session, ana, title="Laptop", description="It beeps.")
    owned = chat.start_conversation(session, user=ana)
    turn = chat.send_message(session, owned.session_id, "talk to a person", user=ana,
                             request_human=True, searcher=_no_index, generator=None)
    anonymous = chat.start_conversation(session)
    draft = knowledge.create_entry(session, SYSTEM, knowledge.ArticleDraft(
        "Coffee machine E42", solution="Empty the drip tray."))
    published = knowledge.create_entry(session, SYSTEM, knowledge.ArticleDraft(
        "VPN drops", solution="Reconnect.", status="published"))
    suggestion = KbSuggestion(kind="new_article", title="Printer jam", problem="printer jam",
                              solution="Open tray 2.", phrasings=["printer jammed"],
                              case_keys=["ticket:1"])
    session.add(suggestion)
    refresh = {name: auth_tokens.issue_tokens(session, caller.user).refresh_token
               for name, caller in callers.items() if caller.user is not None}
    session.commit()
    return {"ticket_id": str(ticket.id), "session_id": owned.session_id,
            "bot_message": str(turn.bot_message.id), "anonymous_session": anonymous.session_id,
            "article_id": str(draft.id), "published": str(published.id),
            "suggestion_id": str(suggestion.id), "job_id": "no-such-job", "refresh": refresh}


def _no_index(_query):  # noqa: ANN001, ANN202
    raise chat.IndexUnavailable("no index in this test")


def _url(path: str, rule: Rule, world: dict[str, Any]) -> str:
    values = {name: value for name, value in world.items() if isinstance(value, str)}
    values |= {name: value.format(**values) for name, value in rule.params.items()}
    return path.format(**values)


def _call(client, method: str, url: str, rule: Rule, world: dict[str, Any], name: str,
          headers: dict[str, str]) -> int:
    if method == "WS":
        try:
            with client.websocket_connect(url, headers=headers) as socket:
                assert socket.receive_json()["type"] == "ready"
                return 200
        except WebSocketDisconnect as closed:
            return closed.code - 4000
    body = rule.body(world, name) if rule.body else None
    kwargs: dict[str, Any] = {"follow_redirects": False}
    if body is not None:
        kwargs["data" if rule.form else "json"] = body
    response = client.request(method, url, headers=headers, **kwargs)
    if response.status_code >= 400:
        assert_error(response, response.status_code)  # the one error shape
    return response.status_code


@pytest.mark.parametrize(("method", "path", "index", "rule"), CASES,
                         ids=[f"{m} {p} #{i}" for m, p, i, _ in CASES])
def test_each_caller_gets_what_the_rule_says(client, callers, world, method, path, index,
                                             rule):
    got = {}
    for name in CALLERS:
        got[name] = _call(client, method, _url(path, rule, world), rule, world, name,
                          callers[name].headers)
    assert got == dict(zip(CALLERS, rule.expected, strict=True))


def test_roles_in_the_matrix_only_grow():
    """Sanity of the table itself: nothing a user may do is refused to an admin, except
    what belongs to one account (its own chat), which is refused to everyone else."""
    rank = {"anonymous": -1, "user": 0, "other": 0, "agent": 1, "admin": 2}
    for (method, path), rules in MATRIX.items():
        for rule in rules:
            allowed = [rank[n] for n, s in zip(CALLERS, rule.expected) if s < 400]
            refused = [rank[n] for n, s in zip(CALLERS, rule.expected) if s in (401, 403)]
            assert not allowed or not refused or max(refused) < min(allowed), (method, path)
