"""Browser login: a form post sets HttpOnly cookies; refresh and logout via cookies."""

import pytest

from supportbot.api.browser_session import ACCESS_COOKIE, REFRESH_COOKIE, safe_next
from tests.conftest import PASSWORD

ORIGIN = {"origin": "http://localhost:3000"}


@pytest.fixture
def alice(make_user):
    return make_user("alice")


def form_login(client, password=PASSWORD, next_path="/account", headers=ORIGIN):
    return client.post("/api/auth/session/", headers=headers, follow_redirects=False,
                       data={"username": "alice", "password": password, "next": next_path})


def test_login_sets_httponly_cookies_and_redirects_back(client, alice):
    response = form_login(client)
    assert response.status_code == 303
    assert response.headers["location"] == "http://localhost:3000/account"
    cookies = response.headers.get_list("set-cookie")
    access = next(c for c in cookies if c.startswith(ACCESS_COOKIE))
    refresh = next(c for c in cookies if c.startswith(REFRESH_COOKIE))
    assert "HttpOnly" in access and "SameSite=lax" in access and "Path=/" in access
    assert "HttpOnly" in refresh and "Path=/api/auth/session" in refresh
    assert "Secure" not in access  # development; production adds it


def test_wrong_password_goes_back_to_the_form_with_a_code(client, alice):
    response = form_login(client, password="wrong password")
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("http://localhost:3000/login?error=invalid_credentials")
    assert "login=alice" in location and "next=%2Faccount" in location
    assert "set-cookie" not in response.headers


def test_cross_site_post_is_refused(client, alice):
    response = form_login(client, headers={"origin": "https://evil.example"})
    assert "error=permission_denied" in response.headers["location"]
    assert response.headers["location"].startswith("http://localhost:3000/")  # never evil
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example", "/\\evil", ""])
def test_open_redirects_are_refused(target):
    assert safe_next(target) == "/"


def test_refresh_and_logout_with_cookies(client, alice):
    form_login(client)
    refreshed = client.get("/api/auth/session/refresh/?next=/kb", headers=ORIGIN,
                           follow_redirects=False)
    assert refreshed.status_code == 303
    assert refreshed.headers["location"] == "http://localhost:3000/kb"
    assert any(c.startswith(ACCESS_COOKIE) for c in refreshed.headers.get_list("set-cookie"))
    out = client.post("/api/auth/session/logout/", headers=ORIGIN, follow_redirects=False)
    assert out.status_code == 303
    cleared = out.headers.get_list("set-cookie")
    assert any(c.startswith(f'{ACCESS_COOKIE}=""') for c in cleared)
    client.cookies.clear()
    again = client.get("/api/auth/session/refresh/?next=/kb&required=false", headers=ORIGIN,
                       follow_redirects=False)
    assert again.headers["location"] == "http://localhost:3000/kb"  # anonymous, no loop
    required = client.get("/api/auth/session/refresh/?next=/account", headers=ORIGIN,
                          follow_redirects=False)
    assert "/login?error=" in required.headers["location"]


def test_any_host_setting_never_redirects_off_site(client, alice, settings_env):
    settings_env(ALLOWED_HOSTS="*", PUBLIC_URL="https://help.example.org")
    response = form_login(client, password="wrong password",
                          headers={"origin": "https://evil.example"})
    assert response.headers["location"].startswith("https://help.example.org/login?")
