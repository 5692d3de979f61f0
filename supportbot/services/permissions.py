"""Role checks, enforced in services (pages and routes may check too, but need not)."""

from __future__ import annotations

from supportbot.errors import NotAuthenticated, PermissionDenied
from supportbot.models import Role, User

_RANK = {Role.user: 0, Role.agent: 1, Role.admin: 2}


class SystemActor:
    """The operator at the command line or a start-up task: trusted, but audited as such."""

    id = None
    username = "system"
    role = Role.admin.value
    is_active = True

    def __repr__(self) -> str:
        return "SYSTEM"


SYSTEM = SystemActor()

Actor = User | SystemActor


def role_at_least(role: str, minimum: Role) -> bool:
    """Whether `role` (a stored role name) is `minimum` or above it; unknown roles are not."""
    try:
        return _RANK[Role(role)] >= _RANK[minimum]
    except ValueError:
        return False


def has_role(actor: Actor | None, minimum: Role) -> bool:
    if actor is None or not actor.is_active:
        return False
    return role_at_least(actor.role, minimum)


def require_role(actor: Actor | None, minimum: Role) -> Actor:
    """Return `actor` if it holds `minimum` or a higher role; raise otherwise."""
    if actor is None:
        raise NotAuthenticated("Please log in.")
    if not has_role(actor, minimum):
        raise PermissionDenied("You do not have permission to do this.")
    return actor
