"""The app as `make run` starts it: pages, health check and the API on one port."""

import httpx
import pytest

from tests.ui.conftest import DEMO_PASSWORDS

pytestmark = pytest.mark.app


def test_health_and_pages_are_served(live_app):
    health = httpx.get(f"{live_app}/_health")
    assert health.status_code == 200 and health.json() == {"status": True, "db": True}
    for path in ("/", "/kb", "/login", "/register"):
        response = httpx.get(f"{live_app}{path}", follow_redirects=True)
        assert response.status_code == 200, path
        assert "<title>SupportBot" in response.text
    icon = httpx.get(f"{live_app}/favicon.svg")
    assert icon.status_code == 200 and icon.text.startswith("<svg")


def test_api_is_mounted_in_the_same_process(live_app):
    tokens = httpx.post(f"{live_app}/api/auth/login/",
                        json={"username": "agent", "password": DEMO_PASSWORDS["agent"]})
    assert tokens.status_code == 200
    me = httpx.get(f"{live_app}/api/auth/me/",
                   headers={"Authorization": f"Bearer {tokens.json()['access_token']}"})
    assert me.json()["role"] == "agent"


def test_unknown_host_header_is_refused(live_app):
    response = httpx.get(f"{live_app}/_health", headers={"host": "evil.example"})
    assert response.status_code == 400
