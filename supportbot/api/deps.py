"""Request dependencies: a database session and the authenticated user."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from supportbot.db import session_scope
from supportbot.errors import NotAuthenticated
from supportbot.models import User
from supportbot.services import auth_tokens

_bearer = HTTPBearer(auto_error=False)


def db_session() -> Iterator[Session]:
    with session_scope() as session:
        yield session


DbSession = Annotated[Session, Depends(db_session)]


def current_user(
    session: DbSession,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    if credentials is None:
        raise NotAuthenticated("Please log in.")
    return auth_tokens.user_from_access_token(session, credentials.credentials)


CurrentUser = Annotated[User, Depends(current_user)]
