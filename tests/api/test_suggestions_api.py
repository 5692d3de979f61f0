"""`/api/admin/suggestions/` (the feedback digest's KB suggestions) and the ratings the
KB API shows per article."""

import pytest
from sqlmodel import select

from supportbot.jobs.queue import wait_in_process_jobs
from supportbot.models import KbSuggestion, KnowledgeEntry, Message, SenderType
from supportbot.services import chat, knowledge
from supportbot.services.permissions import SYSTEM
from tests.api.conftest import assert_error

URL = "/api/admin/suggestions/"


@pytest.fixture
def article(session):
    entry = knowledge.create_entry(session, SYSTEM, knowledge.ArticleDraft(
        title="VPN won't connect", solution="Restart the VPN client.", phrasings=["vpn down"],
        status="published"))
    session.commit()
    return entry


@pytest.fixture
def suggestions(session, article):
    new = KbSuggestion(kind="new_article", title="Coffee machine shows E42",
                       problem="coffee machine shows E42", solution="Empty the drip tray.",
                       phrasings=["coffee machine shows E42", "coffee e42 error"],
                       case_keys=["ticket:1", "ticket:2"])
    phrasings = KbSuggestion(kind="phrasings", title=article.title, entry_id=article.id,
                             match_confidence=0.71, phrasings=["vpn fails at the hotel"],
                             case_keys=["ticket:3"])
    session.add_all([new, phrasings])
    session.commit()
    return {"new": new, "phrasings": phrasings}


@pytest.mark.parametrize("who, expected", [("anonymous", 401), ("user", 403), ("agent", 403),
                                           ("admin", 200)])
def test_only_admins_reach_suggestions(client, callers, suggestions, who, expected):
    headers = callers[who].headers
    new_id = suggestions["new"].id
    responses = [client.get(URL, headers=headers),
                 client.get(f"{URL}{new_id}/", headers=headers)]
    for response in responses:
        assert response.status_code == expected, (who, response.text)
    if expected != 200:
        for response in (client.post(f"{URL}{new_id}/accept/", headers=headers),
                         client.post(f"{URL}{new_id}/reject/", headers=headers),
                         client.post(f"{URL}digest/", headers=headers)):
            assert_error(response, expected)
        assert client.get(URL, headers=callers["admin"].headers).json()["total"] == 2


def test_list_accept_with_edits_and_reject(client, callers, suggestions, session, article):
    admin = callers["admin"].headers
    listed = client.get(URL, headers=admin).json()
    assert listed["total"] == 2 and {s["kind"] for s in listed["items"]} == {
        "new_article", "phrasings"}
    new_id, phrasings_id = suggestions["new"].id, suggestions["phrasings"].id
    accepted = client.post(f"{URL}{new_id}/accept/", headers=admin,
                           json={"title": "Coffee machine: error E42"})
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    assert body["suggestion"]["status"] == "accepted" and body["suggestion"]["cases"] == 2
    assert body["article"]["status"] == "draft" and body["article"]["title"] == \
        "Coffee machine: error E42"
    assert body["article"]["solution"] == "Empty the drip tray."
    assert body["suggestion"]["result_entry_id"] == body["article"]["id"]
    assert_error(client.post(f"{URL}{new_id}/accept/", headers=admin), 409, "conflict")
    assert_error(client.post(f"{URL}{phrasings_id}/accept/", headers=admin,
                             json={"phrasings": [" "]}), 422, "invalid_input")
    updated = client.post(f"{URL}{phrasings_id}/accept/", headers=admin).json()["article"]
    assert updated["id"] == str(article.id) and updated["version"] == 2
    assert updated["phrasings"] == ["vpn down", "vpn fails at the hotel"]
    assert client.get(URL, headers=admin).json()["total"] == 0
    assert client.get(URL + "?status=accepted", headers=admin).json()["total"] == 2
    assert_error(client.post(f"{URL}{phrasings_id}/reject/", headers=admin), 409)
    assert_error(client.get(f"{URL}not-an-id/", headers=admin), 404, "not_found")
    assert_error(client.post(f"{URL}{article.id}/reject/", headers=admin), 404)


def test_rejecting(client, callers, suggestions, session):
    admin = callers["admin"].headers
    rejected = client.post(f"{URL}{suggestions['new'].id}/reject/", headers=admin).json()
    assert rejected["status"] == "rejected" and rejected["decided_at"]
    session.expire_all()
    assert len(session.exec(select(KnowledgeEntry)).all()) == 1  # nothing made


def test_running_the_digest_now(client, callers, database, tmp_path, settings_env):
    settings_env(FEEDBACK_DATASET_PATH=str(tmp_path / "cases"))
    admin = callers["admin"].headers
    started = client.post(f"{URL}digest/", headers=admin)
    assert started.status_code == 202, started.text
    job_id = started.json()["job_id"]
    wait_in_process_jobs()
    job = client.get(f"{URL}digest/{job_id}/", headers=admin).json()
    assert job["state"] == "finished", job
    assert job["result"]["cases"] == 0 and job["result"]["suggestions"] == 0
    assert job["result"]["dataset"].startswith(str(tmp_path / "cases"))
    assert_error(client.get(f"{URL}digest/nope/", headers=admin), 404)


def test_articles_show_their_ratings(client, session, article, callers):
    conversation = chat.start_conversation(session)
    for rating in (1, -1, -1):
        answer = Message(conversation_id=conversation.id, sender_type=SenderType.bot.value,
                         is_bot=True, text="Restart the VPN client.",
                         citations=[{"id": str(article.id), "title": article.title}])
        session.add(answer)
        session.commit()
        chat.give_feedback(session, conversation.session_id, answer.id, rating)
    detail = client.get(f"/api/kb/{article.id}/").json()
    assert (detail["helpful"], detail["not_helpful"]) == (1, 2)
    [listed] = client.get("/api/kb/").json()["items"]
    assert (listed["helpful"], listed["not_helpful"]) == (1, 2)
