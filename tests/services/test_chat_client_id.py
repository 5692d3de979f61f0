"""A chat message sent with a client message id (idempotency key) is stored once and
answered once, however often it is sent: replayed when answered, answered now when its
turn failed, refused with 409 while its first send is still being answered."""

import pytest
from sqlmodel import Session, func, select

from supportbot.db import engine_for
from supportbot.errors import ClientIdReused, DuplicateMessage, InvalidInput
from supportbot.models import EscalationReason, Message
from supportbot.services import chat

QUESTION = "my vpn keeps failing"


@pytest.fixture
def conversation(session):
    return chat.start_conversation(session)


def send(session, conversation, text, searcher, **kwargs):
    return chat.send_message(session, conversation.session_id, text, searcher=searcher,
                             **kwargs)


def stored(session, conversation):
    """(sender, text) of every message of the conversation, oldest first."""
    session.expire_all()
    return [(m.sender_type, m.text) for m in chat.messages_of(session, conversation)]


def broken(text):
    raise RuntimeError("the database went away")  # after the user's message was committed


def test_an_answered_id_sent_again_replays_its_reply_and_stores_nothing(
        session, conversation, searcher):
    first = send(session, conversation, QUESTION, searcher, client_id="c1")
    assert not first.replayed and first.citations and first.user_message.client_id == "c1"
    before = stored(session, conversation)
    again = send(session, conversation, QUESTION, searcher, client_id="c1")
    assert again.replayed
    assert again.user_message.id == first.user_message.id
    assert again.bot_message.id == first.bot_message.id
    assert again.citations == first.citations and not again.escalated
    assert again.language == "en" and "retries" not in again.user_message.meta
    assert stored(session, conversation) == before == [
        ("user", QUESTION), ("bot", first.bot_message.text)]


def test_an_escalated_turn_is_replayed_with_its_ticket(session, conversation, searcher):
    first = send(session, conversation, "URGENT: the mail server is not working", searcher,
                 client_id="urgent-1")
    assert first.escalation.reason == EscalationReason.keyword and first.ticket
    again = send(session, conversation, "URGENT: the mail server is not working", searcher,
                 client_id="urgent-1")
    assert again.replayed and again.bot_message.id == first.bot_message.id
    assert again.ticket.id == first.ticket.id
    assert again.escalation.reason == EscalationReason.keyword and again.citations == []
    # While people own the conversation a message waits for them: replayed as silent.
    waiting = send(session, conversation, "hello?", searcher, client_id="w")
    assert waiting.bot_message is None
    waiting_again = send(session, conversation, "hello?", searcher, client_id="w")
    assert waiting_again.replayed and waiting_again.bot_message is None
    assert waiting_again.user_message.id == waiting.user_message.id
    assert waiting_again.ticket.id == first.ticket.id
    assert [text for sender, text in stored(session, conversation)
            if sender == "user"] == ["URGENT: the mail server is not working", "hello?"]


def test_the_person_action_with_an_id_is_replayed(session, conversation, searcher):
    first = send(session, conversation, "", searcher, request_human=True, client_id="p")
    again = send(session, conversation, "", searcher, request_human=True, client_id="p")
    assert again.replayed and again.ticket.id == first.ticket.id
    assert again.escalation.reason == EscalationReason.user_request
    assert len(stored(session, conversation)) == 2


def test_a_failed_turn_sent_again_with_its_id_is_answered_once_after_the_retry_window(
        session, conversation, searcher, monkeypatch):
    """The heuristic would not recognise this retry (it comes after its window); the id
    does. Sent once more, it is replayed: one stored message, one answer."""
    monkeypatch.setattr(chat, "RETRY_WINDOW_SECONDS", -1)
    with pytest.raises(RuntimeError):
        send(session, conversation, QUESTION, broken, client_id="f1")
    session.rollback()
    assert stored(session, conversation) == [("user", QUESTION)]
    retried = send(session, conversation, QUESTION, searcher, client_id="f1")
    assert not retried.replayed and retried.citations
    assert retried.user_message.meta["retries"] == 1
    again = send(session, conversation, QUESTION, searcher, client_id="f1")
    assert again.replayed and again.bot_message.id == retried.bot_message.id
    assert stored(session, conversation) == [("user", QUESTION),
                                             ("bot", retried.bot_message.text)]


def test_without_an_id_the_same_late_retry_is_a_second_message(session, conversation,
                                                                searcher, monkeypatch):
    """The control for the test above: outside the heuristic's window, a client without
    ids gets its message stored twice."""
    monkeypatch.setattr(chat, "RETRY_WINDOW_SECONDS", -1)
    with pytest.raises(RuntimeError):
        send(session, conversation, QUESTION, broken)
    session.rollback()
    send(session, conversation, QUESTION, searcher)
    assert [s for s, _ in stored(session, conversation)] == ["user", "user", "bot"]


def test_a_new_id_is_a_new_message_even_with_the_same_text(session, conversation, searcher):
    with pytest.raises(RuntimeError):
        send(session, conversation, QUESTION, broken, client_id="a")
    session.rollback()
    send(session, conversation, QUESTION, searcher, client_id="b")  # the heuristic: not used
    assert [s for s, _ in stored(session, conversation)] == ["user", "user", "bot"]


def test_an_id_stored_by_a_concurrent_send_gives_409_and_no_second_message(
        session, conversation, searcher, monkeypatch, database):
    """Two sends of one id at once (a double click): the second looked before the first
    stored its message, so its own insert hits the unique index. It stores nothing and
    runs no turn: 409 while the first's answer is not there, the answer once it is."""
    with Session(engine_for(database)) as other:  # the first send, now mid-turn
        other.add(Message(conversation_id=conversation.id, sender_type="user", text=QUESTION,
                          client_id="dbl"))
        other.commit()
    looked = []

    def looked_before_the_first_stored(session_, conversation_, client_id):
        looked.append(client_id)
        if len(looked) == 1:
            return None
        return original(session_, conversation_, client_id)

    original = chat._by_client_id
    monkeypatch.setattr(chat, "_by_client_id", looked_before_the_first_stored)
    with pytest.raises(DuplicateMessage) as refused:
        send(session, conversation, QUESTION, searcher, client_id="dbl")
    assert refused.value.status == 409 and refused.value.code == "duplicate_message"
    assert "already being answered" in refused.value.message
    assert looked == ["dbl", "dbl"]
    assert stored(session, conversation) == [("user", QUESTION)]
    # The same race after the first send was answered: its answer, still nothing stored.
    first = send(session, conversation, QUESTION, searcher, client_id="dbl")  # its retry
    looked.clear()
    again = send(session, conversation, QUESTION, searcher, client_id="dbl")
    assert again.replayed and again.bot_message.id == first.bot_message.id
    assert looked == ["dbl", "dbl"]
    assert [s for s, _ in stored(session, conversation)] == ["user", "bot"]


def test_an_id_being_answered_elsewhere_gives_409_not_a_second_turn(
        session, conversation, searcher, database):
    """The first send's turn holds its message's row lock (PostgreSQL): the same id sent
    meanwhile runs no second turn. Once the turn is over (answered or failed), the same
    send gets the answer, or runs the turn."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL (SQLite has none; docs/reliability.md)")
    with pytest.raises(RuntimeError):
        send(session, conversation, QUESTION, broken, client_id="busy")
    session.rollback()
    message = session.exec(select(Message).where(Message.client_id == "busy")).one()
    with Session(engine_for(database)) as turn:  # the first send's turn, still running
        turn.exec(select(Message).where(Message.id == message.id).with_for_update()).one()
        with pytest.raises(DuplicateMessage):
            send(session, conversation, QUESTION, searcher, client_id="busy")
        session.rollback()
    retried = send(session, conversation, QUESTION, searcher, client_id="busy")  # lock gone
    assert retried.citations and retried.user_message.id == message.id
    assert [s for s, _ in stored(session, conversation)] == ["user", "bot"]


@pytest.mark.parametrize("client_id", ["", "x" * 65, "has space", "ünïcode", "a/b", "a\x00",
                                       123])
def test_an_invalid_id_is_refused_and_nothing_is_stored(session, conversation, searcher,
                                                        client_id):
    with pytest.raises(InvalidInput) as refused:
        send(session, conversation, QUESTION, searcher, client_id=client_id)
    assert refused.value.status == 422 and "client_id" in refused.value.fields
    assert stored(session, conversation) == []


def test_ids_of_every_allowed_character_and_length_are_taken(session, conversation, searcher):
    for client_id in ("A-z.0_9:x", "x" * 64, "0f" * 16):
        assert send(session, conversation, QUESTION, searcher, client_id=client_id)


def test_a_used_id_with_another_text_is_refused(session, conversation, searcher):
    send(session, conversation, QUESTION, searcher, client_id="same")
    with pytest.raises(ClientIdReused) as refused:
        send(session, conversation, "I forgot my password", searcher, client_id="same")
    assert refused.value.status == 409 and "client_id" in refused.value.fields
    with pytest.raises(ClientIdReused):
        send(session, conversation, "", searcher, request_human=True, client_id="same")
    assert [t for s, t in stored(session, conversation) if s == "user"] == [QUESTION]


def test_an_unanswered_id_with_later_messages_is_not_answered_late(session, conversation,
                                                                   searcher):
    with pytest.raises(RuntimeError):
        send(session, conversation, QUESTION, broken, client_id="old")
    session.rollback()
    send(session, conversation, "I forgot my password", searcher, client_id="new")
    with pytest.raises(ClientIdReused) as refused:
        send(session, conversation, QUESTION, searcher, client_id="old")
    assert "new client message id" in refused.value.message
    assert [s for s, _ in stored(session, conversation)] == ["user", "user", "bot"]


def test_ids_are_per_conversation(session, searcher):
    one, two = chat.start_conversation(session), chat.start_conversation(session)
    a = send(session, one, QUESTION, searcher, client_id="same")
    b = send(session, two, QUESTION, searcher, client_id="same")
    assert not b.replayed and a.user_message.id != b.user_message.id
