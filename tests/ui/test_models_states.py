"""`/admin/models` driven as the browser's events would: only admins fine-tune, switch
or roll back the search model."""

import pytest

from supportbot.ai.model_store import BASE
from supportbot.models import Role
from supportbot.services.retrieval import model_versions
from supportbot.ui.pages import admin_models
from supportbot.ui.pages.admin_models import ModelsState, version_rows
from tests.ui.states import cookie_for, page_state, run

REFUSED = ("Please log in.", "You do not have permission to do this.")
FIGURES = {"mrr": 0.8123, "recall_at_1": 0.75}


@pytest.fixture
def people(make_user):
    return {"anonymous": None, "user": make_user("ursula"),
            "agent": make_user("agnes", role=Role.agent),
            "admin": make_user("adam", role=Role.admin)}


@pytest.fixture
def kept(database, monkeypatch):
    """A kept fine-tuned version (not in use) and a count of the reindexes queued."""
    import supportbot.jobs.reindex as reindex

    calls = []
    monkeypatch.setattr(reindex, "schedule_reindex", lambda: calls.append(1) or "job")
    versions = model_versions()
    folder = versions.new_folder()
    version = versions.keep(folder, {
        "created_at": "2026-11-25T09:30:00+00:00", "dev_queries": 12, "decision": "not_better",
        "dev_current": FIGURES, "dev_candidate": {"mrr": 0.8, "recall_at_1": 0.75}})
    return version, calls


def as_(session, person):
    return page_state(ModelsState, cookie=cookie_for(session, person), route="/admin/models")


@pytest.mark.parametrize("who", ["anonymous", "user", "agent"])
async def test_non_admins_see_nothing_and_change_nothing(session, people, kept, monkeypatch,
                                                         who):
    version, reindexes = kept
    queued = []
    monkeypatch.setattr(admin_models, "schedule_finetune",
                        lambda **kwargs: queued.append(kwargs) or "job-1")
    state = as_(session, people[who])
    await run(state.load())
    assert state.rows == []
    assert await run(state.start()) is None and state.error in REFUSED
    await run(state.activate(version))
    assert state.error in REFUSED
    await run(state.rollback())
    assert state.error in REFUSED and state.info == ""
    assert queued == [] and reindexes == [] and state.job == ""
    assert model_versions().active() == BASE


async def test_an_admin_fine_tunes_switches_and_rolls_back(session, people, kept, monkeypatch):
    version, reindexes = kept
    queued = []
    monkeypatch.setattr(admin_models, "schedule_finetune",
                        lambda **kwargs: queued.append(kwargs) or "job-9")
    state = as_(session, people["admin"])
    await run(state.load())
    assert [(row["version"], row["active"]) for row in state.rows] == [(version, ""),
                                                                       (BASE, "yes")]
    assert await run(state.start()) == ModelsState.follow_job
    assert queued == [{"actor_id": str(people["admin"].id)}]
    assert (state.job, state.job_state) == ("job-9", "queued")
    await run(state.activate(version))
    assert state.info == "activated" and model_versions().active() == version
    assert state.rows[0]["active"] == "yes" and reindexes == [1]
    await run(state.rollback())
    assert model_versions().active() == BASE and reindexes == [1, 1]
    await run(state.activate("v-made-up"))
    assert state.error == "No such model version." and model_versions().active() == BASE


def test_version_rows_show_figures_and_the_decision(kept):
    version, _ = kept
    [row, base] = version_rows()
    assert row == {"version": version, "created": "2026-11-25 09:30", "active": "",
                   "decision": "not_better", "r1_before": "0.750", "r1_after": "0.750",
                   "mrr_before": "0.812", "mrr_after": "0.800", "dev": "12"}
    assert base["version"] == BASE and base["r1_before"] == "–"
