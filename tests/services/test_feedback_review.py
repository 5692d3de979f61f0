import pytest

from supportbot.ai.index import build_index
from supportbot.ai.records import read_articles
from supportbot.ai.retriever import search
from supportbot.errors import Conflict, PermissionDenied
from supportbot.models import EntrySource, Role
from supportbot.services import chat, feedback_review, knowledge, tickets
from supportbot.services.permissions import SYSTEM
from tests.ai.conftest import KB_SMALL


@pytest.fixture
def unhelpful(session, embedder, make_user):
    """A Spanish answer marked unhelpful, then an agent who solved it."""
    knowledge.import_articles(session, SYSTEM, read_articles(KB_SMALL))
    session.commit()
    index = build_index(knowledge.published_records(session), embedder)
    conversation = chat.start_conversation(session)
    reply = chat.send_message(session, conversation.session_id,
                              "la impresora de la oficina no imprime nada",
                              searcher=lambda text: search(index, embedder, text))
    chat.give_feedback(session, conversation.session_id, reply.bot_message.id, -1,
                       comment="sigue sin imprimir")
    person = chat.send_message(session, conversation.session_id, "", request_human=True,
                               searcher=lambda text: search(index, embedder, text))
    tickets.reply(session, make_user("agent1", role=Role.agent), person.ticket.id,
                  "Reinstala el controlador desde el portal de empresa.")
    session.commit()
    return reply


def test_admins_see_unhelpful_answers_with_their_conversation(session, unhelpful):
    [item] = feedback_review.pending(session, SYSTEM)
    assert item.question == "la impresora de la oficina no imprime nada"
    assert item.answer == unhelpful.bot_message.text and item.cited
    assert item.feedback.comment == "sigue sin imprimir" and item.language == "es"
    assert item.agent_replies == ["Reinstala el controlador desde el portal de empresa."]


def test_turning_feedback_into_a_draft_article(session, unhelpful):
    [item] = feedback_review.pending(session, SYSTEM)
    entry = feedback_review.to_kb_draft(session, SYSTEM, item.feedback.id)
    session.commit()
    assert entry.status == "draft" and entry.source == EntrySource.feedback.value
    assert entry.locale == "es" and entry.alternative_phrasings == [item.question]
    assert entry.solution == "Reinstala el controlador desde el portal de empresa."
    assert feedback_review.pending(session, SYSTEM) == []
    with pytest.raises(Conflict):
        feedback_review.to_kb_draft(session, SYSTEM, item.feedback.id)


def test_dismissing_and_permissions(session, unhelpful, make_user):
    with pytest.raises(PermissionDenied):
        feedback_review.pending(session, make_user("agent2", role=Role.agent))
    [item] = feedback_review.pending(session, SYSTEM)
    feedback_review.dismiss(session, SYSTEM, item.feedback.id)
    session.commit()
    assert feedback_review.pending(session, SYSTEM) == []
