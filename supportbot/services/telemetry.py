"""Prometheus metrics: what happened, recorded by the services, and what is, read at
scrape time.

- Events (counters, histograms) are recorded by `chat`, `tickets`, `requester` and the
  job queue through the functions below. Those that belong to a transaction are recorded
  only once it commits (`on_commit`), so a rolled-back turn counts nothing.
- State (gauges) comes from `StateCollector` when `/metrics` is read: tickets by status,
  ratings and deflection over the last METRICS_WINDOW_DAYS, the job queue, the search
  index. Read from the database, Redis and disk, they are exact whichever worker answers.

Several worker processes: with PROMETHEUS_MULTIPROC_DIR set (before Python starts),
prometheus-client keeps every process's counters in files there and `render()` adds them
up (multiprocess mode); without it the counters are this process's own.
"""

from __future__ import annotations

import logging
import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlmodel import Session, col, select

from supportbot.config import get_settings
from supportbot.models import (
    Conversation,
    EscalationReason,
    Feedback,
    Message,
    SenderType,
    Ticket,
    TicketStatus,
    utcnow,
)
from supportbot.models.base import as_utc

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)  # this process's metrics (single process)

MESSAGES = Counter("supportbot_messages", "Messages stored, by sender (user, bot, agent).",
                   ["sender"], registry=REGISTRY)
CONVERSATIONS = Counter("supportbot_conversations_started", "Chat conversations started.",
                        registry=REGISTRY)
ANSWER_LATENCY = Histogram(
    "supportbot_answer_latency_seconds",
    "Time the bot spent on a turn, by stage: retrieval (every searched message) and "
    "generation (answers the local generator phrased).",
    ["stage"], registry=REGISTRY,
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40))
BOT_ANSWERS = Counter(
    "supportbot_bot_answers",
    "Answers the bot gave, by confidence band (high: at or above the answer threshold; "
    "medium: at or above GENERATOR_MIN_CONFIDENCE; low: below) and kind (cited, generated).",
    ["band", "kind"], registry=REGISTRY)
ESCALATIONS = Counter("supportbot_escalations",
                      "Conversations handed to people (new tickets), by reason.",
                      ["reason"], registry=REGISTRY)
TICKETS_OPENED = Counter("supportbot_tickets_opened",
                         "Tickets opened, by origin (escalation, direct).",
                         ["origin"], registry=REGISTRY)
TICKETS_CLOSED = Counter("supportbot_tickets_closed", "Tickets closed.", registry=REGISTRY)
TICKETS_REOPENED = Counter("supportbot_tickets_reopened",
                           "Closed tickets set back to another status.", registry=REGISTRY)
FIRST_RESPONSE = Histogram(
    "supportbot_agent_first_response_seconds",
    "From a ticket's opening to the first reply of an agent the user can read.",
    registry=REGISTRY,
    buckets=(30, 60, 300, 900, 1800, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 24 * 3600,
             72 * 3600))
FEEDBACK = Counter("supportbot_feedback", "Ratings of bot answers (helpful, not_helpful).",
                   ["rating"], registry=REGISTRY)
JOB_FAILURES = Counter("supportbot_job_failures",
                       "Background jobs that failed in this deployment's in-process runner "
                       "(RQ failures: supportbot_jobs_failed).", ["job"], registry=REGISTRY)
JOBS_IN_PROCESS = Counter("supportbot_jobs_run_in_process",
                          "Jobs run in the process that queued them because Redis was "
                          "unreachable (REDIS_URL set).", ["job"], registry=REGISTRY)

BANDS = ("high", "medium", "low")
OUTCOMES = ("resolved_confirmed", "resolved_assumed", "reopened", "escalated", "unresolved",
            "pending")

# Every labelled series exists from the start, at 0: dashboards and rate() see it.
for _sender in (SenderType.user.value, SenderType.bot.value, SenderType.agent.value):
    MESSAGES.labels(_sender)
for _band in BANDS:
    for _kind in ("cited", "generated"):
        BOT_ANSWERS.labels(_band, _kind)
for _reason in EscalationReason:
    ESCALATIONS.labels(_reason.value)
for _origin in ("escalation", "direct"):
    TICKETS_OPENED.labels(_origin)
for _rating in ("helpful", "not_helpful"):
    FEEDBACK.labels(_rating)
for _stage in ("retrieval", "generation"):
    ANSWER_LATENCY.labels(_stage)


# -- recording, once the transaction commits ---------------------------------------------

def on_commit(session: Session, record: Callable[[], None]) -> None:
    """Run `record` after `session` commits; forget it if it rolls back."""
    session.info.setdefault("telemetry", []).append(record)


@sa.event.listens_for(Session, "after_commit")
def _record_after_commit(session: Session) -> None:
    for record in session.info.pop("telemetry", []):
        try:
            record()
        except Exception:  # noqa: BLE001 - metrics never break a request
            log.exception("recording a metric failed")


@sa.event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session: Session, previous_transaction: object) -> None:
    if getattr(previous_transaction, "parent", None) is None:  # not a savepoint's
        session.info.pop("telemetry", None)


def confidence_band(confidence: float | None, threshold: float) -> str:
    if confidence is not None and confidence >= threshold:
        return "high"
    if confidence is not None and confidence >= get_settings().generator_min_confidence:
        return "medium"
    return "low"


def conversation_started(session: Session) -> None:
    on_commit(session, CONVERSATIONS.inc)


def message_stored(session: Session, sender: str) -> None:
    on_commit(session, MESSAGES.labels(sender).inc)


def bot_turn(session: Session, *, retrieval_ms: float | None, generation_ms: float | None,
             answered: bool = False, confidence: float | None = None,
             threshold: float = 0.0, generated: bool = False) -> None:
    """A bot message: its timings and, for an answer, its confidence band."""
    def record() -> None:
        MESSAGES.labels(SenderType.bot.value).inc()
        if retrieval_ms is not None:
            ANSWER_LATENCY.labels("retrieval").observe(retrieval_ms / 1000)
        if generation_ms is not None:
            ANSWER_LATENCY.labels("generation").observe(generation_ms / 1000)
        if answered:
            BOT_ANSWERS.labels(confidence_band(confidence, threshold),
                               "generated" if generated else "cited").inc()

    on_commit(session, record)


def escalated(session: Session, reason: str) -> None:
    """A new ticket from a hand-over."""
    def record() -> None:
        ESCALATIONS.labels(reason).inc()
        TICKETS_OPENED.labels("escalation").inc()

    on_commit(session, record)


def ticket_opened_directly(session: Session) -> None:
    on_commit(session, TICKETS_OPENED.labels("direct").inc)


def ticket_closed(session: Session) -> None:
    on_commit(session, TICKETS_CLOSED.inc)


def ticket_reopened(session: Session) -> None:
    on_commit(session, TICKETS_REOPENED.inc)


def agent_first_response(session: Session, opened_at: datetime) -> None:
    seconds = max(0.0, (utcnow() - as_utc(opened_at)).total_seconds())
    on_commit(session, lambda: FIRST_RESPONSE.observe(seconds))


def feedback_given(session: Session, rating: int) -> None:
    on_commit(session, FEEDBACK.labels("helpful" if rating > 0 else "not_helpful").inc)


def job_failed(name: str) -> None:
    JOB_FAILURES.labels(name).inc()


def job_ran_in_process(name: str) -> None:
    JOBS_IN_PROCESS.labels(name).inc()


# -- state, read at scrape time ----------------------------------------------------------

@dataclass(frozen=True)
class Deflection:
    """How the conversations that got a bot answer ended, one outcome each."""

    counts: dict[str, int]


def _message_rows(session: Session, since: datetime) -> list[tuple]:
    return list(session.exec(
        select(Message.conversation_id, Message.id, Message.sender_type, Message.meta,
               Message.created_at)
        .join(Conversation, col(Conversation.id) == col(Message.conversation_id))
        .where(Conversation.created_at >= since, col(Message.is_internal).is_(False))
        .order_by(col(Message.created_at), col(Message.id))))


def deflection(session: Session, *, since: datetime, now: datetime | None = None,
               quiet: timedelta | None = None) -> Deflection:
    """Outcome of every conversation started since `since` in which the bot answered:

    - escalated: people took it over (whatever happened before);
    - reopened: the user wrote again after it had counted as resolved (after a helpful
      rating, or after `quiet` without a message following an answer);
    - resolved_confirmed: an answer was rated helpful;
    - resolved_assumed: nobody wrote for `quiet` after the last answer;
    - unresolved: the last answer was rated unhelpful and nobody took over;
    - pending: the last answer is more recent than `quiet`.
    """
    now = now or utcnow()
    quiet = quiet or timedelta(minutes=get_settings().metrics_resolved_after_minutes)
    by_conversation: dict[object, list[tuple]] = defaultdict(list)
    for conversation_id, message_id, sender, meta, created in _message_rows(session, since):
        by_conversation[conversation_id].append((message_id, sender, meta or {},
                                                 as_utc(created)))
    escalated_ids = set(session.exec(
        select(Ticket.conversation_id).where(col(Ticket.conversation_id).in_(
            list(by_conversation)), col(Ticket.escalation_reason).is_not(None)))) \
        if by_conversation else set()
    ratings: dict[object, tuple[int, datetime]] = {}
    if by_conversation:
        for message_id, rating, created in session.exec(
                select(Feedback.message_id, Feedback.rating, Feedback.created_at)
                .where(col(Feedback.conversation_id).in_(list(by_conversation)))):
            ratings[message_id] = (rating, as_utc(created))
    counts = dict.fromkeys(OUTCOMES, 0)
    for conversation_id, messages in by_conversation.items():
        answers = [m for m in messages if m[1] == SenderType.bot.value
                   and m[2].get("decision") == "answer"]
        if not answers:
            continue
        escalations = any(m[1] == SenderType.bot.value and m[2].get("decision") == "escalate"
                          for m in messages)
        if conversation_id in escalated_ids or escalations:
            counts["escalated"] += 1
            continue
        user_times = [m[3] for m in messages if m[1] == SenderType.user.value]
        reopened = confirmed = False
        for answer_id, _sender, _meta, answered_at in answers:
            later = [t for t in user_times if t > answered_at]
            rating = ratings.get(answer_id)
            if rating and rating[0] > 0:
                confirmed = True
                if any(t > rating[1] for t in later):
                    reopened = True
            if later and later[0] - answered_at > quiet:
                reopened = True
        last_id, _sender, _meta, last_at = answers[-1]
        last_rating = ratings.get(last_id)
        if reopened:
            outcome = "reopened"
        elif confirmed:
            outcome = "resolved_confirmed"
        elif last_rating and last_rating[0] < 0:
            outcome = "unresolved"
        elif any(t > last_at for t in user_times):
            outcome = "pending"  # the user wrote after the last answer; no new answer yet
        elif now - last_at >= quiet:
            outcome = "resolved_assumed"
        else:
            outcome = "pending"
        counts[outcome] += 1
    return Deflection(counts)


def _gauge(name: str, documentation: str, value: float | None = None,
           labels: Iterable[str] = ()) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value, labels=list(labels) or None)


def _database_metrics() -> list[Metric]:
    from supportbot.db import session_scope

    settings = get_settings()
    since = utcnow() - timedelta(days=settings.metrics_window_days)
    window = f"the last {settings.metrics_window_days} days"
    metrics: list[Metric] = []
    with session_scope() as session:
        open_tickets = _gauge("supportbot_tickets", "Tickets now, by status.", labels=["status"])
        counted = dict(session.exec(select(Ticket.status, sa.func.count())
                                    .group_by(Ticket.status)).all())
        for status in TicketStatus:
            open_tickets.add_metric([status.value], counted.get(status.value, 0))
        metrics.append(open_tickets)

        rows = session.exec(select(Feedback.rating, sa.func.count())
                            .where(Feedback.created_at >= since)
                            .group_by(Feedback.rating)).all()
        by_rating = {int(rating): int(n) for rating, n in rows}
        helpful, unhelpful = by_rating.get(1, 0), by_rating.get(-1, 0)
        ratings = _gauge("supportbot_feedback_ratings", f"Ratings given in {window}.",
                         labels=["rating"])
        ratings.add_metric(["helpful"], helpful)
        ratings.add_metric(["not_helpful"], unhelpful)
        metrics.append(ratings)
        if helpful + unhelpful:
            metrics.append(_gauge("supportbot_feedback_positive_share",
                                  f"Helpful ratings over all ratings in {window}.",
                                  helpful / (helpful + unhelpful)))

        outcomes = deflection(session, since=since).counts
        family = _gauge("supportbot_deflection_conversations",
                        f"Conversations started in {window} in which the bot answered, by "
                        "outcome: resolved_confirmed (rated helpful), resolved_assumed (no "
                        f"message for {settings.metrics_resolved_after_minutes} min after "
                        "the last answer), reopened (the user came back after that), "
                        "escalated, unresolved (rated unhelpful), pending.",
                        labels=["outcome"])
        for outcome in OUTCOMES:
            family.add_metric([outcome], outcomes[outcome])
        metrics.append(family)
    return metrics


def _queue_metrics() -> list[Metric]:
    from supportbot.jobs.queue import queue_stats

    stats = queue_stats()
    depth = _gauge("supportbot_job_queue_depth",
                   f"Background jobs waiting or running ({stats.backend}).", labels=["state"])
    depth.add_metric(["queued"], stats.queued)
    depth.add_metric(["started"], stats.started)
    failed = _gauge("supportbot_jobs_failed",
                    "Failed background jobs: RQ's failed-job registry, or the jobs of this "
                    "process's in-process runner that failed.", stats.failed)
    return [depth, failed]


def _folder_bytes(folder: Path) -> int:
    return sum(item.stat().st_size for item in folder.iterdir() if item.is_file())


def _index_metrics() -> list[Metric]:
    from supportbot.ai.store import IndexUnavailable, read_meta

    root = get_settings().effective_index_path
    try:
        meta = read_meta(root)
    except IndexUnavailable:
        return [_gauge("supportbot_index_available", "1 when a search index is served.", 0)]
    created = datetime.fromisoformat(str(meta["created_at"]))
    info = _gauge("supportbot_index_info", "The search index version served (value 1).",
                  labels=["version", "model"])
    info.add_metric([str(meta["version"]), str(meta["model_name"])], 1)
    return [
        _gauge("supportbot_index_available", "1 when a search index is served.", 1),
        info,
        _gauge("supportbot_index_articles", "Articles in the search index.",
               float(meta.get("articles", 0))),
        _gauge("supportbot_index_passages", "Passages (vectors) in the search index.",
               float(meta.get("passages", 0))),
        _gauge("supportbot_index_bytes", "Size of the search index version on disk.",
               float(_folder_bytes(root / str(meta["version"])))),
        _gauge("supportbot_index_age_seconds", "Time since the served index was built.",
               max(0.0, (utcnow() - as_utc(created)).total_seconds())),
    ]


class StateCollector(Collector):
    """Gauges computed when /metrics is read. A part that fails (database down, Redis
    unreachable) is left out and reported in supportbot_metrics_errors."""

    PARTS: dict[str, Callable[[], list[Metric]]] = {
        "database": _database_metrics, "queue": _queue_metrics, "index": _index_metrics}

    def describe(self) -> list[Metric]:
        return []  # nothing to check at registration; collect() queries the database

    def collect(self) -> Iterable[Metric]:
        errors = _gauge("supportbot_metrics_errors",
                        "1 when a part of the state could not be read at this scrape.",
                        labels=["part"])
        started = time.perf_counter()
        for name, part in self.PARTS.items():
            try:
                yield from part()
                errors.add_metric([name], 0)
            except Exception:  # noqa: BLE001 - one broken part leaves the others readable
                log.exception("metrics: reading the %s state failed", name)
                errors.add_metric([name], 1)
        yield errors
        yield _gauge("supportbot_metrics_scrape_seconds", "Time spent reading the state.",
                     time.perf_counter() - started)


STATE = StateCollector()
REGISTRY.register(STATE)


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get(
        "prometheus_multiproc_dir", "")


def render() -> tuple[bytes, str]:
    """The exposition text of every metric, and its content type."""
    if multiprocess_dir():
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(STATE)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
