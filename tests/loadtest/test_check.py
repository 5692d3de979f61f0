"""The database check of a load run: it passes on a faithful record and fails on every
kind of loss or duplication, both on plain rows and on the app's tables."""

import pytest
from sqlmodel import select

from supportbot.ai.store import IndexUnavailable
from supportbot.db import engine_for
from supportbot.loadtest.check import StoredMessage, StoredTicket, check_storage, compare
from supportbot.loadtest.tally import EscalationSeen, SentMessage
from supportbot.models import Message, SenderType, Ticket
from supportbot.services import chat


def sent(*rows):
    """SentMessage by marker from (marker, session, sender, acknowledged) rows."""
    return {m: SentMessage(m, s, "ws", sender, ack) for m, s, sender, ack in rows}


RUN = sent(("1", "s1", "user", True), ("2", "s1", "agent", True), ("3", "s2", "user", True))
STORED = [StoredMessage("s1", "user", "hello (#1)"), StoredMessage("s1", "agent", "hi (#2)"),
          StoredMessage("s2", "user", "vpn (#3)")]
ESCALATED = [EscalationSeen("s1", "t1", "SB-AAAAAA", "user_request", "ws")]
TICKETS = [StoredTicket("t1", "s1")]


def verdict(run=RUN, stored=STORED, escalations=ESCALATED, tickets=TICKETS,
            sessions=("s1", "s2")):
    return compare(run, ["s1", "s2"], stored, escalations, tickets, sessions)


def test_a_faithful_record_passes():
    check = verdict()
    assert check.ok, check.as_dict()
    assert check.messages_checked == 3 and check.escalations_checked == 1


def test_a_message_stored_twice_is_a_duplicate():
    check = verdict(stored=[*STORED, StoredMessage("s2", "user", "vpn (#3)")])
    assert not check.ok and check.duplicated == {"3": 2}


def test_an_acknowledged_message_not_stored_is_lost():
    check = verdict(stored=STORED[:2])
    assert not check.ok and check.lost == ["3"]


def test_a_refused_message_may_be_missing_but_is_counted():
    run = {**RUN, "4": SentMessage("4", "s2", "rest", "user", acknowledged=False),
           "5": SentMessage("5", "s2", "rest", "user", acknowledged=False)}
    check = verdict(run=run, stored=[*STORED, StoredMessage("s2", "user", "x (#5)")])
    assert check.ok and check.refused_not_stored == 1 and check.refused_but_stored == 1


@pytest.mark.parametrize("row", [
    StoredMessage("s2", "user", "no marker at all"),
    StoredMessage("s2", "user", "a marker never sent (#99)"),
    StoredMessage("s2", "user", "hello (#1)"),  # in another session
    StoredMessage("s1", "user", "hi (#2)"),  # sent by an agent, stored as the user's
])
def test_a_message_nobody_sent_so_is_unexpected(row):
    check = verdict(stored=[*STORED, row])
    assert not check.ok and len(check.unexpected) == 1


def test_an_escalation_without_its_ticket_fails():
    assert verdict(tickets=[]).tickets_missing == ["SB-AAAAAA"]
    other_session = verdict(tickets=[StoredTicket("t1", "s2")])
    assert not other_session.ok and other_session.tickets_missing == ["SB-AAAAAA"]


def test_a_ticket_the_run_was_never_told_of_fails():
    check = verdict(tickets=[*TICKETS, StoredTicket("t2", "s2")])
    assert not check.ok and check.tickets_unreported == ["t2"]


def test_a_missing_conversation_fails():
    check = verdict(sessions=("s1",))
    assert not check.ok and check.sessions_missing == ["s2"]


def no_index(text):
    raise IndexUnavailable("no index in this test")


def test_check_storage_reads_the_app_tables(session, database):
    """On the real tables: a faithful run passes, then a duplicated row and a deleted row
    each make it fail; other conversations and internal notes are not looked at."""
    first = chat.start_conversation(session)
    second = chat.start_conversation(session)
    outsider = chat.start_conversation(session)
    reply = chat.send_message(session, first.session_id, "hello (#1)", request_human=True,
                              searcher=no_index, generator=None)
    session.add(Message(conversation_id=second.id, sender_type=SenderType.user.value,
                        text="vpn (#2)"))
    session.add(Message(conversation_id=first.id, ticket_id=reply.ticket.id,
                        sender_type=SenderType.agent.value, text="hi (#3)"))
    session.add(Message(conversation_id=first.id, ticket_id=reply.ticket.id,
                        sender_type=SenderType.agent.value, text="note", is_internal=True))
    session.add(Message(conversation_id=outsider.id, sender_type=SenderType.user.value,
                        text="someone else (#1)"))
    session.commit()
    run = {"1": SentMessage("1", first.session_id, "ws", "user", True),
           "2": SentMessage("2", second.session_id, "rest", "user", True),
           "3": SentMessage("3", first.session_id, "ws", "agent", True)}
    escalations = [EscalationSeen(first.session_id, str(reply.ticket.id),
                                  reply.ticket.reference, "user_request", "ws")]
    engine = engine_for(database)
    sessions = [first.session_id, second.session_id]
    good = check_storage(engine, run, sessions, escalations)
    assert good.ok, good.as_dict()
    assert good.messages_checked == 3 and good.escalations_checked == 1

    session.add(Message(conversation_id=second.id, sender_type=SenderType.user.value,
                        text="vpn (#2)"))
    session.commit()
    assert check_storage(engine, run, sessions, escalations).duplicated == {"2": 2}

    for row in session.exec(select(Message).where(Message.text == "vpn (#2)")):
        session.delete(row)
    session.commit()
    assert check_storage(engine, run, sessions, escalations).lost == ["2"]

    session.delete(session.get(Ticket, reply.ticket.id))
    session.commit()
    missing = check_storage(engine, run, sessions, escalations)
    assert missing.tickets_missing == [reply.ticket.reference]
