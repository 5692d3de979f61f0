import pytest

from supportbot.errors import InvalidInput, NotFound, PermissionDenied
from supportbot.models import Role
from supportbot.services import chat, tickets


def open_ticket(session, text, user=None):
    conversation = chat.start_conversation(session, user=user)
    return chat.send_message(session, conversation.session_id, text, user=user,
                             request_human=True,
                             searcher=lambda q: (_ for _ in ()).throw(
                                 chat.IndexUnavailable("none"))).ticket


def test_agents_list_and_filter_every_ticket(session, make_user):
    agent = make_user("agent1", role=Role.agent)
    first = open_ticket(session, "printer on fire")
    second = open_ticket(session, "URGENTE: el correo no funciona")
    tickets.take(session, agent, second.id)
    session.commit()
    found, total = tickets.list_tickets(session, agent)
    assert total == 2 and [t.id for t in found] == [second.id, first.id]  # newest first
    assert tickets.list_tickets(session, agent, text="printer")[0] == [first]
    assert tickets.list_tickets(session, agent, text=first.reference.lower())[0] == [first]
    assert tickets.list_tickets(session, agent, assignee="me")[0] == [second]
    assert tickets.list_tickets(session, agent, assignee="none")[0] == [first]
    assert tickets.list_tickets(session, agent, tag="es")[0] == [second]
    assert tickets.list_tickets(session, agent, status="closed") == ([], 0)
    page, total = tickets.list_tickets(session, agent, limit=1, offset=1)
    assert page == [first] and total == 2
    with pytest.raises(InvalidInput) as refused:  # a crafted filter: refused, not a crash
        tickets.list_tickets(session, agent, status="bogus")
    assert refused.value.fields == {"status": "Unknown status."}


def test_users_see_only_their_own_tickets(session, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    mine = open_ticket(session, "help me", user=alice)
    open_ticket(session, "help bob", user=bob)
    assert tickets.list_tickets(session, alice) == ([mine], 1)
    agent = make_user("agent2", role=Role.agent)
    assert tickets.list_tickets(session, agent)[1] == 2
    assert tickets.list_tickets(session, agent, mine=True) == ([], 0)
    assert tickets.view_ticket(session, alice, mine.id) == mine
    with pytest.raises(NotFound):
        tickets.view_ticket(session, bob, mine.id)
    tickets.reply(session, make_user("agent1", role=Role.agent), mine.id, "note", internal=True)
    assert all(not m.is_internal for m in tickets.ticket_messages(session, alice, mine))


def test_updates_are_validated_and_audited(session, make_user):
    agent, user = make_user("agent1", role=Role.agent), make_user("user1")
    ticket = open_ticket(session, "help")
    tickets.update_ticket(session, agent, ticket.id, priority="high", tags=["VPN", "vpn", " "])
    assert ticket.priority == "high" and ticket.tags == ["vpn"]
    with pytest.raises(InvalidInput) as caught:
        tickets.update_ticket(session, agent, ticket.id, status="done", priority="p0",
                              assignee_id=str(user.id))
    assert set(caught.value.fields) == {"status", "priority", "assignee"}
    with pytest.raises(PermissionDenied):
        tickets.update_ticket(session, user, ticket.id, priority="urgent")
    tickets.update_ticket(session, agent, ticket.id, status="closed")
    assert ticket.status == "closed" and ticket.closed_at is not None
    tickets.update_ticket(session, agent, ticket.id, status="open")
    assert ticket.closed_at is None
