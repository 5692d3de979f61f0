import pytest

from supportbot.errors import InvalidInput
from supportbot.services.passwords import check_policy, hash_password, verify_password


def test_hash_is_argon2_and_verifies():
    hashed = hash_password("a long enough passphrase")
    assert hashed.startswith("$argon2id$")
    assert verify_password("a long enough passphrase", hashed) == (True, None)
    assert verify_password("another passphrase!!", hashed)[0] is False


def test_malformed_stored_hash_fails_closed():
    assert verify_password("whatever-password", "not-a-hash") == (False, None)
    assert verify_password("whatever-password", None) == (False, None)


@pytest.mark.parametrize("password", ["🙂" * 3000, "x" * 5000, "lone \udfff surrogate"])
def test_passwords_no_account_can_have_are_just_wrong(password):
    """Longer than the policy allows (passlib refuses over 4 kB) or not encodable: a
    failed check, for an account and for an unknown user, never an exception."""
    hashed = hash_password("a long enough passphrase")
    assert verify_password(password, hashed) == (False, None)
    assert verify_password(password, None) == (False, None)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "at least 10"),
        ("x" * 129, "at most 128"),
        ("aaaaaaaaaaaa", "repetitive"),
        ("password123", "too common"),
        ("Contraseña123", "too common"),
        ("alice-in-wonderland", "username"),
        ("my mail is alice99", "e-mail"),
    ],
)
def test_policy_refuses(password, message):
    with pytest.raises(InvalidInput, match=message) as error:
        check_policy(password, min_length=10, username="alice", email="alice99@example.org")
    assert "password" in error.value.fields


def test_policy_accepts_a_passphrase():
    check_policy("correct horse battery staple", min_length=10, username="alice",
                 email="alice@example.org")
