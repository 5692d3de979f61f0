"""Housekeeping jobs."""

from __future__ import annotations

from supportbot.db import session_scope
from supportbot.services import auth_tokens


def purge_expired_refresh_tokens() -> int:
    """Delete expired refresh-token records; returns how many were removed."""
    with session_scope() as session:
        return auth_tokens.purge_expired(session)


def anonymize_old_conversations() -> dict[str, object]:
    """Apply RETENTION_DAYS (`services.retention`); returns what was anonymized."""
    from supportbot.config import get_settings
    from supportbot.services.retention import apply_retention

    with session_scope() as session:
        result = apply_retention(session, get_settings().retention_days)
    return {"cutoff": result.cutoff.isoformat() if result.cutoff else None,
            "conversations": result.conversations, "messages": result.messages,
            "tickets": result.tickets, "skipped_open_tickets": result.skipped_open_tickets}
