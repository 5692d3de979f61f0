from datetime import date, timedelta

import pytest

from supportbot.errors import PermissionDenied
from supportbot.models import Role, utcnow
from supportbot.services import chat, metrics, tickets
from supportbot.services.permissions import SYSTEM


def test_a_period_summary_counts_what_happened(session, searcher, make_user):
    agent = make_user("agent1", role=Role.agent)
    answered = chat.start_conversation(session)
    reply = chat.send_message(session, answered.session_id, "my vpn keeps failing",
                              searcher=searcher)
    chat.give_feedback(session, answered.session_id, reply.bot_message.id, 1)
    urgent = chat.start_conversation(session)
    ticket = chat.send_message(session, urgent.session_id, "URGENT: printer not working",
                               searcher=searcher).ticket
    person = chat.start_conversation(session)
    chat.send_message(session, person.session_id, "talk to a person", searcher=searcher)
    chat.send_message(session, person.session_id, "", request_human=True, searcher=searcher)
    tickets.close(session, agent, ticket.id)
    session.commit()

    today = utcnow().date()
    figures = metrics.summary(session, SYSTEM, today - timedelta(days=6), today)
    assert len(figures.conversations_per_day) == 7
    assert figures.conversations_per_day[-1] == (today.isoformat(), 3)
    assert figures.conversations == 3 and figures.escalation_rate == round(2 / 3, 4)
    assert figures.escalations_by_reason == {"keyword": 1, "user_request": 1}
    assert figures.positive_feedback_share == 1.0 and figures.ratings == 1
    assert figures.bot_answers == 1 and figures.latency_ms_p50 > 0
    assert (figures.open_tickets, figures.tickets_opened, figures.tickets_closed) == (1, 2, 1)
    empty = metrics.summary(session, SYSTEM, date(2020, 1, 1), date(2020, 1, 2))
    assert empty.conversations == 0 and empty.escalation_rate is None


def test_only_admins_read_metrics(session, make_user):
    with pytest.raises(PermissionDenied):
        metrics.summary(session, make_user("agent1", role=Role.agent), date.today(),
                        date.today())
