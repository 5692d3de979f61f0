"""Accounts: users with a role, and the refresh tokens issued to them."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from supportbot.models.base import short_text, timestamp, uuid_pk


class Role(StrEnum):
    user = "user"
    agent = "agent"
    admin = "admin"


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: uuid.UUID = uuid_pk()
    username: str = short_text(64, unique=True, index=True)
    email: str = short_text(254, unique=True, index=True)
    password_hash: str = short_text(255)
    role: str = short_text(16, index=True, default=Role.user.value)
    is_active: bool = Field(default=True, index=True)
    # Bumped on password change or deactivation: every token issued before is refused.
    token_version: int = Field(default=0)
    created_at: datetime = timestamp(index=True)
    updated_at: datetime = timestamp()
    last_login_at: datetime | None = timestamp(nullable=True)


class RefreshToken(SQLModel, table=True):
    """One issued refresh token. Rotation marks it used; reusing it revokes its family."""

    __tablename__ = "refresh_tokens"

    jti: str = short_text(64, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    family_id: str = short_text(64, index=True)
    created_at: datetime = timestamp()
    expires_at: datetime = timestamp(index=True)
    used_at: datetime | None = timestamp(nullable=True)
    revoked_at: datetime | None = timestamp(nullable=True)
