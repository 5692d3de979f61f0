from datetime import date, timedelta

from sqlmodel import select

from supportbot.models import (
    Conversation,
    Feedback,
    Message,
    Role,
    Ticket,
    TicketStatus,
)
from supportbot.models.base import utcnow
from supportbot.services import metrics
from supportbot.services.permissions import SYSTEM
from supportbot.services.retention import MARK, apply_retention

PERSONAL = "I am ana@example.org, call me on +34 612 345 678"


def _conversation(session, user, *, days_ago, ticket_status=None, reference="SB-AAAAAA"):
    when = utcnow() - timedelta(days=days_ago)
    conversation = Conversation(session_id=f"s-{reference}-{days_ago}", user_id=user.id,
                                created_at=when, updated_at=when)
    session.add(conversation)
    session.flush()
    question = Message(conversation_id=conversation.id, sender_type="user", sender_id=user.id,
                       text=PERSONAL, attachments=[{"name": "photo.png"}], created_at=when)
    answer = Message(conversation_id=conversation.id, sender_type="bot", is_bot=True,
                     text="This should help", created_at=when,
                     meta={"decision": "answer", "query": PERSONAL,
                           "timings_ms": {"retrieval": 12.0},
                           "generation": {"draft": "Write to ana@example.org", "model": "m"}})
    session.add_all([question, answer])
    session.flush()
    session.add(Feedback(conversation_id=conversation.id, message_id=answer.id,
                         user_id=user.id, rating=-1, comment="ana@example.org here",
                         created_at=when))
    if ticket_status:
        session.add(Ticket(reference=reference, title=PERSONAL, description=PERSONAL,
                           handoff_note=PERSONAL, creator_id=user.id,
                           conversation_id=conversation.id, status=ticket_status,
                           created_at=when, updated_at=when,
                           closed_at=when if ticket_status == TicketStatus.closed else None))
    session.commit()
    return conversation


def _figures(session):
    start = date.today() - timedelta(days=500)
    figures = metrics.summary(session, SYSTEM, start, date.today())
    return (figures.conversations, figures.conversations_per_day, figures.ratings,
            figures.positive_feedback_share, figures.bot_answers, figures.latency_ms_p50,
            figures.tickets_opened, figures.tickets_closed, figures.open_tickets)


def test_old_conversations_are_anonymized_and_the_metrics_stay(session, make_user):
    ana = make_user("ana", role=Role.user)
    old = _conversation(session, ana, days_ago=400, ticket_status=TicketStatus.closed)
    waiting = _conversation(session, ana, days_ago=400, ticket_status=TicketStatus.open,
                            reference="SB-BBBBBB")
    recent = _conversation(session, ana, days_ago=10)
    before = _figures(session)

    result = apply_retention(session, 365)

    assert (result.conversations, result.tickets, result.skipped_open_tickets) == (1, 1, 1)
    session.expire_all()
    assert _figures(session) == before
    assert old.user_id is None and MARK in old.meta
    question, answer = sorted(session.exec(select(Message).where(
        Message.conversation_id == old.id)).all(), key=lambda m: m.sender_type, reverse=True)
    assert question.text == "I am [email], call me on [phone]"
    assert question.sender_id is None and question.attachments == []
    assert answer.meta["query"] == question.text
    assert answer.meta["generation"] == {"draft": "Write to [email]", "model": "m"}
    assert answer.meta["timings_ms"] == {"retrieval": 12.0}
    ticket = session.exec(select(Ticket).where(Ticket.conversation_id == old.id)).one()
    assert (ticket.title, ticket.handoff_note, ticket.creator_id) == (question.text,) * 2 + (None,)
    feedback = session.exec(select(Feedback).where(Feedback.conversation_id == old.id)).one()
    assert (feedback.comment, feedback.user_id, feedback.rating) == ("[email] here", None, -1)
    for kept in (waiting, recent):
        assert kept.user_id == ana.id and MARK not in kept.meta
        texts = session.exec(select(Message.text).where(
            Message.conversation_id == kept.id)).all()
        assert PERSONAL in texts

    again = apply_retention(session, 365)
    assert again.conversations == 0 and again.skipped_open_tickets == 1


def test_zero_days_keeps_everything(session, make_user):
    conversation = _conversation(session, make_user("ana"), days_ago=4000)
    assert apply_retention(session, 0).cutoff is None
    session.refresh(conversation)
    assert conversation.user_id is not None
