"""Request dependencies: a database session and the authenticated user."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from dataclasses import dataclass

from fastapi import Depends, Query
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


def optional_user(
    session: DbSession,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User | None:
    """The caller's account when a Bearer token is sent (a bad one is still 401), else
    None: anonymous."""
    if credentials is None:
        return None
    return auth_tokens.user_from_access_token(session, credentials.credentials)


OptionalUser = Annotated[User | None, Depends(optional_user)]


@dataclass(frozen=True)
class PageParams:
    page: int
    page_size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


def page_params(page: Annotated[int, Query(ge=1, le=100_000)] = 1,
                page_size: Annotated[int, Query(ge=1, le=100)] = 25) -> PageParams:
    return PageParams(page, page_size)


Pagination = Annotated[PageParams, Depends(page_params)]
