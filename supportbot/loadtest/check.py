"""After a load run: every message it sent is in the database exactly once, and every
escalation it saw has its ticket.

`compare()` is the rule, on plain rows; `check_storage()` reads the rows of the run's
conversations (and only those) from the app's database.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from supportbot.loadtest.plan import marker_of
from supportbot.loadtest.tally import EscalationSeen, SentMessage
from supportbot.models import Conversation, Message, SenderType, Ticket

CHUNK = 500  # ids per IN (...) query
SHOWN = 20  # markers listed per problem in the report


@dataclass(frozen=True)
class StoredMessage:
    session_id: str
    sender: str
    text: str


@dataclass(frozen=True)
class StoredTicket:
    ticket_id: str
    session_id: str


@dataclass
class StorageCheck:
    messages_checked: int = 0
    escalations_checked: int = 0
    lost: list[str] = field(default_factory=list)  # acknowledged, not stored
    duplicated: dict[str, int] = field(default_factory=dict)  # marker -> times stored
    unexpected: list[str] = field(default_factory=list)  # stored, never sent so
    refused_not_stored: int = 0  # the app refused them (an error) and did not store them
    refused_but_stored: int = 0  # the client saw an error, yet the message is stored once
    sessions_missing: list[str] = field(default_factory=list)
    tickets_missing: list[str] = field(default_factory=list)  # escalation without ticket
    tickets_unreported: list[str] = field(default_factory=list)  # ticket nobody was told of

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.unexpected or self.sessions_missing
                    or self.tickets_missing or self.tickets_unreported)

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok, "messages_checked": self.messages_checked,
            "escalations_checked": self.escalations_checked,
            "lost": len(self.lost), "duplicated": len(self.duplicated),
            "unexpected": len(self.unexpected),
            "refused_not_stored": self.refused_not_stored,
            "refused_but_stored": self.refused_but_stored,
            "sessions_missing": len(self.sessions_missing),
            "tickets_missing": len(self.tickets_missing),
            "tickets_unreported": len(self.tickets_unreported),
            "examples": {
                "lost": self.lost[:SHOWN],
                "duplicated": dict(list(self.duplicated.items())[:SHOWN]),
                "unexpected": self.unexpected[:SHOWN],
                "sessions_missing": [s[:8] + "..." for s in self.sessions_missing[:SHOWN]],
                "tickets_missing": self.tickets_missing[:SHOWN],
                "tickets_unreported": self.tickets_unreported[:SHOWN],
            },
        }


def compare(sent: dict[str, SentMessage], session_ids: Iterable[str],
            stored: list[StoredMessage], escalations: list[EscalationSeen],
            tickets: list[StoredTicket], stored_sessions: Iterable[str]) -> StorageCheck:
    """The verdict on what the run sent and saw against what the database holds.

    `stored` and `tickets` are the user/agent messages and the tickets of the run's
    conversations. A message counts by its marker and must be stored once, in its
    session, from its sender; one the app refused (the client got an error) may be
    missing, and is then only counted."""
    check = StorageCheck(messages_checked=len(stored), escalations_checked=len(escalations))
    times: Counter[str] = Counter()
    for row in stored:
        marker = marker_of(row.text)
        message = sent.get(marker) if marker else None
        if message is None or (message.session_id, message.sender) != (row.session_id,
                                                                       row.sender):
            check.unexpected.append(f"{row.sender} message {marker or row.text[:40]!r}")
            continue
        times[marker] += 1
    for marker, message in sent.items():
        found = times[marker]
        if found > 1:
            check.duplicated[marker] = found
        elif found == 0 and message.acknowledged:
            check.lost.append(marker)
        elif found == 0:
            check.refused_not_stored += 1
        elif not message.acknowledged:
            check.refused_but_stored += 1
    check.sessions_missing = sorted(set(session_ids) - set(stored_sessions))
    by_id = {t.ticket_id: t for t in tickets}
    seen = set()
    for escalation in escalations:
        seen.add(escalation.ticket_id)
        ticket = by_id.get(escalation.ticket_id)
        if ticket is None or ticket.session_id != escalation.session_id:
            check.tickets_missing.append(escalation.reference)
    check.tickets_unreported = sorted(t.ticket_id for t in tickets if t.ticket_id not in seen)
    return check


def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def read_run(engine: Engine, session_ids: Iterable[str]) -> tuple[
        dict[uuid.UUID, str], list[StoredMessage], list[StoredTicket]]:
    """The run's conversations (id -> session id), their user and agent messages (never
    internal notes) and their tickets."""
    conversations: dict[uuid.UUID, str] = {}
    messages: list[StoredMessage] = []
    tickets: list[StoredTicket] = []
    with Session(engine) as session:
        for chunk in _chunks(sorted(session_ids)):
            conversations.update(session.exec(
                select(Conversation.id, Conversation.session_id)
                .where(col(Conversation.session_id).in_(chunk))).all())
        for chunk in _chunks(list(conversations)):
            for conversation_id, sender, text in session.exec(
                    select(Message.conversation_id, Message.sender_type, Message.text).where(
                        col(Message.conversation_id).in_(chunk),
                        col(Message.sender_type).in_([SenderType.user.value,
                                                      SenderType.agent.value]),
                        col(Message.is_internal).is_(False))):
                messages.append(StoredMessage(conversations[conversation_id], sender, text))
            for ticket_id, conversation_id in session.exec(
                    select(Ticket.id, Ticket.conversation_id).where(
                        col(Ticket.conversation_id).in_(chunk))):
                tickets.append(StoredTicket(str(ticket_id), conversations[conversation_id]))
    return conversations, messages, tickets


def check_storage(engine: Engine, sent: dict[str, SentMessage], session_ids: Iterable[str],
                  escalations: list[EscalationSeen]) -> StorageCheck:
    session_ids = list(session_ids)
    conversations, messages, tickets = read_run(engine, session_ids)
    return compare(sent, session_ids, messages, escalations, tickets, conversations.values())
