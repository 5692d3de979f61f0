from datetime import datetime, timedelta, timezone

import pytest

from tests.api.conftest import assert_error

CALLERS = ("anonymous", "user", "other", "agent", "admin")


def new_session(client, headers=None):
    return client.post("/api/chat/session/", headers=headers or {}).json()["session_id"]


@pytest.mark.parametrize(("path", "expected"), [
    ("/api/admin/users/", (401, 403, 403, 403, 200)),
    ("/api/admin/metrics/", (401, 403, 403, 403, 200)),
])
def test_admin_reads_are_for_admins(client, callers, path, expected):
    for name, status in zip(CALLERS, expected, strict=True):
        response = client.get(path, headers=callers[name].headers)
        assert response.status_code == status, (name, response.text)
        if status >= 400:
            assert_error(response, status)


def test_users_page_by_page_and_by_role(client, callers):
    admin = callers["admin"].headers
    everyone = client.get("/api/admin/users/", headers=admin).json()
    assert everyone["total"] == 4
    assert [u["username"] for u in everyone["items"]] == ["admin", "agent", "ana", "bob"]
    assert all("password_hash" not in u for u in everyone["items"])
    second = client.get("/api/admin/users/?page=2&page_size=3", headers=admin).json()
    assert [u["username"] for u in second["items"]] == ["bob"] and second["total"] == 4
    users = client.get("/api/admin/users/?role=user", headers=admin).json()
    assert users["total"] == 2 and {u["role"] for u in users["items"]} == {"user"}
    assert_error(client.get("/api/admin/users/?role=boss", headers=admin), 422)


def test_escalate_a_conversation_by_session_id(client, callers):
    anonymous_chat = new_session(client)
    owned_chat = new_session(client, callers["user"].headers)
    for name, status in (("anonymous", 401), ("user", 403), ("other", 403)):
        response = client.post("/api/admin/escalate/", headers=callers[name].headers,
                               json={"session_id": anonymous_chat})
        assert_error(response, status)
    taken = client.post("/api/admin/escalate/", headers=callers["agent"].headers,
                        json={"session_id": anonymous_chat, "note": "VIP customer"})
    assert taken.status_code == 201, taken.text
    reference = taken.json()["ticket"]["reference"]
    assert "support team has taken over" in taken.json()["bot_message"]["text"]
    again = client.post("/api/admin/escalate/", headers=callers["admin"].headers,
                        json={"session_id": anonymous_chat})
    assert again.json()["ticket"]["reference"] == reference  # the open ticket is reused
    conversation = client.get(f"/api/chat/conversations/{anonymous_chat}/").json()
    assert conversation["status"] == "human" and conversation["ticket"]["reference"] == reference
    # Agents reach an account's conversation too (users could not even read it).
    owned = client.post("/api/admin/escalate/", headers=callers["admin"].headers,
                        json={"session_id": owned_chat})
    assert owned.status_code == 201
    ticket = client.get(f"/api/tickets/{owned.json()['ticket']['id']}/",
                        headers=callers["agent"].headers).json()
    assert ticket["escalation_reason"] == "manual"
    assert_error(client.post("/api/admin/escalate/", headers=callers["agent"].headers,
                             json={"session_id": "nope"}), 404, "not_found")


def test_metrics_for_a_period(client, callers):
    admin = callers["admin"].headers
    today = datetime.now(timezone.utc).date()
    session_id = new_session(client)
    client.post("/api/admin/escalate/", headers=admin, json={"session_id": session_id})
    default = client.get("/api/admin/metrics/", headers=admin).json()
    assert len(default["conversations_per_day"]) == 30
    assert default["conversations_per_day"][-1] == {"day": today.isoformat(), "conversations": 1}
    assert default["end"] == today.isoformat()
    assert default["conversations"] == 1 and default["escalations_by_reason"] == {"manual": 1}
    assert default["open_tickets"] == 1 and default["escalation_rate"] == 1.0
    week = client.get(f"/api/admin/metrics/?start={today - timedelta(days=6)}&end={today}", headers=admin).json()
    assert len(week["conversations_per_day"]) == 7
    assert_error(client.get("/api/admin/metrics/?start=2000-01-01&end=2020-01-01",
                            headers=admin), 422)
    assert_error(client.get("/api/admin/metrics/?start=yesterday", headers=admin), 422)
    assert_error(client.get("/api/admin/metrics/?start=2000-01-01&end=2020-01-01",
                            headers=callers["agent"].headers), 403)
