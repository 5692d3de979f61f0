import pytest

from supportbot.errors import NotAuthenticated, PermissionDenied
from supportbot.models import Role
from supportbot.services.permissions import SYSTEM, has_role, require_role, role_at_least


@pytest.mark.parametrize(
    ("role", "minimum", "allowed"),
    [("user", Role.user, True), ("user", Role.agent, False), ("agent", Role.agent, True),
     ("agent", Role.admin, False), ("admin", Role.user, True), ("root", Role.user, False),
     ("", Role.user, False)],
)
def test_role_order(role, minimum, allowed):
    assert role_at_least(role, minimum) is allowed


def test_require_role(make_user):
    agent = make_user("agent1", role=Role.agent)
    assert require_role(agent, Role.agent) is agent
    with pytest.raises(PermissionDenied):
        require_role(agent, Role.admin)
    with pytest.raises(NotAuthenticated):
        require_role(None, Role.user)
    assert require_role(SYSTEM, Role.admin) is SYSTEM


def test_inactive_accounts_hold_no_role(make_user):
    admin = make_user("boss", role=Role.admin, active=False)
    assert not has_role(admin, Role.user)
