"""Accounts: registration, login, password changes, roles and deactivation.

Errors never reveal whether a username exists: a failed login says the same thing for an
unknown user and a wrong password (and takes the same time).
"""

from __future__ import annotations

import re
import uuid

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, or_, select

from supportbot.config import get_settings
from supportbot.errors import (
    AccountDeactivated,
    Conflict,
    InvalidCredentials,
    InvalidInput,
    NotFound,
)
from supportbot.models import RefreshToken, Role, User, utcnow
from supportbot.services import audit
from supportbot.services.input_guard import storable
from supportbot.services.lookup import get_or_404
from supportbot.services.passwords import check_policy, hash_password, verify_password
from supportbot.services.permissions import SYSTEM, Actor, require_role

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,63}$")
LOGIN_FAILED = "Invalid username or password."


def normalize_username(username: str) -> str:
    name = (username or "").strip().lower()
    if not _USERNAME.match(name):
        message = (
            "Username must be 3-64 characters: letters, digits, '.', '_' or '-', "
            "starting with a letter or digit."
        )
        raise InvalidInput(message, fields={"username": message})
    return name


def normalize_email(email: str) -> str:
    try:
        result = validate_email((email or "").strip(), check_deliverability=False)
    except EmailNotValidError as error:
        message = f"E-mail address is not valid: {error}"
        raise InvalidInput(message, fields={"email": message}) from None
    return result.normalized.lower()


def _parse_role(role: str | Role) -> Role:
    try:
        return Role(role)
    except ValueError:
        message = f"Unknown role '{role}'; choose one of: {', '.join(r.value for r in Role)}."
        raise InvalidInput(message, fields={"role": message}) from None


def _public(user: User) -> dict[str, object]:
    """What the audit log keeps about an account (never the password hash)."""
    return {"username": user.username, "email": user.email, "role": user.role,
            "is_active": user.is_active}


def create_user(
    session: Session,
    actor: Actor | None,
    *,
    username: str,
    email: str,
    password: str,
    role: str | Role = Role.user,
) -> User:
    """Create an account with any role. Only admins (or SYSTEM, i.e. the CLI) may do it.

    Raises InvalidInput (bad username, e-mail, password or role), Conflict (username or
    e-mail taken), PermissionDenied.
    """
    require_role(actor, Role.admin)
    name = normalize_username(username)
    address = normalize_email(email)
    chosen_role = _parse_role(role)
    check_policy(password, min_length=get_settings().password_min_length,
                 username=name, email=address)
    taken = session.exec(
        select(User.username, User.email).where(
            or_(User.username == name, User.email == address)
        )
    ).all()
    if any(row.username == name for row in taken):
        raise Conflict("This username is already taken.", fields={"username": "taken"})
    if any(row.email == address for row in taken):
        raise Conflict("An account with this e-mail already exists.", fields={"email": "taken"})
    user = User(username=name, email=address, password_hash=hash_password(password),
                role=chosen_role.value)
    try:
        with session.begin_nested():  # a savepoint: the caller's transaction survives
            session.add(user)
    except IntegrityError:  # a concurrent registration won the race
        raise Conflict("This username or e-mail is already taken.") from None
    audit.record(session, actor, "user.create", "user", user.id, after=_public(user))
    return user


def register(session: Session, *, username: str, email: str, password: str) -> User:
    """Self-service sign-up: always the `user` role."""
    return create_user(session, SYSTEM, username=username, email=email, password=password,
                       role=Role.user)


def authenticate(session: Session, login: str, password: str) -> User:
    """Check a username (or e-mail) and password; return the active user.

    Raises InvalidCredentials with the same message for unknown users and wrong passwords,
    and AccountDeactivated for a deactivated account (only after the password was right).
    """
    key = (login or "").strip().lower()
    user = session.exec(select(User).where(or_(User.username == key, User.email == key))
                        ).first() if storable(key) else None
    ok, new_hash = verify_password(password or "", user.password_hash if user else None)
    if not user or not ok:
        raise InvalidCredentials(LOGIN_FAILED)
    if not user.is_active:
        raise AccountDeactivated("This account is deactivated. Contact an administrator.")
    if new_hash:
        user.password_hash = new_hash
    user.last_login_at = utcnow()
    session.add(user)
    return user


def get_user(session: Session, user_id: uuid.UUID | str) -> User:
    return get_or_404(session, User, user_id, "No such user.")


def find_user(session: Session, username: str) -> User:
    """The account with this username or e-mail; NotFound otherwise."""
    key = (username or "").strip().lower()
    user = session.exec(select(User).where(or_(User.username == key, User.email == key))
                        ).first() if storable(key) else None
    if user is None:
        raise NotFound(f"No account named '{username}'.")
    return user


def list_users(
    session: Session, actor: Actor | None, *, role: str | None = None, limit: int = 100,
    offset: int = 0,
) -> list[User]:
    require_role(actor, Role.admin)
    query = select(User).order_by(col(User.username)).offset(offset).limit(limit)
    if role:
        query = query.where(User.role == _parse_role(role).value)
    return list(session.exec(query))


def count_users(session: Session, actor: Actor | None, *, role: str | None = None) -> int:
    """How many accounts `list_users` pages through (admins only)."""
    require_role(actor, Role.admin)
    query = select(func.count()).select_from(User)
    if role:
        query = query.where(User.role == _parse_role(role).value)
    return int(session.exec(query).one())


def revoke_all_sessions(session: Session, user: User) -> None:
    """Invalidate every access and refresh token issued to `user` so far."""
    user.token_version += 1
    user.updated_at = utcnow()
    session.add(user)
    for token in session.exec(
        select(RefreshToken).where(RefreshToken.user_id == user.id,
                                   col(RefreshToken.revoked_at).is_(None))
    ):
        token.revoked_at = utcnow()
        session.add(token)


def change_password(session: Session, user: User, current_password: str, new_password: str) -> User:
    """Change the caller's own password; every other session of the account is logged out."""
    ok, _ = verify_password(current_password or "", user.password_hash)
    if not ok:
        raise InvalidInput("Current password is wrong.",
                           fields={"current_password": "Current password is wrong."})
    check_policy(new_password, min_length=get_settings().password_min_length,
                 username=user.username, email=user.email)
    if verify_password(new_password, user.password_hash)[0]:
        message = "The new password must differ from the current one."
        raise InvalidInput(message, fields={"new_password": message})
    user.password_hash = hash_password(new_password)
    revoke_all_sessions(session, user)
    audit.record(session, user, "user.password_change", "user", user.id)
    return user


def reset_password(session: Session, actor: Actor | None, user_id: uuid.UUID | str,
                   new_password: str) -> User:
    """An admin sets another account's password; that account is logged out everywhere."""
    require_role(actor, Role.admin)
    user = get_user(session, user_id)
    check_policy(new_password, min_length=get_settings().password_min_length,
                 username=user.username, email=user.email)
    user.password_hash = hash_password(new_password)
    revoke_all_sessions(session, user)
    audit.record(session, actor, "user.password_reset", "user", user.id)
    return user


def _active_admins(session: Session) -> int:
    return session.exec(
        select(func.count()).select_from(User).where(User.role == Role.admin.value,
                                                     col(User.is_active).is_(True))
    ).one()


def set_role(session: Session, actor: Actor | None, user_id: uuid.UUID | str,
             role: str | Role) -> User:
    """Change a user's role (admins only). The last active admin cannot be demoted."""
    require_role(actor, Role.admin)
    user = get_user(session, user_id)
    new_role = _parse_role(role)
    if user.role == new_role.value:
        return user
    if user.role == Role.admin.value and user.is_active and _active_admins(session) <= 1:
        raise Conflict("The last active administrator cannot lose the admin role.")
    before = _public(user)
    user.role = new_role.value
    revoke_all_sessions(session, user)  # tokens carry the role: issue new ones
    audit.record(session, actor, "user.role_change", "user", user.id, before=before,
                 after=_public(user))
    return user


def set_active(session: Session, actor: Actor | None, user_id: uuid.UUID | str,
               active: bool) -> User:
    """Deactivate or reactivate an account (admins only); deactivation logs it out everywhere."""
    require_role(actor, Role.admin)
    user = get_user(session, user_id)
    if user.is_active == active:
        return user
    if not active and user.role == Role.admin.value and _active_admins(session) <= 1:
        raise Conflict("The last active administrator cannot be deactivated.")
    before = _public(user)
    user.is_active = active
    revoke_all_sessions(session, user)
    audit.record(session, actor, "user.activate" if active else "user.deactivate", "user",
                 user.id, before=before, after=_public(user))
    return user
