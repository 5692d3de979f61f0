import pytest
from sqlmodel import select

from supportbot.ai.store import IndexUnavailable
from supportbot.errors import InvalidInput, NotFound, PermissionDenied
from supportbot.models import (
    AuditLog,
    ConversationStatus,
    EscalationReason,
    EntryStatus,
    Message,
    Role,
    Ticket,
)
from supportbot.services import chat, knowledge, tickets
from supportbot.services.permissions import SYSTEM


@pytest.fixture
def conversation(session):
    return chat.start_conversation(session)


def send(session, conversation, text, searcher, **kwargs):
    return chat.send_message(session, conversation.session_id, text, searcher=searcher,
                             **kwargs)


def test_a_known_question_gets_a_cited_answer_in_english(session, conversation, searcher):
    reply = send(session, conversation, "my vpn keeps failing", searcher)
    assert not reply.escalated and reply.language == "en"
    bot = reply.bot_message
    assert bot.citations == reply.citations and len(bot.citations) == 1
    citation = bot.citations[0]
    entry = knowledge.get_entry(session, citation["id"])
    assert citation == {"id": str(entry.id), "title": "VPN won't connect", "version": 1}
    assert bot.text.startswith("This should help: **VPN won't connect**")
    assert "Restart the VPN client" in bot.text
    assert bot.meta["decision"] == "answer" and bot.meta["rule"] is None
    assert bot.meta["hits"][0]["id"] == citation["id"]
    assert bot.meta["timings_ms"]["retrieval"] > 0 and bot.confidence >= 0.66


def test_spanish_questions_get_spanish_answers(session, conversation, searcher):
    reply = send(session, conversation, "la impresora de la oficina no imprime nada", searcher)
    assert reply.language == "es" and not reply.escalated
    assert reply.bot_message.text.startswith("Esto debería ayudarte")


def test_the_reply_language_can_be_forced(session, conversation, searcher):
    reply = send(session, conversation, "my vpn keeps failing", searcher, language="es")
    assert reply.bot_message.text.startswith("Esto debería ayudarte")
    assert "(El artículo está escrito en inglés.)" in reply.bot_message.text


def test_every_bot_answer_cites_its_source(session, conversation, searcher):
    for text in ("forgot my password", "printer offline", "no me conecto al wifi"):
        reply = send(session, conversation, text, searcher)
        if not reply.escalated:
            assert reply.bot_message.citations
    answers = session.exec(select(Message).where(Message.is_bot)).all()
    assert all(m.citations for m in answers if m.meta.get("decision") == "answer")


def test_out_of_scope_escalates_with_low_confidence(session, conversation, searcher):
    reply = send(session, conversation, "what is the capital of peru", searcher)
    assert reply.escalation.reason == EscalationReason.low_confidence
    ticket = reply.ticket
    assert ticket.escalation_reason == "low_confidence" and ticket.reference.startswith("SB-")
    assert ticket.reference in reply.bot_message.text
    assert reply.conversation.status == ConversationStatus.human.value


def test_asking_for_a_person_opens_a_ticket_with_a_handoff_note(session, conversation,
                                                                 searcher):
    send(session, conversation, "la impresora no imprime", searcher)
    reply = send(session, conversation, "quiero hablar con una persona", searcher)
    assert reply.escalation.reason == EscalationReason.user_request and reply.language == "es"
    assert "Tu número de ticket es" in reply.bot_message.text
    note = reply.ticket.handoff_note
    assert "User wants: quiero hablar con una persona" in note
    assert "Reason: user_request" in note and "Language: es" in note
    assert "la impresora no imprime" in reply.ticket.description  # the transcript
    assert "es" in reply.ticket.tags


def test_a_keyword_escalates_even_when_the_bot_is_sure(session, conversation, searcher):
    # (confidence 0.98; "URGENTE: la impresora no funciona" alone sat on the threshold,
    # 0.661 with float32 vectors, 0.639 with int8 ones)
    reply = send(session, conversation, "URGENTE: la impresora tiene un atasco de papel y no "
                 "funciona", searcher)
    assert reply.result.confidence >= 0.66  # the bot had an answer...
    assert reply.escalation.reason == EscalationReason.keyword  # ...but a person is needed
    ticket = reply.ticket
    assert ticket.priority == "urgent" and {"urgente", "no funciona"} <= set(ticket.tags)
    assert ticket.queue == "hardware"  # routed by the article's tag "printer"
    assert "matched: urgente, no funciona" in ticket.handoff_note


def test_the_explicit_action_needs_no_text(session, conversation, searcher):
    reply = send(session, conversation, "", searcher, request_human=True)
    assert reply.escalation.reason == EscalationReason.user_request


def test_the_bot_is_silent_after_handoff_and_there_is_one_ticket(session, conversation,
                                                                   searcher):
    first = send(session, conversation, "talk to a person", searcher)
    again = send(session, conversation, "my vpn keeps failing", searcher)
    assert again.bot_message is None and again.ticket.id == first.ticket.id
    assert again.user_message.ticket_id == first.ticket.id
    third = send(session, conversation, "", searcher, request_human=True)
    assert third.bot_message is None
    assert len(session.exec(select(Ticket)).all()) == 1


def test_agent_replies_and_notes_then_hand_back(session, conversation, searcher, make_user):
    agent = make_user("agent1", role=Role.agent)
    ticket = send(session, conversation, "talk to a person", searcher).ticket
    reply = tickets.reply(session, agent, ticket.id, "Hi, I'm Ana from IT.")
    note = tickets.reply(session, agent, ticket.id, "Probably the token.", internal=True)
    session.commit()
    public = chat.messages_of(session, conversation)
    assert reply in public and note not in public
    assert ticket.status == "in_progress" and ticket.assignee_id == agent.id
    tickets.hand_back(session, agent, ticket.id)
    session.commit()
    back = send(session, conversation, "my vpn keeps failing", searcher)
    assert back.bot_message is not None and not back.escalated


def test_closing_the_ticket_gives_the_conversation_back_to_the_bot(session, conversation,
                                                                    searcher, make_user):
    agent = make_user("agent1", role=Role.agent)
    ticket = send(session, conversation, "talk to a person", searcher).ticket
    tickets.close(session, agent, ticket.id)
    session.commit()
    assert ticket.closed_at is not None
    assert send(session, conversation, "printer offline", searcher).bot_message is not None
    new = send(session, conversation, "talk to a person", searcher).ticket
    assert new.id != ticket.id  # a closed ticket is not reopened: a new one


def test_users_cannot_work_tickets(session, conversation, searcher, make_user):
    user = make_user("someone")
    ticket = send(session, conversation, "talk to a person", searcher).ticket
    with pytest.raises(PermissionDenied):
        tickets.reply(session, user, ticket.id, "I am an agent, honest")


def test_asking_the_same_thing_again_escalates(session, conversation, searcher):
    first = send(session, conversation, "my vpn keeps failing", searcher)
    assert not first.escalated
    second = send(session, conversation, "vpn still not connecting", searcher)
    assert not second.escalated and second.bot_message.meta["unresolved_turns"] == 1
    third = send(session, conversation, "the vpn keeps failing!!", searcher)
    assert third.escalation.reason == EscalationReason.unresolved_turns
    assert "Reason: unresolved_turns (2 answers did not resolve it)" in third.ticket.handoff_note


def test_unhelpful_answers_escalate_with_negative_feedback(session, conversation, searcher):
    answer = send(session, conversation, "my vpn keeps failing", searcher).bot_message
    assert chat.give_feedback(session, conversation.session_id, answer.id, -1) is None
    other = send(session, conversation, "printer offline", searcher).bot_message
    outcome = chat.give_feedback(session, conversation.session_id, other.id, -1,
                                 comment="did not help")
    assert outcome.escalation.reason == EscalationReason.negative_feedback
    assert outcome.ticket.escalation_reason == "negative_feedback"


def test_feedback_is_validated(session, conversation, searcher):
    answer = send(session, conversation, "my vpn keeps failing", searcher).bot_message
    with pytest.raises(InvalidInput):
        chat.give_feedback(session, conversation.session_id, answer.id, 5)
    with pytest.raises(NotFound):
        chat.give_feedback(session, conversation.session_id, "nope", 1)
    other = chat.start_conversation(session)
    with pytest.raises(NotFound):  # another conversation's message
        chat.give_feedback(session, other.session_id, answer.id, 1)


def test_an_agent_can_take_over_manually(session, conversation, searcher, make_user):
    agent = make_user("agent1", role=Role.agent)
    send(session, conversation, "my vpn keeps failing", searcher)
    reply = chat.escalate_manually(session, agent, conversation.id, note="VIP")
    assert reply.ticket.escalation_reason == "manual"
    actions = session.exec(select(AuditLog.action)).all()
    assert "ticket.escalate" in actions


def test_the_user_message_is_kept_when_search_fails(session, conversation):
    def broken(text):
        raise RuntimeError("the index exploded")

    with pytest.raises(RuntimeError):
        chat.send_message(session, conversation.session_id, "keep me", searcher=broken)
    session.rollback()
    stored = chat.messages_of(session, conversation)
    assert [m.text for m in stored] == ["keep me"]


def test_no_index_yet_hands_over(session, conversation):
    def missing(text):
        raise IndexUnavailable("no index yet")

    reply = chat.send_message(session, conversation.session_id, "my vpn keeps failing",
                              searcher=missing)
    assert reply.escalation.reason == EscalationReason.low_confidence
    assert reply.bot_message.meta["index"] == "no index yet"


def test_an_unpublished_article_is_not_cited(session, conversation, searcher):
    vpn = next(e for e in knowledge.list_published(session) if e.title == "VPN won't connect")
    knowledge.set_status(session, SYSTEM, vpn.id, EntryStatus.draft)
    session.commit()
    reply = send(session, conversation, "my vpn keeps failing", searcher)  # stale index
    assert reply.escalated and reply.bot_message.citations == []


def test_sessions_are_capabilities(session, make_user, searcher):
    owner = make_user("owner")
    mine = chat.start_conversation(session, user=owner)
    assert len(mine.session_id) >= 40
    with pytest.raises(NotFound):
        chat.send_message(session, mine.session_id, "hello", searcher=searcher)
    with pytest.raises(NotFound):
        chat.get_conversation(session, mine.session_id, user=make_user("other"))
    with pytest.raises(NotFound):
        chat.get_conversation(session, "guess")
    assert chat.get_conversation(session, mine.session_id, user=owner).id == mine.id


def test_bad_messages_are_refused_and_nothing_is_stored(session, conversation, searcher):
    for text in ("", "   ", "x" * 4001):
        with pytest.raises(InvalidInput):
            send(session, conversation, text, searcher)
    assert chat.messages_of(session, conversation) == []


class ScriptedGenerator:
    """Stands in for the model: yields a fixed answer piece by piece."""

    name = "scripted"

    def __init__(self, answer=None, error=None):
        self.answer, self.error, self.prompts = answer, error, []

    def stream(self, question, articles, language, **bounds):
        self.prompts.append((question, articles, language, bounds))
        if self.error:
            raise self.error
        for word in self.answer.split(" "):
            yield word + " "


@pytest.fixture
def unsure(settings_env):
    """Every message is below the threshold but worth a generated try."""
    settings_env(GENERATOR_MIN_CONFIDENCE="0", CONFIDENCE_THRESHOLD="0.99999")


def test_a_grounded_generated_answer_is_shown_with_its_sources(session, conversation,
                                                               searcher, unsure):
    model = ScriptedGenerator("Restart the VPN client and sign in again with your "
                              "authenticator code.")
    tokens = []
    reply = send(session, conversation, "vpn problems, email me at ana@example.com", searcher,
                 generator=model, on_token=tokens.append)
    assert reply.generated and not reply.escalated
    assert len(tokens) > 5 and "".join(tokens).strip() == model.answer  # piece by piece
    bot = reply.bot_message
    assert bot.text.startswith(model.answer) and bot.meta["generated"] is True
    assert bot.citations and bot.citations[0]["title"] == "VPN won't connect"
    assert bot.meta["generation"]["grounding"]["grounded"] is True
    assert bot.meta["timings_ms"]["generation"] is not None
    question = model.prompts[0][0]
    assert "ana@example.com" not in question and "[email]" in question  # PII masked


def test_an_invented_generated_answer_is_not_shown(session, conversation, searcher, unsure):
    model = ScriptedGenerator("Ask Bob in accounting to reinstall Windows 11 tonight.")
    reply = send(session, conversation, "vpn problems", searcher, generator=model)
    assert reply.escalation.reason == EscalationReason.low_confidence and not reply.generated
    assert model.answer not in reply.bot_message.text
    generation = reply.bot_message.meta["generation"]
    assert generation["grounding"]["grounded"] is False and generation["draft"] == model.answer


def test_a_failing_generator_escalates_instead_of_hanging(session, conversation, searcher,
                                                          unsure):
    model = ScriptedGenerator(error=TimeoutError("generation took too long"))
    reply = send(session, conversation, "vpn problems", searcher, generator=model)
    assert reply.escalation.reason == EscalationReason.low_confidence
    assert "TimeoutError" in reply.bot_message.meta["generator_error"]


def test_no_generation_far_below_the_threshold_or_for_keywords(session, conversation,
                                                               searcher):
    model = ScriptedGenerator("Restart the VPN client.")
    send(session, conversation, "what is the capital of peru", searcher, generator=model)
    other = chat.start_conversation(session)
    send(session, other, "URGENT: vpn not working", searcher, generator=model)
    assert model.prompts == []
