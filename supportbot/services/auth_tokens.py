"""JWT access and refresh tokens (PyJWT, HS256 with SECRET_KEY; SECRET_KEY_PREVIOUS keys
are still accepted during a key rotation).

- Access tokens are short-lived and carry the user's id, role and token version.
- Refresh tokens are single-use: each refresh marks the old one used and issues a new pair
  in the same family. Presenting a used refresh token again means it was stolen or replayed:
  the whole family is revoked and the caller must log in again.
- Only HS256 is accepted on decode, so `alg: none` and algorithm-confusion tokens fail.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from sqlalchemy import update
from sqlmodel import Session, col

from supportbot.config import get_settings
from supportbot.errors import NotAuthenticated, SessionExpired
from supportbot.models import RefreshToken, User, utcnow

ALGORITHM = "HS256"
ISSUER = "supportbot"
SESSION_EXPIRED = "Your session has expired. Please log in again."
INVALID_TOKEN = "Invalid credentials. Please log in again."


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    access_expires_at: datetime
    refresh_expires_at: datetime
    token_type: str = "bearer"


def _encode(claims: dict[str, object]) -> str:
    return jwt.encode(claims, get_settings().secret_key, algorithm=ALGORITHM)


def _verify(token: str, key: str, verify_exp: bool) -> dict[str, object]:
    return jwt.decode(
        token, key, algorithms=[ALGORITHM], issuer=ISSUER,
        options={"require": ["exp", "iat", "sub", "jti", "typ"], "verify_exp": verify_exp})


def _decode(token: str, expected_type: str, *, verify_exp: bool = True) -> dict[str, object]:
    """The token's claims if SECRET_KEY (or, during a rotation, a SECRET_KEY_PREVIOUS
    key) signed it."""
    settings = get_settings()
    keys = [settings.secret_key, *settings.secret_key_previous]
    claims: dict[str, object] | None = None
    for key in keys:
        try:
            claims = _verify(token, key, verify_exp)
            break
        except jwt.InvalidSignatureError:
            continue  # maybe signed with a retired key
        except jwt.ExpiredSignatureError:
            raise SessionExpired(SESSION_EXPIRED) from None
        except jwt.PyJWTError:
            raise NotAuthenticated(INVALID_TOKEN) from None
    if claims is None:
        raise NotAuthenticated(INVALID_TOKEN)
    if claims.get("typ") != expected_type:
        raise NotAuthenticated(INVALID_TOKEN)
    return claims


def issue_tokens(session: Session, user: User, *, family_id: str | None = None) -> TokenPair:
    """A new access + refresh pair for `user`; the refresh token is recorded for rotation."""
    settings = get_settings()
    now = utcnow()
    access_exp = now + timedelta(minutes=settings.access_token_minutes)
    refresh_exp = now + timedelta(days=settings.refresh_token_days)
    common = {"sub": str(user.id), "iss": ISSUER, "iat": now, "ver": user.token_version}
    access = _encode({**common, "typ": "access", "role": user.role, "exp": access_exp,
                      "jti": secrets.token_hex(8)})
    jti = secrets.token_hex(16)
    family = family_id or secrets.token_hex(16)
    refresh = _encode({**common, "typ": "refresh", "exp": refresh_exp, "jti": jti, "fam": family})
    session.add(RefreshToken(jti=jti, user_id=user.id, family_id=family, expires_at=refresh_exp))
    return TokenPair(access, refresh, access_exp, refresh_exp)


def _active_user(session: Session, claims: dict[str, object]) -> User:
    try:
        user = session.get(User, uuid.UUID(str(claims["sub"])))
    except ValueError:
        raise NotAuthenticated(INVALID_TOKEN) from None
    if user is None or not user.is_active or claims.get("ver") != user.token_version:
        raise SessionExpired(SESSION_EXPIRED)
    return user


def user_from_access_token(session: Session, token: str) -> User:
    """The active user an access token belongs to; NotAuthenticated otherwise."""
    return _active_user(session, _decode(token, "access"))


def access_subject(token: str) -> str | None:
    """The user id a valid, unexpired access token names, without reading the database
    (rate limits key on it); None for anything else."""
    try:
        return str(_decode(token, "access")["sub"])
    except NotAuthenticated:
        return None


def refresh_tokens(session: Session, refresh_token: str) -> TokenPair:
    """Rotate: spend `refresh_token` and return a new pair.

    A refresh token that was already spent or revoked revokes its whole family; that
    revocation is committed even though this call raises.
    """
    claims = _decode(refresh_token, "refresh")
    jti, family = str(claims["jti"]), str(claims.get("fam", ""))
    now = utcnow()
    spent = session.execute(
        update(RefreshToken)
        .where(col(RefreshToken.jti) == jti, col(RefreshToken.used_at).is_(None),
               col(RefreshToken.revoked_at).is_(None))
        .values(used_at=now)
    )
    if spent.rowcount != 1:
        _revoke_family(session, family)
        session.commit()
        raise SessionExpired(SESSION_EXPIRED)
    user = _active_user(session, claims)
    return issue_tokens(session, user, family_id=family)


def _revoke_family(session: Session, family_id: str) -> None:
    if family_id:
        session.execute(
            update(RefreshToken)
            .where(col(RefreshToken.family_id) == family_id,
                   col(RefreshToken.revoked_at).is_(None))
            .values(revoked_at=utcnow())
        )


def logout(session: Session, refresh_token: str | None) -> None:
    """End the session a refresh token belongs to. Idempotent; bad tokens are ignored."""
    if not refresh_token:
        return
    try:
        claims = _decode(refresh_token, "refresh", verify_exp=False)
    except NotAuthenticated:
        return
    _revoke_family(session, str(claims.get("fam", "")))


def purge_expired(session: Session) -> int:
    """Delete refresh-token records past their expiry; returns how many went."""
    from sqlalchemy import delete

    result = session.execute(delete(RefreshToken).where(col(RefreshToken.expires_at) < utcnow()))
    return result.rowcount or 0
