"""Request and response bodies of the API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, Field

from supportbot.models.base import as_utc

# SQLite hands back naive datetimes; everything stored is UTC, so say so in the output.
UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]
Item = TypeVar("Item")


class Page(BaseModel, Generic[Item]):
    """One page of a list; `total` counts every match."""

    items: list[Item]
    total: int
    page: int
    page_size: int


class RegisterIn(BaseModel):
    username: str = Field(max_length=64)
    email: str = Field(max_length=254)
    password: str = Field(max_length=256)


class LoginIn(BaseModel):
    username: str = Field(max_length=254, description="Username or e-mail address.")
    password: str = Field(max_length=256)


class RefreshIn(BaseModel):
    refresh_token: str = Field(max_length=2048)


class LogoutIn(BaseModel):
    refresh_token: str | None = Field(default=None, max_length=2048)


class PasswordChangeIn(BaseModel):
    current_password: str = Field(max_length=256)
    new_password: str = Field(max_length=256)


class UserOut(BaseModel):
    id: uuid.UUID
    username: str
    email: str
    role: str
    is_active: bool
    created_at: UtcDatetime


class TokenOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    access_expires_at: UtcDatetime
    refresh_expires_at: UtcDatetime


class ErrorDetail(BaseModel):
    status: int
    code: str = Field(description="Stable, for programs: not_authenticated, "
                                  "permission_denied, not_found, conflict, too_large, "
                                  "invalid_input, rate_limited, ...")
    message: str = Field(description="Safe to show to people.")
    fields: dict[str, str] = Field(description="Per-field messages (may be empty).")


class ErrorOut(BaseModel):
    """The one shape of every error response."""

    error: ErrorDetail


_ERROR_MEANING = {400: "Bad request", 401: "Not logged in, or the token is not valid",
                  403: "Your role may not do this", 404: "Not found (or not yours)",
                  409: "Conflicts with the current state", 413: "Request body too large",
                  422: "Invalid input", 429: "Too many requests; see Retry-After"}


def error_responses(*statuses: int) -> dict[int | str, dict[str, object]]:
    """OpenAPI `responses` for these error statuses, all with the one error shape."""
    return {status: {"model": ErrorOut, "description": _ERROR_MEANING[status]}
            for status in statuses}
