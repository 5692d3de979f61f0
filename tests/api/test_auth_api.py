from tests.conftest import PASSWORD


def register(client, username="alice", email=None, password=PASSWORD):
    return client.post("/api/auth/register/", json={
        "username": username, "email": email or f"{username}@example.org", "password": password})


def login(client, username="alice", password=PASSWORD):
    return client.post("/api/auth/login/", json={"username": username, "password": password})


def assert_error(response, status, code):
    assert response.status_code == status, response.text
    body = response.json()["error"]
    assert body["status"] == status and body["code"] == code and body["message"]
    assert "Traceback" not in response.text
    return body


def test_register_login_me_refresh_logout(client):
    created = register(client)
    assert created.status_code == 201
    assert created.json()["role"] == "user" and "password_hash" not in created.json()
    tokens = login(client).json()
    me = client.get("/api/auth/me/", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200 and me.json()["username"] == "alice"
    rotated = client.post("/api/auth/token/refresh/",
                          json={"refresh_token": tokens["refresh_token"]})
    assert rotated.status_code == 200
    reused = client.post("/api/auth/token/refresh/",
                         json={"refresh_token": tokens["refresh_token"]})
    assert_error(reused, 401, "session_expired")
    out = client.post("/api/auth/logout/", json={"refresh_token": rotated.json()["refresh_token"]})
    assert out.status_code == 204


def test_register_errors_have_one_shape(client):
    register(client)
    body = assert_error(register(client, email="other@example.org"), 409, "conflict")
    assert body["fields"] == {"username": "taken"}
    body = assert_error(register(client, "bob", password="123"), 422, "invalid_input")
    assert "password" in body["fields"]
    body = assert_error(register(client, "bob", email="nope"), 422, "invalid_input")
    assert "email" in body["fields"]
    missing = client.post("/api/auth/register/", json={"username": "carol"})
    body = assert_error(missing, 422, "invalid_input")
    assert set(body["fields"]) == {"email", "password"}
    assert_error(client.post("/api/auth/register/", content="{oops",
                             headers={"content-type": "application/json"}), 422, "invalid_input")


def test_login_does_not_reveal_whether_a_user_exists(client):
    register(client)
    wrong = assert_error(login(client, password="not the password"), 401, "invalid_credentials")
    unknown = assert_error(login(client, "nobody"), 401, "invalid_credentials")
    assert wrong == unknown


def test_me_needs_a_valid_token(client):
    assert_error(client.get("/api/auth/me/"), 401, "not_authenticated")
    response = client.get("/api/auth/me/", headers={"Authorization": "Bearer nonsense"})
    assert_error(response, 401, "not_authenticated")
    assert response.headers["www-authenticate"] == "Bearer"


def test_change_password_returns_new_tokens_and_ends_old_sessions(client):
    register(client)
    old = login(client).json()
    auth = {"Authorization": f"Bearer {old['access_token']}"}
    bad = client.post("/api/auth/password/", headers=auth,
                      json={"current_password": "wrong", "new_password": "a new passphrase"})
    assert_error(bad, 422, "invalid_input")
    changed = client.post("/api/auth/password/", headers=auth,
                          json={"current_password": PASSWORD, "new_password": "a new passphrase"})
    assert changed.status_code == 200
    assert_error(client.get("/api/auth/me/", headers=auth), 401, "session_expired")
    fresh = {"Authorization": f"Bearer {changed.json()['access_token']}"}
    assert client.get("/api/auth/me/", headers=fresh).status_code == 200
    assert login(client, password="a new passphrase").status_code == 200


def test_oversized_fields_are_refused(client):
    response = register(client, "alice", password="x" * 5000)
    assert_error(response, 422, "invalid_input")


def test_unknown_host_is_refused(client):
    assert client.get("/api/auth/me/", headers={"host": "evil.example"}).status_code == 400


def test_datetimes_are_utc_on_every_backend(client):
    register(client)
    tokens = login(client).json()
    me = client.get("/api/auth/me/", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.json()["created_at"].endswith("Z")
    assert tokens["access_expires_at"].endswith("Z")
