"""Hostile input on the services (hypothesis): whatever people type or craft, a service
either stores what they would expect or refuses with a ServiceError, never another
exception (a 500 in the API, a dead page in the UI). On SQLite, and on PostgreSQL when
TEST_DATABASE_URL is set: it refuses NUL in text and \\u0000 in JSONB, and no driver
encodes a lone surrogate (a JSON body or a Reflex event can carry one)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from supportbot.ai.store import IndexUnavailable
from supportbot.errors import InvalidInput, ServiceError
from supportbot.models import KnowledgeEntry, Message, Role, SenderType, Ticket, User
from supportbot.services import accounts, chat, escalation, knowledge, requester, tickets
from supportbot.services.permissions import SYSTEM
from supportbot.ui.pages.admin_rules import form_to_rules

NASTY = [
    "", " ", "\t\n\r ", "\x00", "a\x00b", "\ud800", "x\udfffy", "\x01\x02\x1b[31mred\x7f",
    "'; DROP TABLE users; --", "' OR '1'='1", "1; SELECT pg_sleep(5)", "%", "_", "%_\\",
    "{{7*7}}", "${7*7}", "{% raw %}{{ config }}", "<%= 7*7 %>", "#{7*7}", "{0.__class__}",
    "<script>alert(1)</script>", '<img src=x onerror="window.__xss=1">',
    "[x](javascript:alert(1))", "\u202eevil\u202c", "\ufeffbom", "\u200b\u200d",
    "Привет 你好 مرحبا שלום नमस्ते 🙂", "ǅ ﬁ ß İ", "e\u0301" * 50, "🙂" * 3000,
    "a" * 4001, "palabra " * 700, "\\", "\\u0000", "NULL", "None", "null",
]
# Every Unicode category, surrogates and controls included (hypothesis leaves Cs out).
ANY_CHAR = st.characters(categories=["L", "M", "N", "P", "S", "Z", "C"])
TEXT = st.one_of(st.sampled_from(NASTY), st.text(ANY_CHAR, max_size=200),
                 st.builds(lambda a, b: a + b, st.sampled_from(NASTY), st.text(ANY_CHAR,
                                                                              max_size=40)))
TEXTS = st.lists(TEXT, max_size=6)
BOUNDED = settings(max_examples=40, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture,
                                          HealthCheck.too_slow])


def storable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def attempt(session, action):  # noqa: ANN001, ANN201
    """Run `action`; a ServiceError rolls back (as session_scope does) and is returned;
    any other exception fails the test."""
    try:
        return action()
    except ServiceError as error:
        session.rollback()
        return error


@pytest.fixture
def no_reindex(monkeypatch):
    import supportbot.jobs.reindex as reindex

    monkeypatch.setattr(reindex, "schedule_reindex", lambda: None)


def no_index(_query):  # noqa: ANN001, ANN201
    raise IndexUnavailable("no index in this test")


# -- chat ------------------------------------------------------------------------------

@BOUNDED
@given(text=TEXT)
def test_a_chat_message_is_stored_as_typed_or_refused(session, text):
    conversation = chat.start_conversation(session)
    outcome = attempt(session, lambda: chat.send_message(
        session, conversation.session_id, text, searcher=no_index, generator=None))
    expected = text.strip()  # as typed: NUL and lone surrogates are refused, not removed
    if isinstance(outcome, ServiceError):
        assert isinstance(outcome, InvalidInput), outcome
        assert (not expected or len(expected) > chat.MAX_MESSAGE_CHARS
                or not storable(expected)), (text, outcome.message)
        assert set(outcome.fields) == {"text"}
        if expected and not storable(expected):
            assert "message contains a character that cannot be stored" in outcome.message
        assert session.exec(select(Message).where(
            Message.conversation_id == conversation.id)).first() is None
        return
    session.expire_all()
    stored = session.exec(select(Message).where(
        Message.conversation_id == conversation.id,
        Message.sender_type == SenderType.user.value)).one()
    assert stored.text == expected
    assert outcome.escalated and outcome.ticket is not None  # no index: people take it
    ticket = session.get(Ticket, outcome.ticket.id)
    assert ticket.title == " ".join(expected.split())[:120]


@BOUNDED
@given(session_id=TEXT)
def test_any_session_id_is_not_found(session, session_id):
    outcome = attempt(session, lambda: chat.get_conversation(session, session_id))
    assert isinstance(outcome, ServiceError)


@BOUNDED
@given(comment=TEXT, rating=st.one_of(st.integers(-3, 3), st.just(10**9)))
def test_feedback_comments(session, comment, rating):
    conversation = chat.start_conversation(session)
    answer = Message(conversation_id=conversation.id, sender_type=SenderType.bot.value,
                     is_bot=True, text="Restart it.", meta={"decision": "answer"})
    session.add(answer)
    session.commit()
    outcome = attempt(session, lambda: chat.give_feedback(
        session, conversation.session_id, answer.id, rating, comment=comment))
    if isinstance(outcome, ServiceError):
        assert rating not in (1, -1) or not storable(comment)


# -- knowledge base --------------------------------------------------------------------

def draft(title, problem, solution, tags, phrasings, locale, status):  # noqa: ANN001, ANN201
    return knowledge.ArticleDraft(title=title, problem=problem, solution=solution, tags=tags,
                                  locale=locale, phrasings=phrasings, status=status)


DRAFTS = st.builds(draft, TEXT, TEXT, TEXT, TEXTS, TEXTS,
                   st.one_of(st.sampled_from(["en", "es"]), TEXT),
                   st.one_of(st.sampled_from(["draft", "published"]), TEXT))


@BOUNDED
@given(first=DRAFTS, second=DRAFTS)
def test_kb_articles_are_saved_as_validated_or_refused(session, no_reindex, first, second):
    created = attempt(session, lambda: knowledge.create_entry(session, SYSTEM, first))
    if isinstance(created, ServiceError):
        assert isinstance(created, InvalidInput) and created.fields, created
        return
    session.commit()
    entry_id = created.id
    expected = knowledge.validate(first)
    session.expire_all()
    stored = session.get(KnowledgeEntry, entry_id)
    assert {name: getattr(stored, name) for name in expected} == expected
    updated = attempt(session, lambda: knowledge.update_entry(session, SYSTEM, entry_id, second,
                                                              expected_version=1))
    session.commit()
    session.expire_all()
    stored = session.get(KnowledgeEntry, entry_id)
    if isinstance(updated, ServiceError):
        assert isinstance(updated, InvalidInput) and stored.version == 1
    else:
        assert {name: getattr(stored, name) for name in expected} == knowledge.validate(second)
    found = attempt(session, lambda: knowledge.list_entries(session, SYSTEM, text=second.title))
    assert not isinstance(found, ServiceError) or not storable(second.title)


# -- escalation rules ------------------------------------------------------------------

FORMS = st.fixed_dictionaries({
    "threshold": st.one_of(st.sampled_from(["0.7", "0,5", "1", "-1", "nan", "inf", "1e308"]),
                           TEXT),
    "keywords": st.one_of(TEXT, st.lists(st.one_of(TEXT, st.builds(
        lambda p, q: f"{p}: {q}", TEXT, st.sampled_from(["low", "urgent", "meh", ""]))),
        max_size=5).map("\n".join)),
    "person_phrases": st.one_of(TEXT, TEXTS.map("\n".join)),
    "unresolved_turns": st.one_of(st.sampled_from(["3", "0", "21", "2.5", "-0"]), TEXT),
    "routing": st.one_of(TEXT, st.lists(st.builds(lambda k, v: f"{k}: {v}", TEXT, TEXT),
                                        max_size=4).map("\n".join)),
})


@BOUNDED
@given(form=FORMS, message=TEXT)
def test_rules_from_the_admin_form_are_saved_or_refused_and_then_apply(session, form, message):
    data = form_to_rules(form)
    before = escalation.load_rules(session)
    saved = attempt(session, lambda: escalation.save_rules(session, SYSTEM, data))
    session.commit()
    rules = escalation.load_rules(session)
    if isinstance(saved, ServiceError):
        assert isinstance(saved, InvalidInput)
        assert rules == before  # nothing changed
    else:
        assert rules == saved == escalation.validate(data)
    # The rules in force judge any message without failing.
    escalation.evaluate(message, rules=rules, confident=False, confidence=0.1)
    escalation.route([message], (message,), rules)


# -- tickets and accounts --------------------------------------------------------------

@BOUNDED
@given(title=TEXT, description=TEXT, reply=TEXT, search=TEXT)
def test_tickets_opened_answered_and_searched(session, make_user, title, description, reply,
                                              search):
    # Accounts made once: hypothesis runs every example inside the same test.
    user = session.exec(select(User).where(User.username == "ana")).first() or make_user("ana")
    agent = (session.exec(select(User).where(User.username == "agent")).first()
             or make_user("agent", role=Role.agent))
    opened = attempt(session, lambda: requester.open_ticket(session, user, title=title,
                                                            description=description))
    if isinstance(opened, ServiceError):
        assert isinstance(opened, InvalidInput)
        return
    session.commit()
    session.expire_all()
    assert session.get(Ticket, opened.id).title == " ".join(title.split())
    for actor in (user, agent):
        answer = attempt(session, lambda a=actor: requester.reply(session, a, opened.id, reply))
        assert not isinstance(answer, ServiceError) or isinstance(answer, InvalidInput)
    listed = attempt(session, lambda: tickets.list_tickets(session, agent, text=search,
                                                           queue=search, tag=search))
    assert not isinstance(listed, ServiceError) or not storable(search.strip())


@settings(max_examples=15, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(username=TEXT, email=TEXT, password=TEXT)
def test_sign_up_and_log_in_with_anything(session, username, email, password):
    outcome = attempt(session, lambda: accounts.register(session, username=username,
                                                         email=email, password=password))
    login = attempt(session, lambda: accounts.authenticate(session, username, password))
    if not isinstance(outcome, ServiceError):
        session.commit()
        assert login.id == outcome.id
    else:
        assert isinstance(login, ServiceError)
