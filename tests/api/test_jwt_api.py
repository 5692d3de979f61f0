"""Forged and stale tokens at every door that takes one: the REST API (Bearer), the chat
WebSocket, the pages (the `sb_access` cookie) and the browser's refresh cookie. The
token rules themselves are tested in tests/services/test_auth_tokens.py; here: each door
refuses them the same way (401, close 4401, anonymous page) and never fails open."""

import base64
import json
from datetime import timedelta

import jwt
import pytest
from starlette.websockets import WebSocketDisconnect

from supportbot.api.browser_session import ACCESS_COOKIE, REFRESH_COOKIE
from supportbot.config import get_settings
from supportbot.models import utcnow
from supportbot.services import auth_tokens, chat
from supportbot.ui.state import SessionState
from tests.api.conftest import assert_error
from tests.conftest import PASSWORD
from tests.ui.states import page_state


def _claims(token):
    return jwt.decode(token, options={"verify_signature": False})


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def forged(kind: str, token: str) -> str:
    """`token` (a valid access token) turned into a bad one of `kind`."""
    claims, key = _claims(token), get_settings().secret_key
    header, payload, signature = token.split(".")
    if kind == "tampered":  # the role raised, the signature kept
        return f"{header}.{_b64({**claims, 'role': 'admin'})}.{signature}"
    if kind == "expired":
        return jwt.encode({**claims, "exp": int((utcnow() - timedelta(seconds=5)).timestamp())},
                          key, algorithm="HS256")
    if kind == "alg-none":
        return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64({**claims, 'role': 'admin'})}."
    if kind == "wrong-key":
        return jwt.encode({**claims, "role": "admin"}, "not-the-server-key" * 4,
                          algorithm="HS256")
    if kind == "no-expiry":
        return jwt.encode({k: v for k, v in claims.items() if k != "exp"}, key,
                          algorithm="HS256")
    if kind == "other-issuer":
        return jwt.encode({**claims, "iss": "someone-else"}, key, algorithm="HS256")
    raise ValueError(kind)


KINDS = ["tampered", "expired", "alg-none", "wrong-key", "no-expiry", "other-issuer"]


@pytest.fixture
def alice(session, make_user):
    user = make_user("alice")
    pair = auth_tokens.issue_tokens(session, user)
    session.commit()
    return user, pair


@pytest.mark.parametrize("kind", KINDS)
def test_the_api_refuses_bad_tokens_with_401(client, alice, kind):
    _user, pair = alice
    good = {"Authorization": f"Bearer {pair.access_token}"}
    assert client.get("/api/auth/me/", headers=good).status_code == 200
    bad = {"Authorization": f"Bearer {forged(kind, pair.access_token)}"}
    code = "session_expired" if kind == "expired" else "not_authenticated"
    for method, url in (("get", "/api/auth/me/"), ("get", "/api/tickets/"),
                        ("get", "/api/admin/users/"), ("post", "/api/chat/session/")):
        response = client.request(method, url, headers=bad)
        assert_error(response, 401, code)  # a bad token is never "anonymous"
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("kind", KINDS)
def test_the_chat_websocket_refuses_bad_tokens(client, session, alice, kind):
    user, pair = alice
    owned = chat.start_conversation(session, user=user)
    session.commit()
    with client.websocket_connect(f"/ws/chat/{owned.session_id}/",
                                  headers={"Authorization": f"Bearer {pair.access_token}"}) as ok:
        assert ok.receive_json()["type"] == "ready"
    bad = forged(kind, pair.access_token)
    for target, headers in ((f"/ws/chat/{owned.session_id}/", {"Authorization": f"Bearer {bad}"}),
                            (f"/ws/chat/{owned.session_id}/?access_token={bad}", {})):
        with pytest.raises(WebSocketDisconnect) as refused:
            with client.websocket_connect(target, headers=headers):
                pass
        assert refused.value.code == 4401


@pytest.mark.parametrize("kind", KINDS)
def test_pages_treat_a_bad_cookie_as_nobody(database, alice, kind):
    _user, pair = alice
    state = page_state(SessionState, cookie=f"{ACCESS_COOKIE}={pair.access_token}")
    state.load_session()
    assert state.username == "alice"
    state = page_state(SessionState, cookie=f"{ACCESS_COOKIE}={forged(kind, pair.access_token)}",
                       route="/account")
    redirect = state.load_session()
    assert state.username == "" and state.role == ""
    if kind == "expired":  # through the refresh route, then back here
        assert "/api/auth/session/refresh/" in str(redirect)


def test_a_refresh_token_is_not_accepted_as_an_access_token_anywhere(client, alice):
    _user, pair = alice
    assert_error(client.get("/api/auth/me/",
                            headers={"Authorization": f"Bearer {pair.refresh_token}"}), 401)
    state = page_state(SessionState, cookie=f"{ACCESS_COOKIE}={pair.refresh_token}")
    state.load_session()
    assert state.username == ""


@pytest.mark.parametrize("kind", ["tampered", "expired", "alg-none", "wrong-key"])
def test_forged_refresh_tokens_get_no_new_pair(client, alice, kind):
    _user, pair = alice
    claims = _claims(pair.refresh_token)
    key = get_settings().secret_key
    nobody = "00000000-0000-0000-0000-000000000000"
    header, _payload, signature = pair.refresh_token.split(".")
    bad = {
        "tampered": lambda: f"{header}.{_b64({**claims, 'sub': nobody})}.{signature}",
        "expired": lambda: jwt.encode({**claims, "exp": int((utcnow() - timedelta(seconds=5))
                                                            .timestamp())}, key, "HS256"),
        "alg-none": lambda: f"{_b64({'alg': 'none'})}.{_b64(claims)}.",
        "wrong-key": lambda: jwt.encode(claims, "not-the-server-key" * 4, "HS256"),
    }[kind]()
    response = client.post("/api/auth/token/refresh/", json={"refresh_token": bad})
    assert_error(response, 401)
    # The real one still works: a forgery spends nothing.
    assert client.post("/api/auth/token/refresh/",
                       json={"refresh_token": pair.refresh_token}).status_code == 200


def test_a_replayed_refresh_cookie_logs_the_browser_out_and_kills_the_family(client, alice):
    """A stolen refresh cookie used after its owner refreshed: the thief gets the log-in
    page, and the owner's newer cookie dies with it (reuse means theft)."""
    origin = {"origin": "http://localhost:3000"}
    login = client.post("/api/auth/session/", headers=origin, follow_redirects=False,
                        data={"username": "alice", "password": PASSWORD, "next": "/"})
    stolen = login.cookies[REFRESH_COOKIE]
    first = client.get("/api/auth/session/refresh/?next=/", headers=origin,
                       follow_redirects=False)
    newer = first.cookies[REFRESH_COOKIE]
    assert first.headers["location"] == "http://localhost:3000/" and newer != stolen
    client.cookies.clear()
    client.cookies.set(REFRESH_COOKIE, stolen)  # the thief's browser
    replay = client.get("/api/auth/session/refresh/?next=/account", headers=origin,
                        follow_redirects=False)
    assert "/login?error=session_expired" in replay.headers["location"]
    assert any(c.startswith(f'{REFRESH_COOKIE}=""') for c in replay.headers.get_list("set-cookie"))
    client.cookies.clear()
    client.cookies.set(REFRESH_COOKIE, newer)  # the owner's browser
    owner = client.get("/api/auth/session/refresh/?next=/account", headers=origin,
                       follow_redirects=False)
    assert "/login?error=session_expired" in owner.headers["location"]
