"""The audit trail: one row per change that matters (roles, accounts, KB edits, escalations)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from supportbot.models import AuditLog, Role
from supportbot.services.permissions import Actor, require_role


def record(
    session: Session,
    actor: Actor | None,
    action: str,
    target_type: str,
    target_id: object,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditLog:
    """Add an audit row to `session` (committed with the change it describes)."""
    entry = AuditLog(
        actor_id=getattr(actor, "id", None),
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        before=before or {},
        after=after or {},
    )
    session.add(entry)
    return entry


def recent(
    session: Session, actor: Actor | None, *, limit: int = 100, target_type: str | None = None
) -> list[AuditLog]:
    """The newest audit rows; admins only."""
    require_role(actor, Role.admin)
    query = select(AuditLog).order_by(col(AuditLog.created_at).desc()).limit(limit)
    if target_type:
        query = query.where(AuditLog.target_type == target_type)
    return list(session.exec(query))
