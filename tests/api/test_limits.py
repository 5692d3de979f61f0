"""Rate limits (429 + Retry-After), the request size limit (413) and CORS."""

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from supportbot.api.app import create_api
from tests.api.conftest import assert_error
from tests.conftest import PASSWORD


@pytest.fixture
def make_client(database, settings_env):
    """A client of an app built with these settings: make_client(RATE_LIMIT_LOGIN="2/minute")."""
    clients = []

    def build(ip="203.0.113.7", app=None, **env):
        settings_env(**env)
        test_client = TestClient(app or create_api(), client=(ip, 50000))
        clients.append(test_client.__enter__())
        return test_client

    yield build
    for test_client in clients:
        test_client.__exit__(None, None, None)


def assert_rate_limited(response):
    assert_error(response, 429, "rate_limited")
    assert 1 <= int(response.headers["retry-after"]) <= 60


def login(client, username="ana"):
    return client.post("/api/auth/login/", json={"username": username, "password": PASSWORD})


def test_login_and_register_share_the_strict_limit(make_client, make_user):
    make_user("ana")
    client = make_client(RATE_LIMIT_LOGIN="3/minute")
    assert login(client).status_code == 200
    assert login(client, "nobody").status_code == 401  # failures count too
    register = client.post("/api/auth/register/", json={
        "username": "carl", "email": "carl@example.org", "password": PASSWORD})
    assert register.status_code == 201
    assert_rate_limited(login(client))
    other_ip = make_client(ip="198.51.100.1", app=client.app)
    assert login(other_ip).status_code == 200  # per IP


def test_password_guessing_stops_at_the_limit_on_every_log_in_door(make_client, make_user):
    """The API's log-in and the browser's log-in form share one count per address; once
    it is reached even the right password is refused, so guessing learns nothing more."""
    make_user("ana")
    client = make_client(RATE_LIMIT_LOGIN="4/minute")
    form = {"username": "ana", "password": "guess", "next": "/"}
    for _ in range(2):
        assert client.post("/api/auth/login/", json={
            "username": "ana", "password": "a wrong guess"}).status_code == 401
        guessed = client.post("/api/auth/session/", data=form, follow_redirects=False)
        assert "error=invalid_credentials" in guessed.headers["location"]
    assert_rate_limited(login(client))  # the right password, too late
    assert_rate_limited(client.post("/api/auth/session/", follow_redirects=False,
                                    data={**form, "password": PASSWORD}))
    assert_rate_limited(client.post("/api/auth/token/refresh/", json={"refresh_token": "x"}))


def test_anonymous_chat_has_its_own_limit_accounts_do_not(make_client, callers):
    client = make_client(RATE_LIMIT_ANON_CHAT="2/minute")
    for _ in range(2):
        assert client.post("/api/chat/session/").status_code == 201
    assert_rate_limited(client.post("/api/chat/session/"))
    logged_in = client.post("/api/chat/session/", headers=callers["user"].headers)
    assert logged_in.status_code == 201
    assert client.get("/api/kb/").status_code == 200  # other routes: the default limit


def test_default_limit_per_ip_and_per_account(make_client, callers):
    client = make_client(RATE_LIMIT_DEFAULT="3/minute")
    for _ in range(3):
        assert client.get("/api/kb/").status_code == 200
    assert_rate_limited(client.get("/api/kb/"))
    headers = callers["agent"].headers
    elsewhere = [make_client(ip=f"192.0.2.{n}", app=client.app) for n in range(1, 5)]
    for other in elsewhere[:3]:  # one account from three addresses
        assert other.get("/api/tickets/", headers=headers).status_code == 200
    assert_rate_limited(elsewhere[3].get("/api/tickets/", headers=headers))
    assert elsewhere[3].get("/api/kb/").status_code == 200  # that address itself is fine


def test_anonymous_websocket_messages_count_as_anonymous_chat(make_client):
    client = make_client(RATE_LIMIT_ANON_CHAT="2/minute")
    session_id = client.post("/api/chat/session/").json()["session_id"]
    with client.websocket_connect(f"/ws/chat/{session_id}/") as socket:
        socket.receive_json()
        socket.send_json({"text": "", "request_human": True})
        assert socket.receive_json()["type"] == "answer"
        socket.send_json({"text": "again"})
        refused = socket.receive_json()
        assert refused["type"] == "error" and refused["error"]["status"] == 429
        assert refused["retry_after"] >= 1


def test_websocket_handshakes_count_against_the_default_limit(make_client):
    client = make_client(RATE_LIMIT_DEFAULT="2/minute")
    session_id = client.post("/api/chat/session/").json()["session_id"]
    with client.websocket_connect(f"/ws/chat/{session_id}/") as socket:
        assert socket.receive_json()["type"] == "ready"
    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect(f"/ws/chat/{session_id}/"):
            pass
    assert refused.value.code == 4429


def test_oversize_bodies_get_413(make_client, callers):
    client = make_client(API_MAX_BODY_BYTES="2048")
    big = {"title": "Big", "description": "x" * 3000}
    declared = client.post("/api/tickets/", headers=callers["user"].headers, json=big)
    assert_error(declared, 413, "too_large")

    def chunks():  # no Content-Length: the size is counted as the body streams in
        yield b'{"title": "Big", "description": "'
        for _ in range(10):
            yield b"x" * 500
        yield b'"}'

    streamed = client.post("/api/tickets/", content=chunks(),
                           headers={**callers["user"].headers,
                                    "content-type": "application/json"})
    assert_error(streamed, 413, "too_large")
    small = client.post("/api/tickets/", headers=callers["user"].headers,
                        json={"title": "Small", "description": "x" * 1000})
    assert small.status_code == 201


def test_oversize_websocket_messages_close_the_socket(make_client):
    client = make_client(API_MAX_BODY_BYTES="2048")
    session_id = client.post("/api/chat/session/").json()["session_id"]
    with client.websocket_connect(f"/ws/chat/{session_id}/") as socket:
        socket.receive_json()
        socket.send_json({"text": "x" * 3000})
        assert socket.receive_json()["error"]["status"] == 413
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_json()
        assert closed.value.code == 1009


def preflight(client, origin):
    return client.options("/api/chat/session/", headers={
        "origin": origin, "access-control-request-method": "POST",
        "access-control-request-headers": "content-type"})


def test_cors_is_off_by_default(make_client):
    client = make_client()
    response = client.post("/api/chat/session/", headers={"origin": "https://shop.example"})
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-origin" not in preflight(client, "https://shop.example").headers


def test_cors_allows_the_configured_origins(make_client):
    client = make_client(CORS_ORIGINS="https://shop.example, https://help.example")
    allowed = preflight(client, "https://shop.example")
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://shop.example"
    refused = preflight(client, "https://evil.example")
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    simple = client.post("/api/chat/session/", headers={"origin": "https://help.example"})
    assert simple.headers["access-control-allow-origin"] == "https://help.example"


def test_limits_are_shared_through_redis(make_client, make_user, redis_url):
    make_user("ana")
    first = make_client(REDIS_URL=redis_url, RATE_LIMIT_LOGIN="2/minute")
    second = make_client(app=create_api())  # another process, the same Redis
    assert login(first).status_code == 200
    assert login(second).status_code == 200
    assert_rate_limited(login(first))
    assert_rate_limited(login(second))


def test_bad_limit_settings_name_the_variable(monkeypatch):
    from supportbot.config import ConfigError, load_settings

    monkeypatch.setenv("RATE_LIMIT_LOGIN", "lots")
    with pytest.raises(ConfigError, match="RATE_LIMIT_LOGIN"):
        load_settings(_env_file=None)
