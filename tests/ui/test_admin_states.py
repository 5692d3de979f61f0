"""The admin pages' states driven as the browser's events would drive them: an anonymous
visitor, a user or an agent changes nothing, whatever event they craft; an admin does."""

import uuid

import pytest
from sqlmodel import func, select

from supportbot.models import (
    AppSetting,
    Feedback,
    KnowledgeEntry,
    Message,
    NotificationDelivery,
    Role,
    SenderType,
    User,
)
from supportbot.services import chat, escalation, knowledge
from supportbot.services.permissions import SYSTEM
from supportbot.ui.pages import admin_kb
from supportbot.ui.pages.admin_embed import EmbedState, snippet
from supportbot.ui.pages.admin_feedback import FeedbackState
from supportbot.ui.pages.admin_kb import KbAdminState
from supportbot.ui.pages.admin_metrics import MetricsState
from supportbot.ui.pages.admin_rules import DeliveriesState, RulesState
from supportbot.ui.pages.admin_users import AuditState, UsersState
from tests.ui.states import cookie_for, page_state, run

REFUSED = ("Please log in.", "You do not have permission to do this.")
OUTSIDERS = ["anonymous", "user", "agent"]
ARTICLE = {"title": "Coffee machine shows E42", "problem": "", "tags": "kitchen, coffee",
           "solution": "Empty the drip tray.", "locale": "en", "phrasings": "coffee e42",
           "status": "draft"}


@pytest.fixture
def people(make_user):
    return {"anonymous": None, "user": make_user("ursula"),
            "agent": make_user("agnes", role=Role.agent),
            "admin": make_user("adam", role=Role.admin)}


@pytest.fixture
def reindexed(monkeypatch):
    """Counts the reindexes the knowledge service queues after a commit."""
    import supportbot.jobs.reindex as reindex

    calls = []
    monkeypatch.setattr(reindex, "schedule_reindex", lambda: calls.append(1))
    return calls


@pytest.fixture
def article(session, reindexed):
    entry = knowledge.create_entry(session, SYSTEM, admin_kb.draft_from(ARTICLE))
    session.commit()
    reindexed.clear()
    return entry


def as_(state_cls, session, person, route):
    return page_state(state_cls, cookie=cookie_for(session, person), route=route)


def count(session, model) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(model)).one()


# -- knowledge base --------------------------------------------------------------------

@pytest.mark.parametrize("who", OUTSIDERS)
async def test_kb_events_from_non_admins_change_nothing(session, people, article, reindexed,
                                                        monkeypatch, who):
    queued = []
    monkeypatch.setattr(admin_kb, "enqueue", lambda *args: queued.append(args) or "job-1")
    state = as_(KbAdminState, session, people[who], "/admin/kb")
    await run(state.load())
    assert state.rows == [] and state.total == 0
    await run(state.search({"q": "coffee"}))
    assert state.rows == []
    await run(state.edit(str(article.id)))  # a draft: not even readable
    assert state.form["title"] == "" and state.error in REFUSED
    await run(state.save(ARTICLE))  # create
    await run(state.save({**ARTICLE, "id": str(article.id), "status": "published"}))
    state.form = {**state.form, "id": str(article.id), "version": "1"}  # a crafted edit
    await run(state.save({**ARTICLE, "status": "published", "title": "Hacked"}))
    assert state.error in REFUSED and state.info == ""
    await run(state.delete())
    assert await run(state.reindex()) is None
    session.expire_all()
    entry = session.get(KnowledgeEntry, article.id)
    assert (entry.title, entry.status, entry.version) == (ARTICLE["title"], "draft", 1)
    assert count(session, KnowledgeEntry) == 1
    assert queued == [] and reindexed == [] and state.job == ""


async def test_an_admin_creates_publishes_edits_and_deletes(session, people, reindexed):
    state = as_(KbAdminState, session, people["admin"], "/admin/kb")
    await run(state.load())
    state.new()
    await run(state.save({**ARTICLE, "title": "  ", "solution": ""}))  # refused per field
    assert set(state.field_errors) == {"title", "solution"} and state.info == ""
    assert state.form["tags"] == "kitchen, coffee"  # what was typed stays
    assert count(session, KnowledgeEntry) == 0 and reindexed == []
    await run(state.save(ARTICLE))
    assert state.info == "saved" and state.form["version"] == "1" and state.total == 1
    entry_id = uuid.UUID(state.form["id"])
    await run(state.save({**ARTICLE, "status": "published"}))  # publish: version 2
    session.expire_all()
    entry = session.get(KnowledgeEntry, entry_id)
    assert (entry.status, entry.version, entry.tags) == ("published", 2, ["kitchen", "coffee"])
    assert [v["version"] for v in state.history] == ["2", "1"]
    assert len(reindexed) == 2  # the search index follows every save
    await run(state.search({"q": "E42", "status_filter": "draft"}))
    assert state.rows == []
    await run(state.search({"q": "E42", "status_filter": "published"}))
    assert [row["title"] for row in state.rows] == [ARTICLE["title"]]
    await run(state.delete())
    assert state.info == "deleted" and state.editing is False
    assert count(session, KnowledgeEntry) == 0


async def test_a_stale_edit_is_refused_and_keeps_what_was_typed(session, people, article):
    mine = as_(KbAdminState, session, people["admin"], "/admin/kb")
    await run(mine.edit(str(article.id)))
    theirs = as_(KbAdminState, session, people["admin"], "/admin/kb")
    await run(theirs.edit(str(article.id)))
    await run(theirs.save({**ARTICLE, "solution": "Call facilities."}))
    await run(mine.save({**ARTICLE, "solution": "Descale it."}))
    assert mine.error and mine.info == ""
    assert mine.form["solution"] == "Descale it." and mine.form["version"] == "1"
    session.expire_all()
    assert session.get(KnowledgeEntry, article.id).solution == "Call facilities."


async def test_the_editor_opens_the_article_named_in_the_address(session, people, article):
    state = page_state(KbAdminState, cookie=cookie_for(session, people["admin"]),
                       route="/admin/kb", query={"edit": str(article.id)})
    await run(state.load())
    assert state.editing and state.form["title"] == ARTICLE["title"]
    assert state.form["phrasings"] == "coffee e42"


async def test_an_admin_starts_the_reindex_job_and_follows_it(session, people, monkeypatch):
    from supportbot.jobs.reindex import rebuild_index

    queued = []
    monkeypatch.setattr(admin_kb, "enqueue", lambda func: queued.append(func) or "job-7")
    state = as_(KbAdminState, session, people["admin"], "/admin/kb")
    assert await run(state.reindex()) == KbAdminState.follow_job
    assert queued == [rebuild_index] and (state.job, state.job_state) == ("job-7", "queued")


def test_the_kb_form_round_trips_an_article(session, article):
    form = admin_kb.entry_form(article)
    assert form["tags"] == "kitchen, coffee" and form["version"] == "1"
    draft = admin_kb.draft_from({**form, "phrasings": "one\n\n two \n", "tags": "a, ,b"})
    assert list(draft.phrasings) == ["one", " two "] and list(draft.tags) == ["a", "b"]


# -- users and roles -------------------------------------------------------------------

@pytest.mark.parametrize("who", OUTSIDERS)
async def test_user_events_from_non_admins_change_nothing(session, people, who):
    target = people["user"]
    state = as_(UsersState, session, people[who], "/admin/users")
    await run(state.load())
    assert state.rows == []
    await run(state.change_role(str(target.id), "admin"))
    assert state.error in REFUSED
    await run(state.toggle_active(str(target.id), "yes"))
    await run(state.create({"username": "mallory", "email": "m@example.org",
                            "password": "a long enough passphrase", "role": "admin"}))
    assert state.error in REFUSED and state.created == "" and state.rows == []
    session.expire_all()
    stored = session.get(User, target.id)
    assert (stored.role, stored.is_active) == ("user", True)
    assert session.exec(select(User).where(User.username == "mallory")).first() is None


async def test_an_admin_manages_accounts(session, people):
    state = as_(UsersState, session, people["admin"], "/admin/users")
    await run(state.load())
    assert {row["username"] for row in state.rows} == {"ursula", "agnes", "adam"}
    await run(state.create({"username": "carla", "email": "carla@example.org",
                            "password": "short", "role": "agent"}))
    assert "password" in state.field_errors and state.created == ""
    assert await run(state.create({"username": "carla", "email": "carla@example.org",
                                   "password": "a long enough passphrase",
                                   "role": "agent"})) is not None  # clears the password box
    assert state.created == "carla"
    target = people["user"]
    await run(state.change_role(str(target.id), "agent"))
    await run(state.toggle_active(str(target.id), "yes"))
    row = next(r for r in state.rows if r["username"] == "ursula")
    assert (row["role"], row["active"]) == ("agent", "no") and state.error == ""
    await run(state.toggle_active(str(people["admin"].id), "yes"))  # the last admin
    assert state.error.startswith("The last active administrator")
    session.expire_all()
    assert session.get(User, people["admin"].id).is_active

    audit = as_(AuditState, session, people["admin"], "/admin/audit")
    await run(audit.load())
    named = {(row["actor"], row["action"], row["type"], row["target"]) for row in audit.rows}
    assert {("adam", "user.role_change", "user", "ursula"),
            ("adam", "user.deactivate", "user", "ursula"),
            ("adam", "user.create", "user", "carla")} <= named  # names, never ids
    assert ("", "user.create", "user", "ursula") in named  # made by the test's SYSTEM


async def test_the_audit_log_names_deleted_articles_and_tickets(session, people, article,
                                                                reindexed):
    from tests.services.test_tickets import open_ticket

    ticket = open_ticket(session, "printer on fire")
    state = as_(KbAdminState, session, people["admin"], "/admin/kb")
    await run(state.edit(str(article.id)))
    await run(state.delete())
    audit = as_(AuditState, session, people["admin"], "/admin/audit")
    await run(audit.load())
    named = {(row["action"], row["target"]) for row in audit.rows}
    assert {("kb.delete", ARTICLE["title"]), ("ticket.escalate", ticket.reference)} <= named
    assert not any(str(article.id) in row["target"] for row in audit.rows)


@pytest.mark.parametrize("who", OUTSIDERS)
async def test_the_audit_log_is_for_admins_only(session, people, who):
    state = as_(AuditState, session, people[who], "/admin/audit")
    await run(state.load())
    assert state.rows == []


# -- escalation rules, deliveries, metrics ---------------------------------------------

RULES_FORM = {"threshold": "0,7", "keywords": "printer on fire: urgent\nurgente",
              "person_phrases": "a human please\n\n", "unresolved_turns": "3",
              "routing": "vpn: network\nkitchen: facilities"}


@pytest.mark.parametrize("who", OUTSIDERS)
async def test_rule_events_from_non_admins_change_nothing(session, people, who):
    state = as_(RulesState, session, people[who], "/admin/rules")
    await run(state.load())
    assert state.values == {}  # the current rules are not even shown
    await run(state.save(RULES_FORM))
    assert state.error in REFUSED and state.saved is False
    assert count(session, AppSetting) == 0
    assert escalation.load_rules(session) == escalation.default_rules()


async def test_an_admin_saves_rules_and_a_mistake_keeps_the_form(session, people):
    state = as_(RulesState, session, people["admin"], "/admin/rules")
    await run(state.load())
    assert "urgente" in state.values["keywords"]
    await run(state.save({**RULES_FORM, "threshold": "high", "unresolved_turns": "99"}))
    assert set(state.field_errors) == {"threshold", "unresolved_turns"}
    assert state.values["threshold"] == "high" and state.saved is False
    assert count(session, AppSetting) == 0
    await run(state.save(RULES_FORM))
    assert state.saved and state.error == ""
    rules = escalation.load_rules(session)
    assert rules.threshold == 0.7 and rules.unresolved_turns == 3
    assert [(k.phrase, k.priority) for k in rules.keywords] == [
        ("printer on fire", "urgent"), ("urgente", "high")]
    assert rules.person_phrases == ("a human please",)
    assert rules.routing == {"vpn": "network", "kitchen": "facilities"}
    assert state.values["keywords"] == "printer on fire: urgent\nurgente: high"


@pytest.fixture
def failed_delivery(session):
    delivery = NotificationDelivery(event="ticket.escalated", channel="webhook",
                                    target="https://hooks.example/x", status="failed",
                                    attempts=3, last_error="timed out")
    session.add(delivery)
    session.commit()
    return delivery


@pytest.mark.parametrize("who", OUTSIDERS)
async def test_deliveries_and_metrics_are_for_admins_only(session, people, failed_delivery,
                                                          who):
    deliveries = as_(DeliveriesState, session, people[who], "/admin/notifications")
    await run(deliveries.load())
    await run(deliveries.toggle_failed(True))
    assert deliveries.rows == []
    figures = as_(MetricsState, session, people[who], "/admin/metrics")
    await run(figures.load())
    assert figures.cards == {} and figures.per_day == []


async def test_an_admin_sees_deliveries_and_metrics(session, people, failed_delivery):
    deliveries = as_(DeliveriesState, session, people["admin"], "/admin/notifications")
    await run(deliveries.load())
    assert [(r["channel"], r["status"], r["attempts"], r["error"]) for r in deliveries.rows] == [
        ("webhook", "failed", "3", "timed out")]
    figures = as_(MetricsState, session, people["admin"], "/admin/metrics")
    await run(figures.set_period("30"))
    assert figures.period == "30" and len(figures.per_day) == 30
    await run(figures.set_period("1000"))  # not offered: back to a week
    assert figures.period == "7" and len(figures.per_day) == 7
    assert figures.cards["conversations"] == "0"


# -- feedback review -------------------------------------------------------------------

@pytest.fixture
def unhelpful(session):
    """A user's question, the bot's answer and a thumbs-down on it."""
    conversation = chat.start_conversation(session, locale="es")
    session.add(Message(conversation_id=conversation.id, sender_type=SenderType.user.value,
                        text="la impresora no imprime"))
    session.flush()
    answer = Message(conversation_id=conversation.id, sender_type=SenderType.bot.value,
                     is_bot=True, text="Reinicia la impresora.", meta={"language": "es"})
    session.add(answer)
    session.flush()
    feedback = Feedback(conversation_id=conversation.id, message_id=answer.id, rating=-1,
                        comment="sigue igual")
    session.add(feedback)
    session.commit()
    return feedback


@pytest.mark.parametrize("who", OUTSIDERS)
async def test_feedback_events_from_non_admins_change_nothing(session, people, unhelpful,
                                                              reindexed, who):
    state = as_(FeedbackState, session, people[who], "/admin/feedback")
    await run(state.load())
    assert state.items == []
    assert await run(state.to_kb(str(unhelpful.id))) is None
    assert state.error in REFUSED
    await run(state.dismiss(str(unhelpful.id)))
    session.expire_all()
    assert session.get(Feedback, unhelpful.id).reviewed_at is None
    assert count(session, KnowledgeEntry) == 0


async def test_an_admin_turns_feedback_into_a_draft_or_dismisses_it(session, people,
                                                                    unhelpful, reindexed):
    state = as_(FeedbackState, session, people["admin"], "/admin/feedback")
    await run(state.load())
    [item] = state.items
    assert (item["question"], item["comment"], item["language"]) == (
        "la impresora no imprime", "sigue igual", "es")
    redirect = await run(state.to_kb(item["id"]))
    entry = session.exec(select(KnowledgeEntry)).one()
    assert entry.status == "draft" and entry.title == "la impresora no imprime"
    assert redirect is not None and str(entry.id) in str(redirect)  # opens it in the editor
    assert await run(state.to_kb(item["id"])) is None  # only once
    assert state.error
    await run(state.dismiss(item["id"]))
    await run(state.load())
    assert state.items == []


# -- the website widget's snippet ------------------------------------------------------

@pytest.mark.parametrize("who", OUTSIDERS)
async def test_the_snippet_is_for_admins_only(session, people, who):
    state = as_(EmbedState, session, people[who], "/admin/embed")
    await run(state.load())
    state.mark_copied()
    assert state.code == "" and state.copied is False


async def test_the_snippet_carries_the_public_url_and_the_language(session, people,
                                                                   settings_env):
    settings_env(PUBLIC_URL="https://desk.example.com/")
    state = as_(EmbedState, session, people["admin"], "/admin/embed")
    await run(state.load())
    assert state.code == '<script src="https://desk.example.com/embed.js" defer></script>'
    state.set_lang("es")
    assert 'data-lang="es"' in state.code
    state.set_lang("fr")
    assert "data-lang" not in state.code
    state.mark_copied()
    assert state.copied
    assert snippet('https://x.example/"><b>') == (
        '<script src="https://x.example/&quot;&gt;&lt;b&gt;/embed.js" defer></script>')


# -- ratings per article ---------------------------------------------------------------

def rate(session, entry, ratings):
    """Bot answers citing `entry`, each rated as given (1 helpful, -1 not)."""
    conversation = chat.start_conversation(session)
    for rating in ratings:
        answer = Message(conversation_id=conversation.id, sender_type=SenderType.bot.value,
                         is_bot=True, text=entry.solution,
                         citations=[{"id": str(entry.id), "title": entry.title}])
        session.add(answer)
        session.commit()
        chat.give_feedback(session, conversation.session_id, answer.id, rating)
    session.commit()


async def test_the_kb_list_and_editor_show_each_articles_ratings(session, people, article):
    other = knowledge.create_entry(session, SYSTEM, admin_kb.draft_from(
        {**ARTICLE, "title": "Kettle trips the fuse"}))
    session.commit()
    rate(session, article, [1, 1, -1])
    state = as_(KbAdminState, session, people["admin"], "/admin/kb")
    await run(state.load())
    counts = {row["title"]: (row["helpful"], row["not_helpful"]) for row in state.rows}
    assert counts == {ARTICLE["title"]: ("2", "1"), "Kettle trips the fuse": ("0", "0")}
    await run(state.edit(str(article.id)))
    assert state.ratings == {"helpful": "2", "not_helpful": "1"}
    await run(state.edit(str(other.id)))
    assert state.ratings == {"helpful": "0", "not_helpful": "0"}
    state.new()
    assert state.ratings == {}
