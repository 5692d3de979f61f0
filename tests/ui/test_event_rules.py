"""Who may fire which page event: every event handler of every state class of the pages
(and the shared SessionState) has a rule in `RULES`; a new handler without one fails
`test_every_event_handler_has_a_rule`.

A rule says what the handler may change and who needs to be logged in for it:
- `CHANGES` with a role: it changes data, and only that role or above may (the services
  check, whatever the page shows). Fired by every visitor below that role, the database
  is left exactly as it was and no job is queued.
- `ANYONE`: it changes data, and anyone may, but only their own: fired by a visitor on
  someone else's conversation, nothing changes (sign-up creates a `user` account only).
- `READS`: it shows data (to those allowed to see it) or changes only the visitor's own
  page; fired by an anonymous visitor it changes nothing.
- Background handlers cannot be fired outside the app; their rule names the service
  that enforces it (tested there) and they are not fired here.
The per-visitor tests beside this one (test_desk_states, test_admin_states, ...) check
what each visitor sees; this one checks that nothing of the table is forgotten.
"""

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import reflex as rx
from sqlmodel import SQLModel, select

import supportbot.ui.pages as pages
from supportbot.models import AuditLog, Feedback, KbSuggestion, Message, Role, SenderType, User
from supportbot.services import chat, feedback_digest, knowledge
from supportbot.services.permissions import SYSTEM
from supportbot.ui.pages import admin_kb, admin_models
from supportbot.ui.state import SessionState
from tests.services.test_tickets import open_ticket
from tests.ui.states import cookie_for, page_state, run

Fire = Callable[[Any, dict[str, str]], Any]


@dataclass(frozen=True)
class Rule:
    kind: str  # CHANGES, ANYONE, READS
    role: Role | None = None  # CHANGES: the least role that may
    fire: Fire | None = None  # None only for background handlers
    why: str = ""


def changes(role: Role, fire: Fire) -> Rule:
    return Rule("CHANGES", role, fire)


def anyone(fire: Fire, why: str) -> Rule:
    return Rule("ANYONE", None, fire, why)


def reads(fire: Fire) -> Rule:
    return Rule("READS", None, fire)


def background(kind: str, why: str) -> Rule:
    return Rule(kind, None, None, why)


def crafted_setvar(name: str, value: Any) -> Fire:
    """`setvar` reaches only a var's explicit `set_*` handler (auto-setters are off): a
    crafted one for any other var is refused by Reflex."""
    async def fire(state, _world):  # noqa: ANN001, ANN202
        with pytest.raises(AttributeError):
            await run(state.setvar(name, value))
    return fire


ARTICLE = {"title": "Hacked", "problem": "", "solution": "x", "tags": "", "locale": "en",
           "phrasings": "", "status": "published"}
RULES: dict[str, Rule] = {
    "SessionState.load_session": reads(lambda s, w: s.load_session()),
    "SessionState.require_login": reads(lambda s, w: s.require_login()),
    "SessionState.require_agent": reads(lambda s, w: s.require_agent()),
    "SessionState.require_admin": reads(lambda s, w: s.require_admin()),
    "SessionState.current_user": reads(lambda s, w: s.current_user()),
    "SessionState.set_language": reads(lambda s, w: s.set_language("es")),
    "SessionState.setvar": reads(crafted_setvar("role", "admin")),
    # The chat: everyone talks, each in their own conversation (the session id is the key).
    "ChatState.load": reads(lambda s, w: s.load()),
    "ChatState.new_conversation": reads(lambda s, w: s.new_conversation()),
    "ChatState.send": anyone(lambda s, w: s.send({"message": "hello"}),
                             "starts a turn (process) in the visitor's own conversation"),
    "ChatState.ask_for_person": anyone(lambda s, w: s.ask_for_person(),
                                       "starts a turn (process) asking for a person"),
    "ChatState.rate": anyone(lambda s, w: s.rate(w["bot_message"], -1),
                             "rates an answer of the visitor's own conversation"),
    "ChatState.comment": anyone(lambda s, w: s.comment({"message_id": w["bot_message"],
                                                        "comment": "spam"}),
                                "comments a rated answer of the visitor's own conversation"),
    "ChatState.process": background("ANYONE", "chat.send_message as the cookie's user on "
                                    "the session id the browser holds: get_conversation "
                                    "refuses another account's (tests/services/test_chat)"),
    "ChatState.poll": background("READS", "chat.get_conversation, as process"),
    "ChatState.setvar": reads(crafted_setvar("messages", [])),
    "HelpCenterState.load": reads(lambda s, w: s.load()),
    "HelpCenterState.search": reads(lambda s, w: s.search({"q": "vpn"})),
    "HelpCenterState.set_locale": reads(lambda s, w: s.set_locale("es")),
    "HelpCenterState.set_tag": reads(lambda s, w: s.set_tag("vpn")),
    "HelpCenterState.setvar": reads(crafted_setvar("query", "x")),
    "ArticleState.load": reads(lambda s, w: s.load()),
    "ArticleState.setvar": reads(crafted_setvar("found", True)),
    "LoginState.load": reads(lambda s, w: s.load()),
    "LoginState.setvar": reads(crafted_setvar("error", "")),
    "RegisterState.submit": anyone(lambda s, w: s.submit({
        "username": "mallory", "email": "m@example.org", "password": "a long passphrase 1",
        "role": "admin"}), "creates a `user` account, whatever role the form sends"),
    "RegisterState.setvar": reads(crafted_setvar("username", "x")),
    "AccountState.change_password": changes(Role.user, lambda s, w: s.change_password({
        "current_password": "a long enough passphrase", "new_password": "another phrase 12"})),
    "AccountState.setvar": reads(crafted_setvar("error", "")),
    "MyTicketsState.load": reads(lambda s, w: s.load()),
    "MyTicketsState.open_ticket": reads(lambda s, w: s.open_ticket(w["ticket"])),
    "MyTicketsState.setvar": reads(crafted_setvar("rows", [])),
    # The desk: agents and admins.
    "DeskState.load": reads(lambda s, w: s.load()),
    "DeskState.filter": reads(lambda s, w: s.filter({"text": "vpn"})),
    "DeskState.set_status_filter": reads(lambda s, w: s.set_status_filter("all")),
    "DeskState.set_priority_filter": reads(lambda s, w: s.set_priority_filter("high")),
    "DeskState.set_assignee_filter": reads(lambda s, w: s.set_assignee_filter("me")),
    "DeskState.turn_page": reads(lambda s, w: s.turn_page(1)),
    "DeskState.watch": background("READS", "tickets.list_tickets (agents and admins)"),
    "DeskState.setvar": reads(crafted_setvar("rows", [])),
    "TicketState.load": reads(lambda s, w: s.load()),
    "TicketState.send_reply": changes(Role.agent, lambda s, w: s.send_reply(
        {"reply": "Try a new cable.", "internal": "on"})),
    "TicketState.take": changes(Role.agent, lambda s, w: s.take()),
    "TicketState.assign": changes(Role.agent, lambda s, w: s.assign(w["staff_id"])),
    "TicketState.save_tags": changes(Role.agent, lambda s, w: s.save_tags({"tags": "hacked"})),
    "TicketState.set_ticket_status": changes(Role.agent,
                                             lambda s, w: s.set_ticket_status("closed")),
    "TicketState.set_ticket_priority": changes(Role.agent,
                                               lambda s, w: s.set_ticket_priority("urgent")),
    "TicketState.hand_back": changes(Role.agent, lambda s, w: s.hand_back()),
    "TicketState.close_ticket": changes(Role.agent, lambda s, w: s.close_ticket()),
    "TicketState.watch": background("READS", "tickets.view_ticket (agents and admins)"),
    "TicketState.setvar": reads(crafted_setvar("ticket", {})),
    # Administration: admins.
    "KbAdminState.load": reads(lambda s, w: s.load()),
    "KbAdminState.search": reads(lambda s, w: s.search({"q": "coffee"})),
    "KbAdminState.new": reads(lambda s, w: s.new()),
    "KbAdminState.edit": reads(lambda s, w: s.edit(w["article"])),
    "KbAdminState.save": changes(Role.admin, lambda s, w: s.save(ARTICLE)),
    "KbAdminState.delete": changes(Role.admin, lambda s, w: _delete_article(s, w)),
    "KbAdminState.reindex": changes(Role.admin, lambda s, w: s.reindex()),
    "KbAdminState.follow_job": background("READS", "jobs.job_status of the job this page "
                                          "started (reindex refuses non-admins)"),
    "KbAdminState.setvar": reads(crafted_setvar("form", {"id": "x"})),
    "FeedbackState.load": reads(lambda s, w: s.load()),
    "FeedbackState.to_kb": changes(Role.admin, lambda s, w: s.to_kb(w["feedback"])),
    "FeedbackState.dismiss": changes(Role.admin, lambda s, w: s.dismiss(w["feedback"])),
    "FeedbackState.setvar": reads(crafted_setvar("items", [])),
    "RulesState.load": reads(lambda s, w: s.load()),
    "RulesState.save": changes(Role.admin, lambda s, w: s.save({
        "threshold": "0.1", "keywords": "x: urgent", "person_phrases": "",
        "unresolved_turns": "2", "routing": ""})),
    "RulesState.setvar": reads(crafted_setvar("values", {})),
    "DeliveriesState.load": reads(lambda s, w: s.load()),
    "DeliveriesState.toggle_failed": reads(lambda s, w: s.toggle_failed(True)),
    "DeliveriesState.setvar": reads(crafted_setvar("rows", [])),
    "UsersState.load": reads(lambda s, w: s.load()),
    "UsersState.create": changes(Role.admin, lambda s, w: s.create({
        "username": "mallory", "email": "m@example.org", "password": "a long passphrase 1",
        "role": "admin"})),
    "UsersState.change_role": changes(Role.admin,
                                      lambda s, w: s.change_role(w["user_id"], "admin")),
    "UsersState.toggle_active": changes(Role.admin,
                                        lambda s, w: s.toggle_active(w["user_id"], "yes")),
    "UsersState.setvar": reads(crafted_setvar("rows", [])),
    "AuditState.load": reads(lambda s, w: s.load()),
    "AuditState.setvar": reads(crafted_setvar("rows", [])),
    "MetricsState.load": reads(lambda s, w: s.load()),
    "MetricsState.set_period": reads(lambda s, w: s.set_period("30")),
    "MetricsState.setvar": reads(crafted_setvar("cards", {})),
    "EmbedState.load": reads(lambda s, w: s.load()),
    "EmbedState.set_lang": reads(lambda s, w: s.set_lang("es")),
    "EmbedState.mark_copied": reads(lambda s, w: s.mark_copied()),
    "EmbedState.setvar": reads(crafted_setvar("copied", True)),
    "ModelsState.load": reads(lambda s, w: s.load()),
    "ModelsState.start": changes(Role.admin, lambda s, w: s.start()),
    "ModelsState.activate": changes(Role.admin, lambda s, w: s.activate("base")),
    "ModelsState.rollback": changes(Role.admin, lambda s, w: s.rollback()),
    "ModelsState.follow_job": background("READS", "jobs.job_status of the fine-tuning job "
                                         "this page started (start refuses non-admins)"),
    "ModelsState.setvar": reads(crafted_setvar("rows", [])),
    "SuggestionsState.load": reads(lambda s, w: s.load()),
    "SuggestionsState.open_editor": reads(lambda s, w: s.open_editor(w["suggestion"])),
    "SuggestionsState.close_editor": reads(lambda s, w: s.close_editor()),
    "SuggestionsState.accept": changes(Role.admin, lambda s, w: s.accept(w["suggestion"])),
    "SuggestionsState.accept_edited": changes(Role.admin, lambda s, w: _accept_edited(s, w)),
    "SuggestionsState.reject": changes(Role.admin, lambda s, w: s.reject(w["suggestion"])),
    "SuggestionsState.run_digest": changes(Role.admin, lambda s, w: s.run_digest()),
    "SuggestionsState.follow_job": background("READS", "jobs.job_status of the digest job "
                                              "this page started (start_digest refuses "
                                              "non-admins)"),
    "SuggestionsState.setvar": reads(crafted_setvar("items", [])),
}
# Base classes that hold no handler of their own but `setvar` (never a page's state).
ABSTRACT = {"_AgentState", "_AdminState"}
# The page each state is fired on (route, and the dynamic part of the address).
ROUTES = {"TicketState": "/desk/[ticket_id]", "ArticleState": "/kb/[article_id]"}


def page_states() -> dict[str, type[rx.State]]:
    found = {"SessionState": SessionState}
    for module in pkgutil.iter_modules(pages.__path__):
        loaded = importlib.import_module(f"{pages.__name__}.{module.name}")
        for name, cls in vars(loaded).items():
            if (inspect.isclass(cls) and issubclass(cls, rx.State)
                    and cls.__module__ == loaded.__name__ and name not in ABSTRACT):
                found[name] = cls
    return found


def handlers() -> dict[str, tuple[type[rx.State], Any]]:
    return {f"{name}.{handler}": (cls, event) for name, cls in page_states().items()
            for handler, event in cls.event_handlers.items()}


def test_every_event_handler_has_a_rule():
    found = handlers()
    assert len(found) > 80 and "TicketState.send_reply" in found  # the pages were read
    assert sorted(set(found) - set(RULES)) == [], "handlers without a rule: add to RULES"
    assert sorted(set(RULES) - set(found)) == [], "rules for handlers that are gone"
    for name, (_cls, event) in found.items():
        rule = RULES[name]
        assert (rule.fire is None) == bool(event.is_background), name  # fire all others
        assert rule.kind in ("CHANGES", "ANYONE", "READS"), name
        assert (rule.role is not None) == (rule.kind == "CHANGES"), name
        assert rule.fire is not None or rule.why, name


# -- firing them -----------------------------------------------------------------------

@pytest.fixture
def world(session, make_user, monkeypatch):
    """ana's ticket and own chat (with a rated answer), an article, an unhelpful rating;
    jobs recorded instead of run. Visitors' accounts are made when first needed."""
    import supportbot.jobs.reindex as reindex

    jobs: list[object] = []
    monkeypatch.setattr(reindex, "schedule_reindex", lambda: jobs.append("reindex"))
    monkeypatch.setattr(admin_kb, "enqueue", lambda *args: jobs.append(args) or "job-1")
    monkeypatch.setattr(admin_models, "schedule_finetune",
                        lambda **kwargs: jobs.append(kwargs) or "job-2")
    monkeypatch.setattr(feedback_digest, "enqueue", lambda *args: jobs.append(args) or "job-3")
    ana = make_user("ana")
    ticket = open_ticket(session, "the VPN drops every hour", user=ana)
    owned = chat.start_conversation(session, user=ana)
    session.add(Message(conversation_id=owned.id, sender_type=SenderType.user.value,
                        text="printer jam"))
    answer = Message(conversation_id=owned.id, sender_type=SenderType.bot.value,
                     is_bot=True, text="Open tray 2.", meta={"decision": "answer"})
    session.add(answer)
    session.flush()
    feedback = Feedback(conversation_id=owned.id, message_id=answer.id, rating=-1,
                        comment="still jammed")
    session.add(feedback)
    article = knowledge.create_entry(session, SYSTEM, knowledge.ArticleDraft(
        "Coffee machine E42", solution="Empty the drip tray."))
    suggestion = KbSuggestion(title="Printer jams in tray 2", problem="printer jam",
                              solution="Open tray 2.", phrasings=["printer jam"],
                              case_keys=[f"feedback:{feedback.id}"])
    session.add(suggestion)
    staff = make_user("stella", role=Role.agent)  # whom a crafted `assign` would name
    session.commit()
    jobs.clear()
    return {"make_user": make_user, "jobs": jobs, "ticket": str(ticket.id),
            "chat": owned.session_id, "bot_message": str(answer.id),
            "feedback": str(feedback.id), "article": str(article.id), "user_id": str(ana.id),
            "suggestion": str(suggestion.id), "staff_id": str(staff.id)}


def snapshot(session) -> dict[str, list[str]]:  # noqa: ANN001
    """Every row of every table, as text: the database as it is now."""
    session.expire_all()
    return {table.name: sorted(repr(tuple(row)) for row in session.execute(table.select()))
            for table in SQLModel.metadata.sorted_tables}


def _accept_edited(state, world):  # noqa: ANN001, ANN202
    state.form = {**state.form, "id": world["suggestion"], "kind": "new_article"}  # crafted
    return state.accept_edited({"title": "Hacked", "problem": "", "solution": "x",
                                "phrasings": "", "locale": "en"})


def _delete_article(state, world):  # noqa: ANN001, ANN202
    state.form = {**state.form, "id": world["article"]}  # a crafted delete
    return state.delete()


def visitor_state(session, name: str, cls: type[rx.State], world: dict[str, Any],
                  who: str) -> rx.State:
    accounts = {"user": ("ursula", Role.user), "other": ("ursula", Role.user),
                "agent": ("agnes", Role.agent)}  # neither is ana, who owns the data
    person = None
    if who != "anonymous":
        username, role = accounts[who]
        person = (session.exec(select(User).where(User.username == username)).first()
                  or world["make_user"](username, role=role))
    route = ROUTES.get(name, "/")
    params = {"ticket_id": world["ticket"]} if "ticket_id" in route else (
        {"article_id": world["article"]} if "article_id" in route else {})
    path = route.replace("[ticket_id]", world["ticket"]).replace("[article_id]",
                                                                 world["article"])
    state = page_state(cls, cookie=cookie_for(session, person), route=route, path=path,
                       params=params)
    if name == "ChatState":
        state.chat_session = world["chat"]  # ana's conversation, not theirs
    return state


def below(role: Role | None) -> list[str]:
    """The visitors a rule refuses: everyone below its role; ANYONE and READS rules are
    fired by the anonymous visitor and by another user (someone else's data)."""
    order = {Role.user: ["anonymous"], Role.agent: ["anonymous", "user"],
             Role.admin: ["anonymous", "user", "agent"]}
    return order[role] if role is not None else ["anonymous", "other"]


FIRED = [name for name, rule in RULES.items() if rule.fire is not None]


@pytest.mark.parametrize("name", FIRED)
async def test_a_refused_or_foreign_event_changes_nothing(session, world, name):
    rule = RULES[name]
    state_name = name.split(".")[0]
    cls = page_states()[state_name]
    for who in below(rule.role):
        state = visitor_state(session, state_name, cls, world, who)
        before = snapshot(session)
        await run(rule.fire(state, world))
        if name == "RegisterState.submit":  # anyone signs up, as a user, nothing else
            created = session.exec(select(User).where(User.username == "mallory")).one()
            assert created.role == Role.user.value
            for row in session.exec(select(AuditLog).where(
                    AuditLog.target_id == str(created.id))):
                session.delete(row)
            session.delete(created)
            session.commit()
        after = snapshot(session)
        assert after == before, (who, {table: set(after[table]) ^ set(before[table])
                                       for table in after if after[table] != before[table]})
        assert world["jobs"] == [], who
