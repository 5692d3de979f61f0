import uuid
from datetime import datetime, timedelta, timezone

import pytest

from supportbot.models import Ticket
from tests.api.conftest import assert_error

CALLERS = ("anonymous", "user", "other", "agent", "admin")


def open_ticket(client, caller, title="Laptop will not start", **fields):
    response = client.post("/api/tickets/", headers=caller.headers,
                           json={"title": title, "description": "It beeps three times.",
                                 **fields})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def ticket(client, callers):
    return open_ticket(client, callers["user"])


# (method, path after /api/tickets/{id}, body) -> expected status per caller, in CALLERS order
MATRIX = [
    ("post", "", {"title": "Another one"}, (401, 201, 201, 201, 201)),
    ("get", "", None, (401, 200, 200, 200, 200)),
    ("get", "{id}/", None, (401, 200, 404, 200, 200)),
    ("patch", "{id}/", {"title": "Laptop dead"}, (401, 200, 404, 200, 200)),
    ("patch", "{id}/", {"priority": "high"}, (401, 403, 404, 200, 200)),
    ("patch", "{id}/", {"status": "waiting"}, (401, 403, 404, 200, 200)),
    ("post", "{id}/messages/", {"text": "Any news?"}, (401, 201, 404, 201, 201)),
    ("post", "{id}/messages/", {"text": "Note", "internal": True}, (401, 403, 404, 201, 201)),
    ("post", "{id}/close/", None, (401, 200, 404, 200, 200)),
]


@pytest.mark.parametrize(("method", "path", "body", "expected"), MATRIX,
                         ids=[f"{m} {p or '/'} {b}" for m, p, b, _ in MATRIX])
def test_authorization_matrix(client, callers, ticket, method, path, body, expected):
    for name, status in zip(CALLERS, expected, strict=True):
        url = "/api/tickets/" + path.format(id=ticket["id"])
        kwargs = {"json": body} if body is not None else {}
        response = client.request(method, url, headers=callers[name].headers, **kwargs)
        assert response.status_code == status, (name, response.text)
        if status >= 400:
            assert_error(response, status)


def test_a_user_opens_a_ticket_and_agents_see_it_with_the_handoff_note(client, callers):
    created = open_ticket(client, callers["user"])
    assert created["reference"].startswith("SB-") and created["status"] == "open"
    assert created["priority"] == "normal" and created["handoff_note"] is None
    as_agent = client.get(f"/api/tickets/{created['id']}/", headers=callers["agent"].headers)
    detail = as_agent.json()
    assert "Opened directly" in detail["handoff_note"]
    assert [m["text"] for m in detail["messages"]] == ["It beeps three times."]


def test_only_agents_set_priority_and_tags_when_opening(client, callers):
    refused = client.post("/api/tickets/", headers=callers["user"].headers,
                          json={"title": "Urgent!!", "priority": "urgent"})
    body = assert_error(refused, 403, "permission_denied")
    assert set(body["fields"]) == {"priority"}
    created = open_ticket(client, callers["agent"], priority="high", tags=["VPN", "vpn"])
    assert created["priority"] == "high" and created["tags"] == ["vpn"]
    assert_error(client.post("/api/tickets/", headers=callers["user"].headers,
                             json={"title": "  "}), 422, "invalid_input")


def test_users_list_their_own_tickets_agents_every_one(client, callers):
    mine = open_ticket(client, callers["user"], "Mine")
    open_ticket(client, callers["other"], "Bob's")
    listed = client.get("/api/tickets/", headers=callers["user"].headers).json()
    assert [t["id"] for t in listed["items"]] == [mine["id"]] and listed["total"] == 1
    everyone = client.get("/api/tickets/", headers=callers["agent"].headers).json()
    assert {t["title"] for t in everyone["items"]} == {"Mine", "Bob's"}


def test_pages_and_totals(client, callers):
    for number in range(5):
        open_ticket(client, callers["user"], f"Ticket {number}")
    first = client.get("/api/tickets/?page=1&page_size=2", headers=callers["agent"].headers)
    last = client.get("/api/tickets/?page=3&page_size=2", headers=callers["agent"].headers)
    assert first.json()["total"] == 5 and len(first.json()["items"]) == 2
    assert [t["title"] for t in first.json()["items"]] == ["Ticket 4", "Ticket 3"]  # newest
    assert [t["title"] for t in last.json()["items"]] == ["Ticket 0"]
    assert last.json()["page"] == 3 and last.json()["page_size"] == 2
    for bad in ("page=0", "page_size=0", "page_size=101", "page=x"):
        assert_error(client.get(f"/api/tickets/?{bad}", headers=callers["agent"].headers),
                     422, "invalid_input")


def test_filters(client, callers, session):
    agent = callers["agent"]
    vpn = open_ticket(client, agent, "VPN drops", priority="high", tags=["vpn"])
    printer = open_ticket(client, callers["user"], "Printer jam")
    client.patch(f"/api/tickets/{vpn['id']}/", headers=agent.headers,
                 json={"assignee_id": str(agent.user.id), "status": "in_progress"})
    old = session.get(Ticket, uuid.UUID(printer["id"]))
    old.created_at, old.queue = datetime(2024, 1, 10, tzinfo=timezone.utc), "hardware"
    session.add(old)
    session.commit()

    def titles(query):
        response = client.get(f"/api/tickets/?{query}", headers=agent.headers)
        assert response.status_code == 200, response.text
        return {t["title"] for t in response.json()["items"]}

    assert titles("status=in_progress") == {"VPN drops"}
    assert titles("priority=normal") == {"Printer jam"}
    assert titles("tag=vpn") == {"VPN drops"}
    assert titles("queue=hardware") == {"Printer jam"}
    assert titles("assignee=me") == {"VPN drops"}
    assert titles(f"assignee={agent.user.id}") == {"VPN drops"}
    assert titles("assignee=none") == {"Printer jam"}
    assert titles("q=jam") == {"Printer jam"}
    assert titles(f"q={printer['reference']}") == {"Printer jam"}
    assert titles("created_to=2024-01-31T00:00:00Z") == {"Printer jam"}
    since = (datetime.now(timezone.utc) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert titles(f"created_from={since}") == {"VPN drops"}
    assert titles("created_from=2024-01-01T00:00:00Z&created_to=2024-01-11T00:00:00Z") == {
        "Printer jam"}
    for bad in ("status=lost", "priority=meh", "assignee=someone", "created_from=yesterday"):
        assert_error(client.get(f"/api/tickets/?{bad}", headers=agent.headers), 422)


def test_internal_notes_and_handoff_notes_stay_with_agents(client, callers, ticket):
    agent = callers["agent"]
    url = f"/api/tickets/{ticket['id']}/messages/"
    client.post(url, headers=agent.headers, json={"text": "Check the warranty", "internal": True})
    reply = client.post(url, headers=agent.headers, json={"text": "Hold the power button."})
    assert reply.json()["sender"] == "agent" and reply.json()["internal"] is False
    seen_by_user = client.get(f"/api/tickets/{ticket['id']}/", headers=callers["user"].headers)
    texts = [m["text"] for m in seen_by_user.json()["messages"]]
    assert texts == ["It beeps three times.", "Hold the power button."]
    assert seen_by_user.json()["handoff_note"] is None
    assert seen_by_user.json()["status"] == "in_progress"  # an agent answered
    seen_by_agent = client.get(f"/api/tickets/{ticket['id']}/", headers=agent.headers).json()
    assert "Check the warranty" in [m["text"] for m in seen_by_agent["messages"]]


def test_fields_by_role_when_changing(client, callers, ticket):
    url = f"/api/tickets/{ticket['id']}/"
    user, agent = callers["user"], callers["agent"]
    renamed = client.patch(url, headers=user.headers, json={"title": "Laptop: three beeps"})
    assert renamed.json()["title"] == "Laptop: three beeps"
    refused = client.patch(url, headers=user.headers,
                           json={"title": "Sneaky", "status": "closed", "tags": ["x"]})
    assert set(assert_error(refused, 403, "permission_denied")["fields"]) == {"status", "tags"}
    assert client.get(url, headers=user.headers).json()["title"] == "Laptop: three beeps"
    changed = client.patch(url, headers=agent.headers,
                           json={"priority": "urgent", "assignee_id": str(agent.user.id),
                                 "tags": ["Hardware"]})
    assert changed.json()["priority"] == "urgent" and changed.json()["tags"] == ["hardware"]
    assert changed.json()["assignee_id"] == str(agent.user.id)
    unassigned = client.patch(url, headers=agent.headers, json={"assignee_id": None})
    assert unassigned.json()["assignee_id"] is None
    to_user = client.patch(url, headers=agent.headers, json={"assignee_id": str(user.user.id)})
    assert "assignee" in assert_error(to_user, 422, "invalid_input")["fields"]
    assert_error(client.patch(url, headers=agent.headers, json={"status": "lost"}), 422)
    assert_error(client.patch(url, headers=agent.headers, json={"title": ""}), 422)


def test_closing_and_replying_after(client, callers, ticket):
    url = f"/api/tickets/{ticket['id']}/"
    closed = client.post(url + "close/", headers=callers["user"].headers)
    assert closed.json()["status"] == "closed" and closed.json()["closed_at"]
    late = client.post(url + "messages/", headers=callers["user"].headers, json={"text": "hi"})
    assert_error(late, 409, "conflict")
    reopened = client.patch(url, headers=callers["agent"].headers, json={"status": "open"})
    assert reopened.json()["status"] == "open" and reopened.json()["closed_at"] is None


def test_a_reply_from_the_user_puts_a_waiting_ticket_back_in_the_queue(client, callers, ticket):
    url = f"/api/tickets/{ticket['id']}/"
    client.patch(url, headers=callers["agent"].headers, json={"status": "waiting"})
    client.post(url + "messages/", headers=callers["user"].headers, json={"text": "Still dead"})
    assert client.get(url, headers=callers["user"].headers).json()["status"] == "open"


def test_unknown_and_malformed_ids_are_404(client, callers):
    for ticket_id in ("00000000-0000-0000-0000-000000000000", "not-a-uuid"):
        assert_error(client.get(f"/api/tickets/{ticket_id}/", headers=callers["agent"].headers),
                     404, "not_found")
