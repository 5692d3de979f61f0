import pytest

from supportbot.ai.records import read_articles
from supportbot.jobs import queue
from supportbot.models import EntryStatus
from supportbot.services import knowledge
from supportbot.services.permissions import SYSTEM
from tests.ai.conftest import KB_SMALL
from tests.api.conftest import assert_error

CALLERS = ("anonymous", "user", "agent", "admin")
ARTICLE = {"title": "Teams has no sound", "problem": "Nobody hears me in calls.",
           "solution": "Pick the headset in Teams settings > Devices.", "tags": ["Audio"],
           "locale": "en", "phrasings": ["no audio in teams"], "status": "published"}


@pytest.fixture
def kb(session):
    """The small KB published, plus one draft."""
    knowledge.import_articles(session, SYSTEM, read_articles(KB_SMALL))
    draft = knowledge.ArticleDraft("Unreleased: new VPN client", solution="Coming soon.",
                                   tags=["vpn"])
    entry = knowledge.create_entry(session, SYSTEM, draft)
    session.commit()
    return entry


def titles(response):
    assert response.status_code == 200, response.text
    return [a["title"] for a in response.json()["items"]]


def test_everyone_reads_published_articles_admins_drafts_too(client, callers, kb):
    for name in ("anonymous", "user", "agent"):
        listed = client.get("/api/kb/?page_size=100", headers=callers[name].headers)
        assert listed.json()["total"] == 10 and kb.title not in titles(listed)
        asked = client.get("/api/kb/?status=draft", headers=callers[name].headers)
        assert_error(asked, 403, "permission_denied")
        assert_error(client.get(f"/api/kb/{kb.id}/", headers=callers[name].headers), 404)
    admin = callers["admin"].headers
    assert client.get("/api/kb/?page_size=100", headers=admin).json()["total"] == 11
    assert titles(client.get("/api/kb/?status=draft", headers=admin)) == [kb.title]
    assert client.get(f"/api/kb/{kb.id}/", headers=admin).json()["status"] == "draft"


def test_search_filters_and_pages(client, kb):
    assert titles(client.get("/api/kb/?q=printer")) == ["Printer shows offline"]
    assert "VPN won't connect" in titles(client.get("/api/kb/?tag=network"))
    assert all(a["locale"] == "es" for a in client.get("/api/kb/?locale=es").json()["items"])
    spanish = client.get("/api/kb/?locale=es").json()["total"]
    assert 0 < spanish < 10
    first = client.get("/api/kb/?page=1&page_size=4").json()
    third = client.get("/api/kb/?page=3&page_size=4").json()
    assert first["total"] == third["total"] == 10
    assert len(first["items"]) == 4 and len(third["items"]) == 2
    tagged = titles(client.get("/api/kb/?tag=network"))
    paged = client.get("/api/kb/?tag=network&page_size=1").json()
    assert len(paged["items"]) == 1 and paged["total"] == len(tagged) >= 2
    assert_error(client.get("/api/kb/?locale=fr"), 422)


@pytest.mark.parametrize(("name", "status"), list(zip(CALLERS, (401, 403, 403, 201), strict=True)))
def test_only_admins_create(client, callers, name, status):
    response = client.post("/api/kb/", headers=callers[name].headers, json=ARTICLE)
    assert response.status_code == status, response.text
    if status == 201:
        created = response.json()
        assert created["version"] == 1 and created["tags"] == ["audio"]
        assert client.get(f"/api/kb/{created['id']}/").json()["title"] == ARTICLE["title"]


def test_validation_errors_name_the_fields(client, callers):
    admin = callers["admin"].headers
    response = client.post("/api/kb/", headers=admin, json={**ARTICLE, "title": " ",
                                                            "problem": "", "solution": ""})
    assert set(assert_error(response, 422, "invalid_input")["fields"]) == {"title", "solution"}
    assert_error(client.post("/api/kb/", headers=admin, json={**ARTICLE, "locale": "fr"}), 422)


def test_edits_use_the_version_lock(client, callers):
    admin = callers["admin"].headers
    created = client.post("/api/kb/", headers=admin, json=ARTICLE).json()
    url = f"/api/kb/{created['id']}/"
    saved = client.put(url, headers=admin, json={**ARTICLE, "title": "Teams: no sound",
                                                 "expected_version": 1})
    assert saved.status_code == 200 and saved.json()["version"] == 2
    stale = client.put(url, headers=admin, json={**ARTICLE, "title": "Mine wins",
                                                 "expected_version": 1})
    assert_error(stale, 409, "conflict")
    assert client.get(url).json()["title"] == "Teams: no sound"
    missing = client.put(url, headers=admin, json=ARTICLE)
    assert "expected_version" in assert_error(missing, 422)["fields"]
    for name, status in (("anonymous", 401), ("user", 403), ("agent", 403)):
        response = client.put(url, headers=callers[name].headers,
                              json={**ARTICLE, "expected_version": 2})
        assert_error(response, status)
    assert_error(client.put("/api/kb/00000000-0000-0000-0000-000000000000/", headers=admin,
                            json={**ARTICLE, "expected_version": 1}), 404)


def test_delete(client, callers):
    admin = callers["admin"].headers
    created = client.post("/api/kb/", headers=admin, json=ARTICLE).json()
    url = f"/api/kb/{created['id']}/"
    for name, status in (("anonymous", 401), ("user", 403), ("agent", 403)):
        assert_error(client.delete(url, headers=callers[name].headers), status)
    assert client.delete(url, headers=admin).status_code == 204
    assert_error(client.get(url), 404)
    assert_error(client.delete(url, headers=admin), 404)


def test_reindex_job_and_its_progress(client, callers, session):
    knowledge.import_articles(session, SYSTEM, read_articles(KB_SMALL),
                              status=EntryStatus.published)
    session.commit()
    for name, status in (("anonymous", 401), ("user", 403), ("agent", 403)):
        assert_error(client.post("/api/kb/reindex/", headers=callers[name].headers), status)
    admin = callers["admin"].headers
    started = client.post("/api/kb/reindex/", headers=admin)
    assert started.status_code == 202 and started.json()["state"] == "queued"
    job_id = started.json()["job_id"]
    queue.wait_in_process_jobs()
    done = client.get(f"/api/kb/reindex/{job_id}/", headers=admin).json()
    assert done["state"] == "finished", done
    assert done["result"]["articles"] == 10 and done["error"] is None
    assert done["enqueued_at"] <= done["started_at"] <= done["ended_at"]
    assert_error(client.get(f"/api/kb/reindex/{job_id}/", headers=callers["agent"].headers),
                 403)
    assert_error(client.get("/api/kb/reindex/nope/", headers=admin), 404)
    other_job = queue.enqueue(len, "not a reindex")
    assert_error(client.get(f"/api/kb/reindex/{other_job}/", headers=admin), 404)
