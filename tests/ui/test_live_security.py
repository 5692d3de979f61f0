"""The running app (`reflex run --env prod`): its own log never holds a password or a
token, and it serves no file-upload route."""

import time
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from tests.ui.conftest import LIVE

pytestmark = pytest.mark.app

PASSWORD = "a live passphrase for the log test"
NEW_PASSWORD = "a second live passphrase 77"


def test_the_app_log_holds_no_password_or_token(live_app):
    secrets = [PASSWORD, NEW_PASSWORD, "a wrong live guess 123"]
    with httpx.Client(base_url=live_app, timeout=60) as api:
        assert api.post("/api/auth/register/", json={
            "username": "logcheck", "email": "logcheck@example.org",
            "password": PASSWORD}).status_code == 201
        assert api.post("/api/auth/login/", json={"username": "logcheck",
                                                  "password": secrets[2]}).status_code == 401
        tokens = api.post("/api/auth/login/", json={"username": "logcheck",
                                                    "password": PASSWORD}).json()
        rotated = api.post("/api/auth/token/refresh/",
                           json={"refresh_token": tokens["refresh_token"]}).json()
        bearer = {"Authorization": f"Bearer {rotated['access_token']}"}
        session_id = api.post("/api/chat/session/", headers=bearer).json()["session_id"]
        assert api.post("/api/chat/message/", headers=bearer, json={
            "session_id": session_id, "text": "I forgot my password"}).status_code == 200
        socket_url = live_app.replace("http://", "ws://")
        with connect(f"{socket_url}/ws/chat/{session_id}/?access_token="
                     f"{rotated['access_token']}") as socket:
            assert '"ready"' in socket.recv(timeout=30)
        changed = api.post("/api/auth/password/", headers=bearer, json={
            "current_password": PASSWORD, "new_password": NEW_PASSWORD}).json()
        form = api.post("/api/auth/session/", follow_redirects=False,
                        headers={"origin": live_app},
                        data={"username": "logcheck", "password": NEW_PASSWORD, "next": "/"})
        assert form.status_code == 303 and "sb_access" in form.cookies
        secrets += [tokens["access_token"], tokens["refresh_token"], rotated["access_token"],
                    rotated["refresh_token"], changed["access_token"],
                    changed["refresh_token"], form.cookies["sb_access"],
                    form.cookies["sb_refresh"]]
    time.sleep(1)  # the log is written by another process
    log = Path(LIVE["log_path"]).read_text(errors="replace")
    assert len(log) > 200  # the real log, with the app's start-up in it
    assert [s[:12] + "..." for s in secrets if s in log] == []
    assert [s for s in (t.rsplit(".", 1)[-1] for t in secrets if t.count(".") == 2)
            if s in log] == []


def test_no_file_upload_route_is_served(live_app):
    """Reflex adds `/_upload` only when a page uses rx.upload; none does, so no file
    can be written through the app (attachments are references: services.input_guard)."""
    for method in ("POST", "GET"):
        response = httpx.request(method, f"{live_app}/_upload", timeout=30,
                                 files={"files": ("../../x.txt", b"x")} if method == "POST"
                                 else None)
        assert response.status_code in (404, 405), (method, response.status_code)
    traversal = httpx.get(f"{live_app}/_upload/../../etc/passwd", timeout=30)
    assert "root:" not in traversal.text
