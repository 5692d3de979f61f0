"""`/admin/suggestions` driven as the browser's events would: only admins see, accept,
edit, reject the digest's suggestions or run the digest; a mistake keeps what was typed."""

import pytest
from sqlmodel import func, select

from supportbot.jobs.queue import wait_in_process_jobs
from supportbot.models import KbSuggestion, KnowledgeEntry, Role
from supportbot.services import feedback_digest, knowledge
from supportbot.services.permissions import SYSTEM
from supportbot.ui.pages.admin_suggestions import SuggestionsState
from supportbot.ui.state import SessionState
from tests.ui.states import cookie_for, page_state, run

REFUSED = ("Please log in.", "You do not have permission to do this.")


@pytest.fixture
def people(make_user):
    return {"anonymous": None, "user": make_user("ursula"),
            "agent": make_user("agnes", role=Role.agent),
            "admin": make_user("adam", role=Role.admin)}


@pytest.fixture
def reindexed(monkeypatch):
    import supportbot.jobs.reindex as reindex

    calls = []
    monkeypatch.setattr(reindex, "schedule_reindex", lambda: calls.append(1))
    return calls


@pytest.fixture
def suggestions(session, reindexed):
    """A new-article suggestion from two cases and a phrasings one for a VPN article."""
    vpn = knowledge.create_entry(session, SYSTEM, knowledge.ArticleDraft(
        title="VPN won't connect", solution="Restart the VPN client.", phrasings=["vpn down"],
        status="published"))
    session.flush()
    new = KbSuggestion(kind="new_article", title="Coffee machine shows E42",
                       problem="the coffee machine shows E42", solution="Empty the drip tray.",
                       phrasings=["the coffee machine shows E42", "coffee e42 error"],
                       case_keys=["ticket:1", "ticket:2"])
    phrasings = KbSuggestion(kind="phrasings", title=vpn.title, entry_id=vpn.id,
                             match_confidence=0.714, phrasings=["vpn fails at the hotel"],
                             case_keys=["ticket:3"])
    session.add_all([new, phrasings])
    session.commit()
    reindexed.clear()
    return {"new": new, "phrasings": phrasings, "vpn": vpn}


def as_(session, person):
    return page_state(SuggestionsState, cookie=cookie_for(session, person),
                      route="/admin/suggestions")


def stored(session, suggestion):
    session.expire_all()
    return session.get(KbSuggestion, suggestion.id)


def entries(session) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(KnowledgeEntry)).one()


@pytest.mark.parametrize("who", ["anonymous", "user", "agent"])
async def test_non_admins_see_nothing_and_change_nothing(session, people, suggestions,
                                                         reindexed, monkeypatch, who):
    started = []
    monkeypatch.setattr(feedback_digest, "enqueue", lambda func: started.append(func) or "j")
    state = as_(session, people[who])
    await run(state.load())
    assert state.items == [] and state.total == 0
    new_id, phrasings_id = str(suggestions["new"].id), str(suggestions["phrasings"].id)
    await run(state.open_editor(new_id))
    assert state.form["id"] == "" and state.error in REFUSED
    await run(state.accept(new_id))
    assert state.error in REFUSED and state.info == ""
    state.form = {**state.form, "id": phrasings_id, "kind": "phrasings"}  # a crafted edit
    await run(state.accept_edited({"phrasings": "hacked"}))
    assert state.error in REFUSED
    await run(state.reject(new_id))
    assert state.error in REFUSED and state.info == ""
    assert await run(state.run_digest()) is None and state.error in REFUSED
    assert started == [] and state.job == ""
    assert stored(session, suggestions["new"]).status == "pending"
    assert stored(session, suggestions["phrasings"]).phrasings == ["vpn fails at the hotel"]
    assert entries(session) == 1 and reindexed == []
    assert session.get(KnowledgeEntry, suggestions["vpn"].id).version == 1


async def test_an_admin_sees_pending_suggestions_with_their_article(session, people,
                                                                    suggestions):
    state = as_(session, people["admin"])
    await run(state.load())
    assert state.total == 2
    rows = {row["kind"]: row for row in state.items}
    assert rows["new_article"]["cases"] == "2" and rows["new_article"]["matched"] == ""
    assert rows["new_article"]["shown_phrasings"] == (
        "• the coffee machine shows E42\n• coffee e42 error")
    vpn = rows["phrasings"]
    assert (vpn["matched"], vpn["entry_id"], vpn["confidence"], vpn["cases"]) == (
        "VPN won't connect", str(suggestions["vpn"].id), "0.71", "1")


async def test_an_empty_list_says_so(session, people):
    state = as_(session, people["admin"])
    await run(state.load())
    assert state.items == [] and state.total == 0 and state.error == ""


async def test_an_admin_accepts_a_new_article_as_a_draft(session, people, suggestions,
                                                         reindexed):
    state = as_(session, people["admin"])
    await run(state.load())
    await run(state.accept(str(suggestions["new"].id)))
    assert state.info == "accepted_draft" and state.error == ""
    draft = knowledge.get_entry(session, state.result_entry)
    assert (draft.title, draft.status, draft.solution, draft.source) == (
        "Coffee machine shows E42", "draft", "Empty the drip tray.", "feedback")
    assert draft.alternative_phrasings == ["the coffee machine shows E42", "coffee e42 error"]
    assert [row["kind"] for row in state.items] == ["phrasings"] and state.total == 1
    await run(state.accept(str(suggestions["new"].id)))  # only once
    assert state.error == "This suggestion was already decided." and state.info == ""
    assert entries(session) == 2


async def test_an_edit_with_mistakes_keeps_what_was_typed(session, people, suggestions):
    state = as_(session, people["admin"])
    await run(state.load())
    await run(state.open_editor(str(suggestions["new"].id)))
    assert state.form["title"] == "Coffee machine shows E42" and state.form["kind"] == \
        "new_article"
    typed = {"title": " ", "problem": "", "solution": "",
             "phrasings": "coffee e42\nE42 on the coffee machine", "locale": "es"}
    await run(state.accept_edited(typed))
    assert set(state.field_errors) == {"title", "solution"} and state.info == ""
    assert state.field_errors["title"] == "A title is required."
    assert {k: state.form[k] for k in typed} == typed  # nothing typed is lost
    assert stored(session, suggestions["new"]).status == "pending" and entries(session) == 1
    await run(state.accept_edited({**typed, "title": "Coffee machine: error E42",
                                   "problem": "The machine beeps, then shows E42.",
                                   "solution": "Empty the drip tray, then descale."}))
    assert state.info == "accepted_draft" and state.field_errors == {}
    assert state.form["id"] == ""  # the editor closes
    draft = knowledge.get_entry(session, state.result_entry)
    assert (draft.title, draft.locale, draft.problem) == (
        "Coffee machine: error E42", "es", "The machine beeps, then shows E42.")
    assert draft.alternative_phrasings == ["coffee e42", "E42 on the coffee machine"]


async def test_an_admin_adds_edited_phrasings_to_the_matched_article(session, people,
                                                                     suggestions, reindexed):
    state = as_(session, people["admin"])
    await run(state.open_editor(str(suggestions["phrasings"].id)))
    await run(state.accept_edited({"phrasings": " \n"}))  # none left
    assert state.field_errors == {"phrasings": "Give at least one phrasing."}
    assert state.form["phrasings"] == " \n"
    await run(state.accept_edited({"phrasings": "vpn fails at the hotel\nhotel wifi vpn"}))
    assert state.info == "accepted_phrasings"
    assert state.result_entry == str(suggestions["vpn"].id)
    session.expire_all()
    vpn = session.get(KnowledgeEntry, suggestions["vpn"].id)
    assert vpn.version == 2 and vpn.alternative_phrasings == [
        "vpn down", "vpn fails at the hotel", "hotel wifi vpn"]
    assert vpn.title == "VPN won't connect" and entries(session) == 1
    session.commit()
    assert reindexed == [1]  # the search index follows


async def test_the_spanish_page_shows_spanish_errors(session, people, suggestions):
    state = page_state(SuggestionsState, cookie=cookie_for(session, people["admin"]),
                       route="/admin/suggestions", language="es-ES")
    await run((await state.get_state(SessionState)).load_session())
    await run(state.open_editor(str(suggestions["phrasings"].id)))
    await run(state.accept_edited({"phrasings": ""}))
    assert state.error == "La sugerencia tiene errores."
    assert state.field_errors == {"phrasings": "Escribe al menos una formulación."}


async def test_an_admin_rejects_a_suggestion(session, people, suggestions):
    state = as_(session, people["admin"])
    await run(state.open_editor(str(suggestions["new"].id)))
    await run(state.reject(str(suggestions["new"].id)))
    assert state.info == "rejected" and state.form["id"] == ""
    assert stored(session, suggestions["new"]).status == "rejected"
    assert state.total == 1 and entries(session) == 1
    await run(state.reject("not-a-suggestion"))
    assert state.error == "No such suggestion."


async def test_an_admin_runs_the_digest(session, people, tmp_path, settings_env):
    settings_env(FEEDBACK_DATASET_PATH=str(tmp_path / "cases"))
    state = as_(session, people["admin"])
    assert await run(state.run_digest()) == SuggestionsState.follow_job
    assert state.job_state == "queued" and state.job
    wait_in_process_jobs()
    status = feedback_digest.digest_status(people["admin"], state.job)
    assert status.state == "finished" and status.result["cases"] == 0
    assert status.meta["stage"] == "collect"  # nothing to cluster: it stopped there
