"""The desk's page states driven as the browser's events would drive them, by each kind of
visitor: only agents and admins change a ticket, whatever event a page sends."""

import pytest
from sqlmodel import func, select

from supportbot.models import Message, Role, Ticket
from supportbot.ui.pages.desk import PAGE_SIZE, DeskState, TicketState
from tests.services.test_tickets import open_ticket
from tests.ui.states import cookie_for, page_state, run

ACTIONS = {
    "reply": lambda state: state.send_reply({"reply": "Try a new cable.", "internal": ""}),
    "note": lambda state: state.send_reply({"reply": "disk full?", "internal": "on"}),
    "take": lambda state: state.take(),
    "status": lambda state: state.set_ticket_status("waiting"),
    "priority": lambda state: state.set_ticket_priority("urgent"),
    "hand_back": lambda state: state.hand_back(),
    "close": lambda state: state.close_ticket(),
    "assign": lambda state: state.assign(str(state.staff[0]["id"]) if state.staff else "none"),
    "tags": lambda state: state.save_tags({"tags": "hacked, x"}),
}


@pytest.fixture
def people(make_user):
    return {"anonymous": None, "user": make_user("ursula"),
            "agent": make_user("agnes", role=Role.agent),
            "admin": make_user("adam", role=Role.admin)}


@pytest.fixture
def ticket(session):
    return open_ticket(session, "the VPN drops every hour")


def ticket_page(session, person, ticket) -> TicketState:
    return page_state(TicketState, cookie=cookie_for(session, person), route="/desk/[ticket_id]",
                      path=f"/desk/{ticket.id}", params={"ticket_id": str(ticket.id)})


def stored(session, ticket) -> tuple:
    session.expire_all()
    row = session.get(Ticket, ticket.id)
    messages = session.exec(select(func.count()).select_from(Message)
                            .where(Message.ticket_id == ticket.id)).one()
    return row.status, row.priority, row.assignee_id, messages, tuple(row.tags)


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("who", ["anonymous", "user"])
async def test_ticket_events_from_anyone_but_staff_change_nothing(session, people, ticket,
                                                                   who, action):
    before = stored(session, ticket)
    state = ticket_page(session, people[who], ticket)
    await run(ACTIONS[action](state))
    assert stored(session, ticket) == before
    assert state.error in ("Please log in.", "You do not have permission to do this.")
    assert state.messages == [] and state.ticket == {}  # nothing of the ticket was shown


@pytest.mark.parametrize("who", ["agent", "admin"])
async def test_agents_and_admins_work_the_ticket(session, people, ticket, who):
    state = ticket_page(session, people[who], ticket)
    assert await run(state.load()) == TicketState.watch  # keeps itself fresh
    assert state.ticket["reference"] == ticket.reference and "VPN" in state.note
    await run(state.take())
    assert stored(session, ticket)[2] == people[who].id
    assert state.ticket["assignee"] == people[who].username
    await run(state.send_reply({"reply": "Try a new cable.", "internal": ""}))
    await run(state.send_reply({"reply": "disk full?", "internal": "on"}))
    assert [(m["text"], m["internal"]) for m in state.messages[-2:]] == [
        ("Try a new cable.", False), ("disk full?", True)]
    await run(state.set_ticket_priority("urgent"))
    await run(state.set_ticket_status("waiting"))
    assert stored(session, ticket)[:2] == ("waiting", "urgent")
    await run(state.close_ticket())
    assert stored(session, ticket)[0] == "closed" and state.ticket["status"] == "closed"
    assert state.error == ""


async def test_a_ticket_is_assigned_to_another_agent_and_retagged(session, people, ticket,
                                                                  make_user):
    make_user("gone", role=Role.agent).is_active = False
    session.commit()
    state = ticket_page(session, people["agent"], ticket)
    await run(state.load())
    # Who it can go to: active agents and admins only, by name.
    assert [person["username"] for person in state.staff] == ["adam", "agnes"]
    assert state.ticket["assignee_id"] == "none"
    await run(state.assign(str(people["admin"].id)))
    assert stored(session, ticket)[2] == people["admin"].id
    assert state.ticket["assignee"] == "adam" and state.error == ""
    await run(state.assign(str(people["user"].id)))  # not staff: refused, nothing changes
    assert stored(session, ticket)[2] == people["admin"].id and state.error
    await run(state.assign("none"))
    assert stored(session, ticket)[2] is None and state.ticket["assignee_id"] == "none"
    await run(state.save_tags({"tags": " VPN, Remote Work,,vpn "}))
    assert stored(session, ticket)[4] == ("vpn", "remote work")
    assert state.ticket["tags"] == "vpn, remote work" and state.error == ""


async def test_a_refused_change_is_explained_and_keeps_the_reply(session, people, ticket):
    state = ticket_page(session, people["agent"], ticket)
    await run(state.load())
    result = await run(state.send_reply({"reply": "   "}))  # empty: refused by the service
    assert state.error and result is None  # the box is not cleared
    await run(state.set_ticket_priority("p0"))
    assert stored(session, ticket)[1] != "p0" and state.error
    cleared = await run(state.send_reply({"reply": "Fixed."}))
    assert state.error == "" and cleared is not None  # stored, so the box is cleared


async def test_an_unknown_ticket_shows_not_found(session, people):
    state = page_state(TicketState, cookie=cookie_for(session, people["agent"]),
                       route="/desk/[ticket_id]", path="/desk/nope",
                       params={"ticket_id": "nope"})
    assert await run(state.load()) is None
    assert state.found is False and state.ticket == {}


@pytest.mark.parametrize("who", ["anonymous", "user"])
async def test_the_queue_shows_nothing_to_others(session, people, ticket, who):
    state = page_state(DeskState, cookie=cookie_for(session, people[who]), route="/desk")
    result = await run(state.load())
    if who == "anonymous":
        assert result is not None  # a redirect to the log-in page
    for handler in (state.load(), state.filter({"text": "VPN"}), state.set_status_filter("all"),
                    state.set_priority_filter("all"), state.set_assignee_filter("me"),
                    state.turn_page(1)):
        await run(handler)
        assert state.rows == [] and state.total == 0


async def test_the_queue_filters_and_turns_pages(session, people, ticket):
    for number in range(PAGE_SIZE + 2):
        open_ticket(session, f"printer {number} is jammed")
    state = page_state(DeskState, cookie=cookie_for(session, people["agent"]), route="/desk")
    assert await run(state.load()) == DeskState.watch
    assert state.total == PAGE_SIZE + 3 and len(state.rows) == PAGE_SIZE
    assert state.page_label == f"1-{PAGE_SIZE} / {PAGE_SIZE + 3}"
    await run(state.turn_page(5))  # past the end: the last page
    assert state.page == 1 and len(state.rows) == 3
    assert state.page_label == f"{PAGE_SIZE + 1}-{PAGE_SIZE + 3} / {PAGE_SIZE + 3}"
    await run(state.turn_page(-9))
    assert state.page == 0
    await run(state.filter({"text": "  VPN ", "queue": "", "tag": "", "status": "",
                            "priority": "", "assignee": ""}))
    assert [row["reference"] for row in state.rows] == [ticket.reference]
    assert (state.status, state.priority, state.assignee) == ("all", "all", "all")
    await run(state.set_assignee_filter("me"))
    assert state.rows == [] and state.page_label == "0"
    await run(state.set_assignee_filter("all"))
    await run(state.set_status_filter("closed"))
    assert state.total == 0
