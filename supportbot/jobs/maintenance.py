"""Housekeeping jobs."""

from __future__ import annotations

from supportbot.db import session_scope
from supportbot.services import auth_tokens


def purge_expired_refresh_tokens() -> int:
    """Delete expired refresh-token records; returns how many were removed."""
    with session_scope() as session:
        return auth_tokens.purge_expired(session)
