"""Request and response bodies of the API."""

from __future__ import annotations

import uuid
from datetime import datetime

from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from supportbot.models.base import as_utc

# SQLite hands back naive datetimes; everything stored is UTC, so say so in the output.
UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]


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
