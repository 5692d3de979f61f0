"""The load test's agent accounts: made for the run with a fresh password, agents, and
deactivated afterwards."""

import pytest

from supportbot.db import engine_for
from supportbot.errors import NotAuthenticated
from supportbot.loadtest.agents import prepare_agents, retire_agents
from supportbot.models import Role
from supportbot.services import accounts


def test_agents_are_prepared_then_retired(session, database):
    engine = engine_for(database)
    first = prepare_agents(engine, 2)
    assert [name for name, _ in first] == ["loadtest-agent-1", "loadtest-agent-2"]
    for name, password in first:
        assert accounts.authenticate(session, name, password).role == Role.agent.value
    session.commit()  # authenticate writes (last log-in): end the transaction
    retire_agents(engine, [name for name, _ in first])
    session.expire_all()
    assert not accounts.find_user(session, "loadtest-agent-1").is_active

    again = prepare_agents(engine, 1)  # the next run: active again, a new password
    session.expire_all()
    assert again[0][1] != first[0][1]
    assert accounts.authenticate(session, "loadtest-agent-1", again[0][1]).is_active
    session.commit()
    with pytest.raises(NotAuthenticated):
        accounts.authenticate(session, "loadtest-agent-1", first[0][1])
