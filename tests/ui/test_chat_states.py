"""The chat page's state: what its events do before the background turn takes over."""

from supportbot.services import chat
from supportbot.ui.pages.chat import ChatState
from supportbot.ui.state import SessionState
from tests.ui.states import cookie_for, page_state, run


async def test_an_empty_message_is_refused_in_the_pages_language(database):
    state = page_state(ChatState, language="es-ES,es;q=0.9")
    await run((await state.get_state(SessionState)).load_session())
    assert await run(state.send({"message": "   "})) is None
    assert state.error == "Escribe un mensaje primero." and state.messages == []
    assert state.sending is False


async def test_a_message_shows_at_once_and_starts_the_turn(database):
    state = page_state(ChatState)
    assert await run(state.send({"message": "  my VPN drops  "})) is not None
    assert state.sending and [m["text"] for m in state.messages] == ["my VPN drops"]
    assert state.messages[0]["id"] == "pending"
    assert await run(state.send({"message": "again"})) is None  # one turn at a time
    assert await run(state.ask_for_person()) is None
    assert len(state.messages) == 1


async def test_a_stored_conversation_is_shown_only_to_its_owner(session, make_user):
    owner, other = make_user("olga"), make_user("oscar")
    conversation = chat.start_conversation(session, user=owner)
    session.commit()
    mine = page_state(ChatState, cookie=cookie_for(session, owner))
    mine.chat_session = conversation.session_id
    assert await run(mine.load()) is None and mine.chat_session == conversation.session_id
    theirs = page_state(ChatState, cookie=cookie_for(session, other))
    theirs.chat_session = conversation.session_id
    await run(theirs.load())
    assert theirs.chat_session == "" and theirs.messages == []  # starts afresh


def test_the_language_choice_is_kept_only_if_supported(database):
    state = page_state(SessionState, language="es-ES")
    state.load_session()
    assert state.lang == "es"
    state.set_language("fr")
    assert state.lang == "es"
    state.set_language("en")
    assert state.lang == "en" and state.lang_choice == "en"


async def test_not_helpful_takes_an_optional_comment(session, kb_index):
    from sqlmodel import select

    from supportbot.models import Feedback

    conversation = chat.start_conversation(session)
    answer = chat.send_message(session, conversation.session_id, "my vpn keeps failing")
    session.commit()
    state = page_state(ChatState, language="es-ES")
    await run((await state.get_state(SessionState)).load_session())
    state.chat_session = conversation.session_id
    await run(state.load())
    bot_id = str(answer.bot_message.id)
    await run(state.comment({"message_id": bot_id, "comment": "too early"}))  # nothing rated yet
    assert state.error == "Valora primero la respuesta."
    await run(state.rate(bot_id, -1))
    shown = next(m for m in state.messages if m["id"] == bot_id)
    assert shown["rating"] == -1 and shown["commented"] is False  # the box is offered
    await run(state.comment({"message_id": bot_id, "comment": "   "}))
    assert state.error == "Escribe un comentario primero."
    await run(state.comment({"message_id": bot_id,
                                "comment": " the client has no such button "}))
    assert state.error == ""
    assert next(m for m in state.messages if m["id"] == bot_id)["commented"] is True
    session.expire_all()
    feedback = session.exec(select(Feedback)).one()
    assert (feedback.rating, feedback.comment) == (-1, "the client has no such button")
    other = chat.start_conversation(session)  # another visitor cannot comment on it
    session.commit()
    stranger = page_state(ChatState)
    stranger.chat_session = other.session_id
    await run(stranger.comment({"message_id": bot_id, "comment": "spam"}))
    assert stranger.error and session.exec(select(Feedback)).one().comment == (
        "the client has no such button")


async def test_a_message_sent_again_after_an_error_keeps_its_client_id(database):
    """Each message the user sends gets a client id; when its turn fails the message stays
    in the box, and sending it again reuses the id (the service then stores and answers
    it once). Another message, or the same one after it was answered, gets a new id."""
    state = page_state(ChatState)
    event = await run(state.send({"message": "my VPN drops"}))
    first = state._unsent_id
    assert len(first) == 32 and int(first, 16) >= 0  # uuid4 hex
    assert first in str(event)  # the background turn sends it
    state._turn_failed(RuntimeError("connection lost"), "en")
    assert state.error == "send_failed" and not state.sending and state.messages == []
    assert await run(state.send({"message": "  my VPN drops "})) is not None
    assert state._unsent_id == first
    state._turn_failed(RuntimeError("connection lost"), "en")
    await run(state.send({"message": "printer offline"}))
    second = state._unsent_id
    assert second != first
    state._turn_failed(RuntimeError("connection lost"), "en")
    await run(state.ask_for_person())
    assert state._unsent_id not in (first, second)
    state.new_conversation()
    assert state._unsent_id == ""


async def test_a_failed_first_turn_keeps_the_conversation_it_opened(database):
    state = page_state(ChatState)
    await run(state.send({"message": "my VPN drops"}))
    state._turn_failed(RuntimeError("connection lost"), "en", started="the-new-session")
    assert state.chat_session == "the-new-session"



async def test_a_page_whose_state_was_lost_continues_the_conversation_it_shows(
        session, kb_index, make_user):
    """Reflex's state of the page gone (Redis restarted without its data, or the state
    expired) while the tab still shows its conversation: the next send or "talk to a
    person" goes on in that conversation, history shown again, not in a new one. Another
    account's id on the page is not taken (as at load)."""
    owner, other = make_user("rita"), make_user("raul")
    conversation = chat.start_conversation(session, user=owner)
    chat.send_message(session, conversation.session_id, "my vpn keeps failing", user=owner)
    session.commit()
    shown = conversation.session_id

    lost = page_state(ChatState, cookie=cookie_for(session, owner))  # chat_session == ""
    assert await run(lost.send({"message": "it asks for a code", "conversation": shown}))
    assert lost.chat_session == shown
    texts = [m["text"] for m in lost.messages]
    assert texts[0] == "my vpn keeps failing" and texts[-1] == "it asks for a code"
    assert len(texts) == 3  # the question, its answer, the new one (pending)

    lost_again = page_state(ChatState, cookie=cookie_for(session, owner))
    assert await run(lost_again.ask_for_person(shown))
    assert lost_again.chat_session == shown and len(lost_again.messages) == 2

    theirs = page_state(ChatState, cookie=cookie_for(session, other))
    assert await run(theirs.send({"message": "hello", "conversation": shown}))
    assert theirs.chat_session == "" and [m["text"] for m in theirs.messages] == ["hello"]

    kept = page_state(ChatState, cookie=cookie_for(session, owner))
    kept.chat_session = shown
    assert await run(kept.send({"message": "one more", "conversation": "someone-else"}))
    assert kept.chat_session == shown  # a state that has its conversation keeps it
