"""Text no database can store (NUL, a lone surrogate: both legal JSON escapes) sent to every
API route that stores text: 422 naming the field through the one error shape, never a
500, and nothing stored. Searches and lookups with it find nothing.

Lone surrogates are already refused by pydantic when it reads the body ("unable to parse
raw data as a unicode string", the field's path named); NUL passes pydantic and is
refused by the services (services.input_guard)."""

import json

import pytest
from sqlmodel import func, select

from supportbot.models import AuditLog, Feedback, KbSuggestion, KnowledgeEntry, Message, Ticket
from tests.api.conftest import assert_error

BAD = ["\x00", "x\udfffy", "\ud800"]
IDS = ["nul", "surrogate-inside", "surrogate-alone"]


def send(client, method, url, body, headers):
    """`body` as JSON with the bad characters as escapes (json.dumps writes them so)."""
    return client.request(method, url, content=json.dumps(body),
                          headers={**headers, "content-type": "application/json"})


def rows(session):
    session.expire_all()
    return tuple(session.exec(select(func.count()).select_from(model)).one()
                 for model in (Message, Ticket, KnowledgeEntry, Feedback, AuditLog))


@pytest.fixture
def world(client, callers, session):
    """A chat with a bot message, a user's ticket, an article and a suggestion."""
    session_id = client.post("/api/chat/session/").json()["session_id"]
    turn = client.post("/api/chat/message/", json={"session_id": session_id,
                                                   "text": "my screen is black"}).json()
    ticket = client.post("/api/tickets/", headers=callers["user"].headers,
                         json={"title": "Laptop", "description": "It beeps."}).json()
    article = client.post("/api/kb/", headers=callers["admin"].headers,
                          json={"title": "VPN", "solution": "Reconnect."}).json()
    suggestion = KbSuggestion(kind="new_article", title="Coffee E42", problem="coffee e42",
                              solution="Empty the tray.", phrasings=["coffee e42"],
                              case_keys=["ticket:1"])
    session.add(suggestion)
    session.commit()
    return {"session_id": session_id, "bot_message": turn["bot_message"]["id"],
            "ticket": ticket["id"], "article": article["id"], "suggestion": str(suggestion.id)}


# (caller, method, url, body with the bad text as {bad}, the field named)
ROUTES = [
    ("anonymous", "post", "/api/chat/message/", {"session_id": "{session_id}", "text": "{bad}"},
     "text"),
    ("anonymous", "post", "/api/chat/feedback/", {"session_id": "{session_id}", "rating": -1,
                                                  "message_id": "{bot_message}",
                                                  "comment": "{bad}"}, "comment"),
    ("user", "post", "/api/tickets/", {"title": "{bad}"}, "title"),
    ("user", "post", "/api/tickets/", {"title": "ok", "description": "{bad}"}, "description"),
    ("agent", "post", "/api/tickets/", {"title": "ok", "tags": ["{bad}"]}, "tags"),
    ("user", "patch", "/api/tickets/{ticket}/", {"title": "{bad}"}, "title"),
    ("agent", "patch", "/api/tickets/{ticket}/", {"tags": ["{bad}"]}, "tags"),
    ("user", "post", "/api/tickets/{ticket}/messages/", {"text": "{bad}"}, "text"),
    ("agent", "post", "/api/tickets/{ticket}/messages/", {"text": "{bad}", "internal": True},
     "text"),
    ("admin", "post", "/api/kb/", {"title": "{bad}", "solution": "s"}, "title"),
    ("admin", "post", "/api/kb/", {"title": "t", "problem": "{bad}"}, "problem"),
    ("admin", "post", "/api/kb/", {"title": "t", "solution": "{bad}"}, "solution"),
    ("admin", "post", "/api/kb/", {"title": "t", "solution": "s", "phrasings": ["{bad}"]},
     "phrasings"),
    ("admin", "post", "/api/kb/", {"title": "t", "solution": "s", "tags": ["{bad}"]}, "tags"),
    ("admin", "put", "/api/kb/{article}/", {"title": "VPN", "solution": "{bad}",
                                            "expected_version": 1}, "solution"),
    ("admin", "post", "/api/admin/suggestions/{suggestion}/accept/", {"solution": "{bad}"},
     "solution"),
    ("agent", "post", "/api/admin/escalate/", {"session_id": "{session_id}", "note": "{bad}"},
     "note"),
    ("anonymous", "post", "/api/auth/register/", {"username": "{bad}", "email": "a@b.org",
                                                  "password": "a long passphrase"}, "username"),
    ("anonymous", "post", "/api/auth/register/", {"username": "carla", "email": "c{bad}@b.org",
                                                  "password": "a long passphrase"}, "email"),
    ("user", "post", "/api/auth/password/", {"current_password": "a long enough passphrase",
                                             "new_password": "a new {bad} passphrase"},
     "password"),
]


def fill(value, bad, world):  # noqa: ANN001, ANN201
    if isinstance(value, str):
        return value.format(bad=bad, **world)
    if isinstance(value, list):
        return [fill(item, bad, world) for item in value]
    if isinstance(value, dict):
        return {key: fill(item, bad, world) for key, item in value.items()}
    return value


@pytest.mark.parametrize("bad", BAD, ids=IDS)
def test_text_that_cannot_be_stored_is_422_naming_the_field(client, callers, session, world,
                                                            bad):
    problems = []
    for who, method, url, body, field in ROUTES:
        if field == "password" and bad == "\x00":
            continue  # passwords are hashed, never stored: NUL is a valid character there
        before = rows(session)
        response = send(client, method, fill(url, bad, world), fill(body, bad, world),
                        callers[who].headers)
        error = assert_error(response, response.status_code)  # the one shape, whatever came
        if response.status_code != 422 or error["code"] != "invalid_input":
            problems.append((method, url, field, response.status_code, error))
        elif not any(field in key for key in error["fields"]):  # tags.0, new_password
            problems.append((method, url, field, "fields", error["fields"]))
        elif rows(session) != before:
            problems.append((method, url, field, "stored something"))
    assert problems == []


@pytest.mark.parametrize("bad", BAD, ids=IDS)
def test_logging_in_with_it_is_just_a_failed_login(client, callers, bad):
    response = send(client, "post", "/api/auth/login/", {"username": f"ana{bad}",
                                                         "password": f"pass{bad}word"}, {})
    if bad == "\x00":
        assert_error(response, 401, "invalid_credentials")
    else:
        assert set(assert_error(response, 422, "invalid_input")["fields"]) == {
            "username", "password"}


@pytest.mark.parametrize("bad", ["%00", "%ED%BF%BF", "a%00b"])
def test_searches_and_lookups_with_it_find_nothing(client, callers, world, bad):
    agent, admin = callers["agent"].headers, callers["admin"].headers
    for url, headers in ((f"/api/kb/?q={bad}", {}), (f"/api/kb/?q={bad}&tag={bad}", admin),
                         (f"/api/tickets/?q={bad}&queue={bad}&tag={bad}", agent)):
        response = client.get(url, headers=headers)
        assert response.status_code == 200, (url, response.text)
        assert response.json()["items"] == [] and response.json()["total"] == 0
    for url, headers in ((f"/api/chat/conversations/{bad}/", {}),
                         (f"/api/kb/{bad}/", {}), (f"/api/tickets/{bad}/", agent),
                         (f"/api/kb/reindex/{bad}/", admin),
                         (f"/api/admin/suggestions/digest/{bad}/", admin)):
        assert_error(client.get(url, headers=headers), 404, "not_found")
    escalated = send(client, "post", "/api/admin/escalate/",
                     {"session_id": "a\x00b"}, agent)
    assert_error(escalated, 404, "not_found")


@pytest.mark.parametrize("bad", BAD, ids=IDS)
def test_the_websocket_refuses_it_and_stays_open(client, session, world, bad):
    before = rows(session)
    with client.websocket_connect(f"/ws/chat/{world['session_id']}/") as socket:
        assert socket.receive_json()["type"] == "ready"
        socket.send_text(json.dumps({"type": "message", "text": f"help {bad}"}))
        refused = socket.receive_json()
        assert refused["type"] == "error" and refused["error"]["status"] == 422
        assert set(refused["error"]["fields"]) == {"text"}
        socket.send_text(json.dumps({"type": "message", "text": "still here?"}))
        assert socket.receive_json()["type"] == "answer"
    assert rows(session)[0] == before[0] + 1  # only the second message (people own it)
