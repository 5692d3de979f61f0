"""The audit log records who did what through the API, as through the pages: KB edits
(create, update, publish, delete, with what the article was), escalations (by the bot,
and by the agent who took a conversation over), ticket changes, role changes; and
nothing is recorded for what was refused."""

from sqlmodel import col, select

from supportbot.models import AuditLog
from supportbot.services import accounts


def trail(session, target_id=None):  # noqa: ANN001, ANN201
    session.expire_all()
    query = select(AuditLog).order_by(col(AuditLog.created_at), col(AuditLog.id))
    if target_id is not None:
        query = query.where(AuditLog.target_id == str(target_id))
    return list(session.exec(query))


def test_kb_edits_and_deletion_name_the_admin_and_keep_what_it_was(client, callers, session,
                                                                   monkeypatch):
    import supportbot.jobs.reindex as reindex

    monkeypatch.setattr(reindex, "schedule_reindex", lambda: None)
    admin = callers["admin"]
    created = client.post("/api/kb/", headers=admin.headers, json={
        "title": "Coffee machine E42", "solution": "Empty the drip tray."}).json()
    client.put(f"/api/kb/{created['id']}/", headers=admin.headers, json={
        "title": "Coffee machine E42", "solution": "Descale it.", "status": "published",
        "expected_version": 1}).raise_for_status()
    for who in ("user", "agent"):  # refused: no trace of an edit that did not happen
        assert client.delete(f"/api/kb/{created['id']}/",
                             headers=callers[who].headers).status_code == 403
    assert client.delete(f"/api/kb/{created['id']}/", headers=admin.headers).status_code == 204
    rows = trail(session, created["id"])
    assert [(r.action, r.actor_id) for r in rows] == [
        ("kb.create", admin.user.id), ("kb.update", admin.user.id),
        ("kb.delete", admin.user.id)]
    assert rows[1].before == {"title": "Coffee machine E42", "version": 1, "status": "draft"}
    assert rows[1].after == {"title": "Coffee machine E42", "version": 2,
                             "status": "published"}
    assert rows[2].before["title"] == "Coffee machine E42"  # the article is gone, not this


def test_escalations_name_who_took_the_conversation_over(client, callers, session):
    by_bot = client.post("/api/chat/session/").json()["session_id"]
    handed = client.post("/api/chat/message/", json={
        "session_id": by_bot, "text": "", "request_human": True}).json()
    by_agent = client.post("/api/chat/session/").json()["session_id"]
    for who in ("anonymous", "user"):
        assert client.post("/api/admin/escalate/", headers=callers[who].headers,
                           json={"session_id": by_agent}).status_code in (401, 403)
    taken = client.post("/api/admin/escalate/", headers=callers["agent"].headers,
                        json={"session_id": by_agent, "note": "VIP"}).json()
    bot_row, = trail(session, handed["ticket"]["id"])
    agent_row, = trail(session, taken["ticket"]["id"])
    assert (bot_row.action, bot_row.actor_id, bot_row.after["reason"]) == (
        "ticket.escalate", None, "user_request")
    assert (agent_row.action, agent_row.actor_id, agent_row.after["reason"]) == (
        "ticket.escalate", callers["agent"].user.id, "manual")


def test_ticket_changes_and_role_changes_are_recorded(client, callers, session):
    ticket = client.post("/api/tickets/", headers=callers["user"].headers,
                         json={"title": "Laptop"}).json()
    assert client.patch(f"/api/tickets/{ticket['id']}/", headers=callers["user"].headers,
                        json={"priority": "urgent"}).status_code == 403
    client.patch(f"/api/tickets/{ticket['id']}/", headers=callers["agent"].headers,
                 json={"priority": "high", "status": "waiting"}).raise_for_status()
    client.post(f"/api/tickets/{ticket['id']}/close/",
                headers=callers["user"].headers).raise_for_status()
    rows = trail(session, ticket["id"])
    assert [(r.action, r.actor_id) for r in rows] == [
        ("ticket.create", callers["user"].user.id), ("ticket.update", callers["agent"].user.id),
        ("ticket.close", callers["user"].user.id)]
    assert (rows[1].before["priority"], rows[1].after["priority"]) == ("normal", "high")
    target = callers["other"].user
    accounts.set_role(session, callers["admin"].user, target.id, "agent")  # pages, CLI
    session.commit()
    role_row = trail(session, target.id)[-1]
    assert (role_row.action, role_row.actor_id) == ("user.role_change",
                                                    callers["admin"].user.id)
    assert (role_row.before["role"], role_row.after["role"]) == ("user", "agent")
