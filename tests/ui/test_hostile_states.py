"""Reflex events carry JSON too, so a crafted one can hold NUL or a lone surrogate. Every
page handler that stores or searches text goes through the services: the page shows the
refusal (per field where the form has fields), nothing is stored, nothing raises."""

import pytest
from sqlmodel import func, select

from supportbot.models import AppSetting, KnowledgeEntry, Message, Role, User
from supportbot.ui.pages.account import AccountState
from supportbot.ui.pages.admin_kb import KbAdminState
from supportbot.ui.pages.admin_rules import RulesState
from supportbot.ui.pages.admin_users import UsersState
from supportbot.ui.pages.auth import RegisterState
from supportbot.ui.pages.chat import ChatState
from supportbot.ui.pages.desk import DeskState, TicketState
from supportbot.ui.pages.help_center import HelpCenterState
from tests.conftest import PASSWORD
from tests.services.test_tickets import open_ticket
from tests.ui.states import cookie_for, page_state, run

BAD = ["\x00", "x\udfffy"]
CANNOT = "contains a character that cannot be stored"


@pytest.fixture
def people(make_user):
    return {"user": make_user("ursula"), "agent": make_user("agnes", role=Role.agent),
            "admin": make_user("adam", role=Role.admin)}


def count(session, model) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(model)).one()


@pytest.mark.parametrize("bad", BAD)
async def test_a_chat_message_is_refused_before_the_turn(database, bad):
    state = page_state(ChatState)
    assert await run(state.send({"message": f"help {bad}"})) is None  # no turn started
    assert CANNOT in state.error and state.messages == [] and state.sending is False


@pytest.mark.parametrize("bad", BAD)
async def test_a_desk_reply_is_refused_and_the_box_kept(session, people, bad):
    ticket = open_ticket(session, "the VPN drops")
    before = count(session, Message)
    state = page_state(TicketState, cookie=cookie_for(session, people["agent"]),
                       route="/desk/[ticket_id]", path=f"/desk/{ticket.id}",
                       params={"ticket_id": str(ticket.id)})
    assert await run(state.send_reply({"reply": f"try {bad}", "internal": ""})) is None
    assert CANNOT in state.error and count(session, Message) == before


@pytest.mark.parametrize("bad", BAD)
async def test_a_kb_article_is_refused_per_field(session, people, bad):
    state = page_state(KbAdminState, cookie=cookie_for(session, people["admin"]),
                       route="/admin/kb")
    await run(state.save({"title": f"VPN {bad}", "problem": "", "solution": f"Re{bad}start",
                          "tags": "vpn", "locale": "en", "phrasings": "", "status": "draft"}))
    assert set(state.field_errors) == {"title", "solution"} and state.info == ""
    assert state.form["title"] == f"VPN {bad}"  # what was typed stays
    assert count(session, KnowledgeEntry) == 0


@pytest.mark.parametrize("bad", BAD)
async def test_escalation_rules_are_refused_per_field(session, people, bad):
    state = page_state(RulesState, cookie=cookie_for(session, people["admin"]),
                       route="/admin/rules")
    await run(state.save({"threshold": "0.7", "keywords": f"fire{bad}: urgent",
                          "person_phrases": f"a human{bad}", "unresolved_turns": "3",
                          "routing": f"vpn: net{bad}"}))
    assert set(state.field_errors) == {"keywords", "person_phrases", "routing"}
    assert state.saved is False and count(session, AppSetting) == 0


@pytest.mark.parametrize("bad", BAD)
async def test_accounts_with_it_are_refused(session, people, bad):
    users = count(session, User)
    admin_page = page_state(UsersState, cookie=cookie_for(session, people["admin"]),
                            route="/admin/users")
    await run(admin_page.create({"username": f"carla{bad}", "email": "c@example.org",
                                 "password": PASSWORD, "role": "agent"}))
    assert "username" in admin_page.field_errors and admin_page.created == ""
    sign_up = page_state(RegisterState, route="/register")
    await run(sign_up.submit({"username": "dora", "email": f"d{bad}@example.org",
                              "password": PASSWORD}))
    assert "email" in sign_up.field_errors
    await run(sign_up.submit({"username": "dora", "email": "d@example.org",
                              "password": f"a long {bad} passphrase"}))
    if bad != "\x00":  # NUL is a valid password character: hashed, never stored
        assert "password" in sign_up.field_errors
    else:
        assert sign_up.field_errors == {}
        users += 1
    assert count(session, User) == users
    account = page_state(AccountState, cookie=cookie_for(session, people["user"]),
                         route="/account")
    await run(account.change_password({"current_password": f"{PASSWORD}{bad}",
                                       "new_password": "another long passphrase"}))
    assert account.error == "Current password is wrong."


@pytest.mark.parametrize("bad", BAD)
async def test_searches_with_it_find_nothing_and_say_nothing(session, people, bad):
    open_ticket(session, "printer jam")
    help_center = page_state(HelpCenterState, route="/kb")
    await run(help_center.search({"q": bad}))
    assert help_center.articles == [] and help_center.loaded
    kb = page_state(KbAdminState, cookie=cookie_for(session, people["admin"]),
                    route="/admin/kb")
    await run(kb.search({"q": bad}))
    assert kb.rows == [] and kb.error == ""
    desk = page_state(DeskState, cookie=cookie_for(session, people["agent"]), route="/desk")
    await run(desk.filter({"text": bad, "queue": bad, "tag": bad, "status": "all"}))
    assert desk.rows == [] and desk.error == ""


async def test_crafted_filter_values_are_refused_not_raised(session, people):
    open_ticket(session, "printer jam")
    desk = page_state(DeskState, cookie=cookie_for(session, people["agent"]), route="/desk")
    for handler in (desk.set_status_filter("lost"), desk.set_priority_filter("p0")):
        await run(handler)
        assert desk.rows == [] and desk.error
    kb = page_state(KbAdminState, cookie=cookie_for(session, people["admin"]),
                    route="/admin/kb")
    await run(kb.search({"q": "", "status_filter": "deleted"}))
    assert kb.rows == [] and kb.error
