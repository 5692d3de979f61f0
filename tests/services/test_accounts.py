import pytest
from sqlmodel import select

from supportbot.errors import (
    AccountDeactivated,
    Conflict,
    InvalidCredentials,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
)
from supportbot.models import AuditLog, Role, User
from supportbot.services import accounts
from supportbot.services.permissions import SYSTEM
from tests.conftest import PASSWORD


def test_register_creates_a_user_with_normalized_names(session):
    user = accounts.register(session, username="  Alice ", email="Alice@Example.ORG",
                             password=PASSWORD)
    session.commit()
    assert (user.username, user.email, user.role) == ("alice", "alice@example.org", "user")
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"username": "al", "email": "a@example.org"}, "username"),
        ({"username": "al ice", "email": "a@example.org"}, "username"),
        ({"username": "<script>", "email": "a@example.org"}, "username"),
        ({"username": "alice", "email": "not-an-email"}, "email"),
        ({"username": "alice", "email": "a@"}, "email"),
    ],
)
def test_register_refuses_bad_input_and_writes_nothing(session, fields, field):
    with pytest.raises(InvalidInput) as error:
        accounts.register(session, password=PASSWORD, **fields)
    assert field in error.value.fields
    session.rollback()
    assert session.exec(select(User)).all() == []


def test_register_refuses_a_weak_password(session):
    with pytest.raises(InvalidInput) as error:
        accounts.register(session, username="alice", email="a@example.org", password="12345")
    assert "password" in error.value.fields


def test_duplicate_username_or_email_is_a_conflict(session, make_user):
    make_user("alice")
    with pytest.raises(Conflict, match="username"):
        accounts.register(session, username="ALICE", email="new@example.org", password=PASSWORD)
    with pytest.raises(Conflict, match="e-mail"):
        accounts.register(session, username="alice2", email="alice@example.org",
                          password=PASSWORD)
    session.rollback()
    assert len(session.exec(select(User)).all()) == 1


def test_only_admins_create_privileged_accounts(session, make_user):
    agent = make_user("agent1", role=Role.agent)
    with pytest.raises(PermissionDenied):
        accounts.create_user(session, agent, username="boss", email="b@example.org",
                             password=PASSWORD, role=Role.admin)
    with pytest.raises(NotAuthenticated):
        accounts.create_user(session, None, username="boss", email="b@example.org",
                             password=PASSWORD, role=Role.admin)
    admin = make_user("root", role=Role.admin)
    created = accounts.create_user(session, admin, username="boss", email="b@example.org",
                                   password=PASSWORD, role="agent")
    assert created.role == "agent"


def test_unknown_role_is_invalid_input(session):
    with pytest.raises(InvalidInput, match="Unknown role"):
        accounts.create_user(session, SYSTEM, username="x1x", email="x@example.org",
                             password=PASSWORD, role="superuser")


def test_login_by_username_or_email(session, make_user):
    make_user("alice")
    assert accounts.authenticate(session, "alice", PASSWORD).username == "alice"
    assert accounts.authenticate(session, "ALICE@example.org", PASSWORD).username == "alice"
    assert accounts.authenticate(session, "alice", PASSWORD).last_login_at is not None


def test_wrong_password_and_unknown_user_look_the_same(session, make_user):
    make_user("alice")
    with pytest.raises(InvalidCredentials) as wrong:
        accounts.authenticate(session, "alice", "not the password")
    with pytest.raises(InvalidCredentials) as unknown:
        accounts.authenticate(session, "nobody", "not the password")
    assert wrong.value.message == unknown.value.message


def test_deactivated_account_cannot_log_in(session, make_user):
    make_user("alice", active=False)
    with pytest.raises(AccountDeactivated):
        accounts.authenticate(session, "alice", PASSWORD)
    with pytest.raises(InvalidCredentials):  # the wrong password still says nothing more
        accounts.authenticate(session, "alice", "not the password")


def test_change_password(session, make_user):
    user = make_user("alice")
    with pytest.raises(InvalidInput, match="Current password"):
        accounts.change_password(session, user, "wrong one", "a brand new passphrase")
    with pytest.raises(InvalidInput, match="differ"):
        accounts.change_password(session, user, PASSWORD, PASSWORD)
    with pytest.raises(InvalidInput, match="at least"):
        accounts.change_password(session, user, PASSWORD, "short")
    version = user.token_version
    accounts.change_password(session, user, PASSWORD, "a brand new passphrase")
    session.commit()
    assert user.token_version == version + 1
    assert accounts.authenticate(session, "alice", "a brand new passphrase")
    with pytest.raises(InvalidCredentials):
        accounts.authenticate(session, "alice", PASSWORD)


def test_roles_change_only_by_admins_and_are_audited(session, make_user):
    admin = make_user("root", role=Role.admin)
    user = make_user("alice")
    with pytest.raises(PermissionDenied):
        accounts.set_role(session, user, user.id, Role.admin)
    accounts.set_role(session, admin, user.id, "agent")
    session.commit()
    assert user.role == "agent"
    entry = session.exec(select(AuditLog).where(AuditLog.action == "user.role_change")).one()
    assert entry.actor_id == admin.id
    assert entry.before["role"] == "user" and entry.after["role"] == "agent"
    assert "password_hash" not in entry.after


def test_last_admin_is_protected(session, make_user):
    admin = make_user("root", role=Role.admin)
    with pytest.raises(Conflict):
        accounts.set_role(session, admin, admin.id, Role.user)
    with pytest.raises(Conflict):
        accounts.set_active(session, admin, admin.id, False)
    second = make_user("root2", role=Role.admin)
    accounts.set_role(session, second, admin.id, Role.user)
    assert admin.role == "user"


def test_deactivate_and_reactivate(session, make_user):
    admin = make_user("root", role=Role.admin)
    user = make_user("alice")
    accounts.set_active(session, admin, user.id, False)
    session.commit()
    with pytest.raises(AccountDeactivated):
        accounts.authenticate(session, "alice", PASSWORD)
    accounts.set_active(session, admin, user.id, True)
    assert accounts.authenticate(session, "alice", PASSWORD)


def test_unknown_ids_are_not_found(session, make_user):
    admin = make_user("root", role=Role.admin)
    with pytest.raises(NotFound):
        accounts.set_role(session, admin, "not-a-uuid", Role.agent)
    with pytest.raises(NotFound):
        accounts.find_user(session, "ghost")


def test_list_users_is_admin_only(session, make_user):
    admin = make_user("root", role=Role.admin)
    make_user("alice")
    with pytest.raises(PermissionDenied):
        accounts.list_users(session, make_user("bob"))
    assert [user.username for user in accounts.list_users(session, admin, role="user")] == [
        "alice", "bob"]
