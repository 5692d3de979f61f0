"""Who did what to which record, with a before/after summary."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from supportbot.models.base import json_dict, short_text, timestamp, uuid_pk


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: uuid.UUID = uuid_pk()
    actor_id: uuid.UUID | None = Field(
        default=None, foreign_key="users.id", index=True, ondelete="SET NULL"
    )
    action: str = short_text(64, index=True)
    target_type: str = short_text(64, index=True)
    target_id: str = short_text(64, index=True)
    before: dict[str, Any] = json_dict()
    after: dict[str, Any] = json_dict()
    created_at: datetime = timestamp(index=True)
