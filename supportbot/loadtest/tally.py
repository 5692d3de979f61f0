"""What a load run saw: every message it sent (by marker), the latency of every turn, the
escalations the app reported, and the errors; `summary()` turns it into the report."""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

ERROR_SAMPLES = 20  # error details kept for the report
WINDOW_SECONDS = 30  # KB answers' latency is also reported per window of the run


@dataclass
class SentMessage:
    marker: str
    session_id: str
    path: str  # "ws" or "rest"
    sender: str  # "user" or "agent"
    acknowledged: bool = False  # the app answered that it took the message


@dataclass(frozen=True)
class EscalationSeen:
    session_id: str
    ticket_id: str
    reference: str
    reason: str | None
    path: str


def percentile(values: list[float], q: float) -> float | None:
    """The nearest-rank percentile `q` (0-100) of `values`; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def distribution(values: list[float]) -> dict[str, float | int | None]:
    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 1)

    return {"n": len(values), "p50": rounded(percentile(values, 50)),
            "p95": rounded(percentile(values, 95)), "p99": rounded(percentile(values, 99)),
            "max": rounded(max(values)) if values else None}


@dataclass
class Tally:
    """Filled in by the sessions and agents of one run (one event loop: no locks)."""

    sent: dict[str, SentMessage] = field(default_factory=dict)
    latencies: dict[tuple[str, str], list[float]] = field(
        default_factory=lambda: defaultdict(list))
    counts: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    escalations: list[EscalationSeen] = field(default_factory=list)
    session_ids: dict[str, str] = field(default_factory=dict)  # session id -> path
    began: float = field(default_factory=time.monotonic)  # the sessions' start
    answered_at: list[tuple[float, float]] = field(default_factory=list)  # (s, ms), KB answers

    def message(self, marker: str, session_id: str, path: str, sender: str) -> SentMessage:
        sent = SentMessage(marker, session_id, path, sender)
        self.sent[marker] = sent
        self.counts[f"{sender}_messages"] += 1
        return sent

    def turn(self, path: str, kind: str, milliseconds: float) -> None:
        """A user turn answered: kind is answer (retrieval), generated, handoff or silent."""
        self.latencies[(path, kind)].append(milliseconds)
        self.counts[kind] += 1
        if kind == "answer":
            self.answered_at.append((time.monotonic() - self.began, milliseconds))

    def answers_by_window(self, seconds: float = WINDOW_SECONDS) -> list[dict]:
        """KB answers (both paths) by when they arrived: the start, when every session
        opens, against the steady part of the run."""
        windows: dict[int, list[float]] = defaultdict(list)
        for at, milliseconds in self.answered_at:
            windows[int(at // seconds)].append(milliseconds)
        return [{"from_s": n * seconds, "to_s": (n + 1) * seconds, **distribution(values)}
                for n, values in sorted(windows.items())]

    def timing(self, path: str, what: str, milliseconds: float) -> None:
        self.latencies[(path, what)].append(milliseconds)

    def error(self, kind: str, detail: str) -> None:
        self.errors[kind] += 1
        if len(self.error_samples) < ERROR_SAMPLES:
            self.error_samples.append(f"{kind}: {detail}"[:300])


TURN_KINDS = ("answer", "generated", "handoff", "silent")


def latency_report(tally: Tally) -> dict[str, dict[str, dict]]:
    """Per path: each kind of turn, every turn together, and the agents' replies."""
    report: dict[str, dict[str, dict]] = {}
    for path in ("ws", "rest"):
        kinds = {kind: distribution(tally.latencies[(path, kind)]) for kind in TURN_KINDS}
        every = [ms for kind in TURN_KINDS for ms in tally.latencies[(path, kind)]]
        kinds["all_turns"] = distribution(every)
        for what in ("agent_reply_post", "agent_reply_arrival"):
            kinds[what] = distribution(tally.latencies[(path, what)])
        report[path] = kinds
    return report


def counts_report(tally: Tally) -> dict[str, int]:
    counts = tally.counts
    return {
        "sessions": len(tally.session_ids),
        "messages_sent": counts["user_messages"] + counts["agent_messages"],
        "user_messages": counts["user_messages"],
        "answers": counts["answer"],
        "generated_answers": counts["generated"],
        "escalations": len(tally.escalations),
        "silent_turns": counts["silent"],
        "agent_replies": counts["agent_messages"],
        "agent_replies_arrived": counts["agent_reply_arrived"],
        "tickets_closed": counts["ticket_closed"],
    }
