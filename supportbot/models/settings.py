"""Settings admins change at run time (escalation rules, ...), one JSON value per key."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from supportbot.models.base import json_dict, short_text, timestamp


class AppSetting(SQLModel, table=True):
    __tablename__ = "app_settings"

    key: str = short_text(64, primary_key=True)
    value: dict[str, Any] = json_dict()
    updated_by_id: uuid.UUID | None = Field(
        default=None, foreign_key="users.id", ondelete="SET NULL"
    )
    updated_at: datetime = timestamp()
