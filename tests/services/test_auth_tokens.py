import base64
import json
from datetime import timedelta

import jwt
import pytest
from sqlmodel import select

from supportbot.config import get_settings
from supportbot.errors import NotAuthenticated, SessionExpired
from supportbot.models import RefreshToken, Role, utcnow
from supportbot.services import accounts, auth_tokens
from tests.conftest import PASSWORD


@pytest.fixture
def alice(make_user):
    return make_user("alice")


def _claims(token):
    return jwt.decode(token, options={"verify_signature": False})


def _forge(claims, *, key=None, algorithm="HS256"):
    return jwt.encode(claims, key or get_settings().secret_key, algorithm=algorithm)


def test_access_token_identifies_the_user(session, alice):
    pair = auth_tokens.issue_tokens(session, alice)
    session.commit()
    assert auth_tokens.user_from_access_token(session, pair.access_token).id == alice.id
    claims = _claims(pair.access_token)
    assert claims["typ"] == "access" and claims["role"] == "user"
    assert (pair.access_expires_at - utcnow()) <= timedelta(minutes=15)


def test_lifetimes_come_from_settings(session, alice, settings_env):
    settings_env(ACCESS_TOKEN_MINUTES="5", REFRESH_TOKEN_DAYS="2")
    pair = auth_tokens.issue_tokens(session, alice)
    assert timedelta(minutes=4) < pair.access_expires_at - utcnow() <= timedelta(minutes=5)
    assert timedelta(days=1) < pair.refresh_expires_at - utcnow() <= timedelta(days=2)


def test_refresh_token_is_not_an_access_token(session, alice):
    pair = auth_tokens.issue_tokens(session, alice)
    with pytest.raises(NotAuthenticated):
        auth_tokens.user_from_access_token(session, pair.refresh_token)
    with pytest.raises(NotAuthenticated):
        auth_tokens.refresh_tokens(session, pair.access_token)


def test_expired_access_token(session, alice):
    claims = _claims(auth_tokens.issue_tokens(session, alice).access_token)
    claims["exp"] = int((utcnow() - timedelta(seconds=5)).timestamp())
    with pytest.raises(SessionExpired):
        auth_tokens.user_from_access_token(session, _forge(claims))


def test_tampered_token(session, alice):
    token = auth_tokens.issue_tokens(session, alice).access_token
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["role"] = "admin"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(NotAuthenticated, match="Invalid"):
        auth_tokens.user_from_access_token(session, f"{header}.{forged_payload}.{signature}")


def test_alg_none_and_other_algorithms_are_refused(session, alice):
    claims = _claims(auth_tokens.issue_tokens(session, alice).access_token)
    unsigned = jwt.encode(claims, key=None, algorithm="none")
    with pytest.raises(NotAuthenticated):
        auth_tokens.user_from_access_token(session, unsigned)
    hs512 = _forge(claims, algorithm="HS512")
    with pytest.raises(NotAuthenticated):
        auth_tokens.user_from_access_token(session, hs512)


def test_wrong_key(session, alice):
    claims = _claims(auth_tokens.issue_tokens(session, alice).access_token)
    with pytest.raises(NotAuthenticated):
        auth_tokens.user_from_access_token(session, _forge(claims, key="another-key" * 4))


def test_a_rotated_key_still_accepts_its_tokens_until_it_is_dropped(session, alice,
                                                                  settings_env):
    old = auth_tokens.issue_tokens(session, alice)
    session.commit()
    settings_env(SECRET_KEY="a brand new key of at least 32 characters",
                 SECRET_KEY_PREVIOUS=get_settings().secret_key)
    assert auth_tokens.user_from_access_token(session, old.access_token).id == alice.id
    renewed = auth_tokens.refresh_tokens(session, old.refresh_token)  # old refresh works
    session.commit()
    new_key = get_settings().secret_key
    assert jwt.decode(renewed.access_token, new_key, algorithms=["HS256"],
                      options={"verify_aud": False}, issuer="supportbot")  # signed anew
    settings_env(SECRET_KEY_PREVIOUS="")  # the rotation is over
    with pytest.raises(NotAuthenticated):
        auth_tokens.user_from_access_token(session, old.access_token)
    assert auth_tokens.user_from_access_token(session, renewed.access_token).id == alice.id


def test_garbage_token(session):
    for token in ("", "abc", "a.b.c", "🙂" * 10):
        with pytest.raises(NotAuthenticated):
            auth_tokens.user_from_access_token(session, token)


def test_refresh_rotates_and_a_used_token_cannot_be_reused(session, alice):
    first = auth_tokens.issue_tokens(session, alice)
    session.commit()
    second = auth_tokens.refresh_tokens(session, first.refresh_token)
    session.commit()
    assert second.refresh_token != first.refresh_token
    assert auth_tokens.user_from_access_token(session, second.access_token).id == alice.id
    with pytest.raises(SessionExpired):
        auth_tokens.refresh_tokens(session, first.refresh_token)
    # Reuse means theft: the whole family is revoked, the newer token too.
    with pytest.raises(SessionExpired):
        auth_tokens.refresh_tokens(session, second.refresh_token)
    assert all(token.revoked_at for token in session.exec(select(RefreshToken)))


def test_logout_ends_the_session(session, alice):
    pair = auth_tokens.issue_tokens(session, alice)
    session.commit()
    auth_tokens.logout(session, pair.refresh_token)
    session.commit()
    with pytest.raises(SessionExpired):
        auth_tokens.refresh_tokens(session, pair.refresh_token)
    auth_tokens.logout(session, "garbage")  # idempotent, never raises
    auth_tokens.logout(session, None)


def test_password_change_role_change_and_deactivation_end_every_session(session, make_user):
    admin = make_user("root", role=Role.admin)
    alice = make_user("alice")
    for change in (
        lambda: accounts.change_password(session, alice, PASSWORD, "a brand new passphrase"),
        lambda: accounts.set_role(session, admin, alice.id, Role.agent),
        lambda: accounts.set_active(session, admin, alice.id, False),
    ):
        pair = auth_tokens.issue_tokens(session, alice)
        session.commit()
        change()
        session.commit()
        with pytest.raises(SessionExpired):
            auth_tokens.user_from_access_token(session, pair.access_token)
        with pytest.raises(SessionExpired):
            auth_tokens.refresh_tokens(session, pair.refresh_token)


def test_purge_expired(session, alice):
    auth_tokens.issue_tokens(session, alice)
    session.add(RefreshToken(jti="old", user_id=alice.id, family_id="f",
                             expires_at=utcnow() - timedelta(days=1)))
    session.commit()
    assert auth_tokens.purge_expired(session) == 1
    session.commit()
    assert [token.jti for token in session.exec(select(RefreshToken))] != ["old"]
    assert len(session.exec(select(RefreshToken)).all()) == 1
