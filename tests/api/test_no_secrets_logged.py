"""Passwords, password hashes and tokens never reach the logs: every logger at DEBUG
(SQL statements with their parameters included) over sign-up, log-in (API and browser
form, a wrong password too), refresh, password change and a chat with an access token
(REST and WebSocket). The running app's own log is checked in
tests/ui/test_live_app.py::test_the_app_log_holds_no_password_or_token."""

import logging

from sqlmodel import select

from supportbot.api.browser_session import ACCESS_COOKIE, REFRESH_COOKIE
from supportbot.models import User

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "another long passphrase 42"
WRONG = "wrong guess of a passphrase"


def exercise(client) -> list[str]:
    """Every way a secret travels; returns the secrets that were used or issued."""
    secrets = [PASSWORD, NEW_PASSWORD, WRONG]
    account = {"username": "rosa", "email": "rosa@example.org", "password": PASSWORD}
    assert client.post("/api/auth/register/", json=account).status_code == 201
    assert client.post("/api/auth/login/", json={"username": "rosa",
                                                 "password": WRONG}).status_code == 401
    tokens = client.post("/api/auth/login/", json={"username": "rosa",
                                                   "password": PASSWORD}).json()
    rotated = client.post("/api/auth/token/refresh/",
                          json={"refresh_token": tokens["refresh_token"]}).json()
    secrets += [tokens["access_token"], tokens["refresh_token"], rotated["access_token"],
                rotated["refresh_token"]]
    bearer = {"Authorization": f"Bearer {rotated['access_token']}"}
    session_id = client.post("/api/chat/session/", headers=bearer).json()["session_id"]
    said = client.post("/api/chat/message/", headers=bearer,
                       json={"session_id": session_id, "text": "my printer is jammed"})
    assert said.status_code == 200, said.text
    with client.websocket_connect(f"/ws/chat/{session_id}/?access_token="
                                  f"{rotated['access_token']}") as socket:
        assert socket.receive_json()["type"] == "ready"
    changed = client.post("/api/auth/password/", headers=bearer, json={
        "current_password": PASSWORD, "new_password": NEW_PASSWORD}).json()
    secrets += [changed["access_token"], changed["refresh_token"]]
    form = client.post("/api/auth/session/", follow_redirects=False, data={
        "username": "rosa", "password": NEW_PASSWORD, "next": "/"})
    secrets += [form.cookies[ACCESS_COOKIE], form.cookies[REFRESH_COOKIE]]
    refreshed = client.get("/api/auth/session/refresh/?next=/", follow_redirects=False)
    secrets += [refreshed.cookies[ACCESS_COOKIE], refreshed.cookies[REFRESH_COOKIE]]
    return secrets


def test_no_password_hash_or_token_is_logged(client, session, caplog):
    # Every logger at DEBUG, those that set their own level too (SQLAlchemy sets WARN).
    for name in ["", *logging.root.manager.loggerDict]:
        caplog.set_level(logging.DEBUG, logger=name)
    secrets = exercise(client)
    session.expire_all()
    hashes = list(session.exec(select(User.password_hash).where(User.username == "rosa")))
    records = [f"{record.name} {record.getMessage()} {record.args!r}"
               for record in caplog.records]
    logged = "\n".join(records)
    assert len(records) > 20 and "INSERT INTO users" in logged  # SQL was logged
    leaked = [secret[:12] + "..." for secret in secrets if secret in logged]
    assert leaked == []
    # Not even the signature part of a token (what makes it usable).
    signatures = [s.rsplit(".", 1)[-1] for s in secrets if s.count(".") == 2]
    assert [s for s in signatures if s in logged] == []
    # Statement parameters are hidden (db.build_engine), so the hash is not in the INSERT
    # or UPDATE that wrote it; SQLAlchemy's DEBUG level prints result rows, i.e. what the
    # database holds, and is never for production (docs/security.md).
    written = [r for r in records if "Row (" not in r]
    assert hashes and [h for h in hashes if h in "\n".join(written)] == []
    assert "[SQL parameters hidden" in logged or "hidden due to hide_parameters" in logged
