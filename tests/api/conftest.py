from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from supportbot.api.app import create_api
from supportbot.models import Role, User
from supportbot.services import auth_tokens


@pytest.fixture
def client(database):
    with TestClient(create_api()) as test_client:
        yield test_client


@dataclass
class Caller:
    """Someone calling the API: their account (None: anonymous) and request headers."""

    name: str
    user: User | None
    headers: dict[str, str]


@pytest.fixture
def callers(session, make_user):
    """anonymous, user (ana), another user (bob), agent, admin, each with a Bearer token."""

    def bearer(user: User) -> dict[str, str]:
        tokens = auth_tokens.issue_tokens(session, user)
        session.commit()
        return {"Authorization": f"Bearer {tokens.access_token}"}

    people = {"anonymous": Caller("anonymous", None, {})}
    for name, username, role in (("user", "ana", Role.user), ("other", "bob", Role.user),
                                 ("agent", "agent", Role.agent), ("admin", "admin", Role.admin)):
        user = make_user(username, role=role)
        people[name] = Caller(name, user, bearer(user))
    return people


@pytest.fixture
def kb_index(session):
    """The small bilingual KB (tests/fixtures/kb_small.jsonl), published and indexed where
    the app serves its index from; the KB rows."""
    from supportbot.ai.records import read_articles
    from supportbot.jobs.reindex import rebuild_index
    from supportbot.services import knowledge
    from supportbot.services.permissions import SYSTEM
    from tests.ai.conftest import KB_SMALL

    knowledge.import_articles(session, SYSTEM, read_articles(KB_SMALL))
    session.commit()
    assert rebuild_index()["articles"] == 10
    return knowledge.list_published(session)


def assert_error(response, status, code=None):
    """The one error shape, with this status (and code)."""
    assert response.status_code == status, response.text
    body = response.json()["error"]
    assert body["status"] == status and body["message"]
    assert isinstance(body["fields"], dict)
    if code is not None:
        assert body["code"] == code, body
    assert "Traceback" not in response.text
    return body
