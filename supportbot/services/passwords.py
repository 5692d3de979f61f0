"""Password hashing (argon2 via passlib) and the minimum password policy."""

from __future__ import annotations

from passlib.context import CryptContext

from supportbot.errors import InvalidInput

MAX_PASSWORD_LENGTH = 128

_context = CryptContext(schemes=["argon2"], deprecated="auto")

# A hash of a random string: verifying against it when the account does not exist keeps
# login timing the same for known and unknown usernames.
_DUMMY_HASH = _context.hash("no-such-user-timing-equaliser")

# The most common passwords that pass a length check (from public breach lists).
_COMMON = {
    "1234567890", "12345678910", "0123456789", "1111111111", "0000000000", "qwertyuiop",
    "password12", "password123", "password1234", "passw0rd123", "iloveyou12", "abcdefghij",
    "1q2w3e4r5t", "qwerty1234", "qwerty12345", "1qaz2wsx3edc", "123qweasdzxc", "letmein123",
    "welcome123", "changeme123", "administrator", "contrasena", "contraseña", "contrasena123",
    "contraseña123", "superman123", "football123", "baseball123", "monkey12345", "dragon1234",
    "trustno1234", "sunshine123", "princess123", "abc1234567", "asdfghjkl1", "zxcvbnm123",
}


def hash_password(password: str) -> str:
    return _context.hash(password)


def _hashable(password: str) -> bool:
    """Hashing needs UTF-8, which a lone surrogate (only a crafted request sends one) lacks."""
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def verify_password(password: str, password_hash: str | None) -> tuple[bool, str | None]:
    """Check `password`; return (ok, new_hash) where new_hash is set if the hash needs an upgrade."""
    usable = _hashable(password) and len(password) <= MAX_PASSWORD_LENGTH  # policy's limit
    if not password_hash or not usable:
        # The same work as a real check, so timing tells nothing.
        _context.verify(password if usable else "", _DUMMY_HASH)
        return False, None
    try:
        ok, new_hash = _context.verify_and_update(password, password_hash)
    except ValueError:  # malformed stored hash: treat as a failed login, never crash
        return False, None
    return ok, new_hash


def check_policy(password: str, *, min_length: int, username: str = "", email: str = "") -> None:
    """Raise InvalidInput (field `password`) unless the password meets the policy.

    The policy follows NIST SP 800-63B: length matters, composition rules do not; refuse
    very common passwords and passwords built from the account's own name.
    """

    def refuse(message: str) -> None:
        raise InvalidInput(message, fields={"password": message})

    if len(password) < min_length:
        refuse(f"Password must be at least {min_length} characters long.")
    if len(password) > MAX_PASSWORD_LENGTH:
        refuse(f"Password must be at most {MAX_PASSWORD_LENGTH} characters long.")
    if not _hashable(password):
        refuse("Password contains a character that cannot be used; type it again.")
    if len(set(password)) < 4:
        refuse("Password is too repetitive.")
    lowered = password.lower()
    if lowered in _COMMON:
        refuse("This password is too common; choose another.")
    local_part = email.split("@", 1)[0].lower()
    for own in (username.lower(), local_part):
        if len(own) >= 3 and own in lowered:
            refuse("Password must not contain your username or e-mail address.")
