"""`/api/auth/`: accounts and tokens for API clients (Bearer tokens in JSON)."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, status

from supportbot.api.deps import CurrentUser, DbSession
from supportbot.api.schemas import (
    LoginIn,
    LogoutIn,
    PasswordChangeIn,
    RefreshIn,
    RegisterIn,
    TokenOut,
    UserOut,
    error_responses,
)
from supportbot.services import accounts, auth_tokens

router = APIRouter(prefix="/api/auth", tags=["auth"],
                   responses=error_responses(401, 409, 413, 422, 429))


def _user_out(user) -> UserOut:  # noqa: ANN001
    return UserOut.model_validate(user, from_attributes=True)


@router.post("/register/", status_code=status.HTTP_201_CREATED, response_model=UserOut)
def register(body: RegisterIn, session: DbSession) -> UserOut:
    """Create a `user` account."""
    user = accounts.register(session, username=body.username, email=body.email,
                             password=body.password)
    return _user_out(user)


@router.post("/login/", response_model=TokenOut)
def login(body: LoginIn, session: DbSession) -> TokenOut:
    """Exchange a username (or e-mail) and password for an access + refresh token pair."""
    user = accounts.authenticate(session, body.username, body.password)
    return TokenOut(**asdict(auth_tokens.issue_tokens(session, user)))


@router.post("/token/refresh/", response_model=TokenOut)
def refresh(body: RefreshIn, session: DbSession) -> TokenOut:
    """Spend a refresh token for a new pair. A refresh token works once."""
    return TokenOut(**asdict(auth_tokens.refresh_tokens(session, body.refresh_token)))


@router.get("/me/", response_model=UserOut)
def me(user: CurrentUser) -> UserOut:
    """The account the access token belongs to."""
    return _user_out(user)


@router.post("/logout/", status_code=status.HTTP_204_NO_CONTENT)
def logout(body: LogoutIn, session: DbSession) -> None:
    """End the session of a refresh token (its access tokens expire on their own)."""
    auth_tokens.logout(session, body.refresh_token)


@router.post("/password/", response_model=TokenOut)
def change_password(body: PasswordChangeIn, user: CurrentUser, session: DbSession) -> TokenOut:
    """Change the caller's password. Every existing session ends; a new pair is returned."""
    accounts.change_password(session, user, body.current_password, body.new_password)
    return TokenOut(**asdict(auth_tokens.issue_tokens(session, user)))
