"""`supportbot scheduler`: queues the periodic jobs when they are due.

The scheduler only decides *when*; the work runs where every job runs (`queue.enqueue`:
an `rq worker supportbot` with REDIS_URL, else a thread of the scheduler's process). Run
exactly one scheduler per installation.

When each job last ran is kept in Redis (REDIS_URL) or in `$DATA_DIR/scheduler.json`,
so a restarted scheduler does not run daily jobs again. Every pass touches a heartbeat
file; the container's health check reads its age (`supportbot scheduler --check`).
Jobs are named by their import path: with Redis the scheduler never imports them, so it
stays a small process (the index job would load torch).
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from supportbot.config import get_settings
from supportbot.jobs import queue

log = logging.getLogger(__name__)

TICK_SECONDS = 30.0
REDIS_KEY = "supportbot:scheduler:last-run"


@dataclass(frozen=True)
class Periodic:
    name: str
    every: timedelta
    func: str | Callable[..., Any]  # "module.function", or the function itself
    kwargs: dict[str, Any] = field(default_factory=dict)

    def target(self) -> str | Callable[..., Any]:
        """What to queue: RQ takes the path as it is; the in-process runner needs the
        function."""
        if callable(self.func) or queue.uses_redis():
            return self.func
        module, _, name = self.func.rpartition(".")
        return getattr(importlib.import_module(module), name)


SCHEDULE: tuple[Periodic, ...] = (
    # A KB edit queues its own rebuild; this catches one lost with a crashed worker or
    # an index folder restored from an older backup (does nothing when up to date).
    Periodic("index-freshness", timedelta(minutes=10), "supportbot.jobs.reindex.rebuild_index",
             {"if_changed": True}),
    Periodic("retention", timedelta(days=1),
             "supportbot.jobs.maintenance.anonymize_old_conversations"),
    Periodic("purge-tokens", timedelta(days=1),
             "supportbot.jobs.maintenance.purge_expired_refresh_tokens"),
    # Negative feedback and solved escalations grouped into KB suggestions for admins.
    Periodic("feedback-digest", timedelta(days=1), "supportbot.jobs.feedback_digest.digest_job"),
)


class LastRuns:
    """When each periodic job was last queued: a Redis hash, or a JSON file."""

    def __init__(self) -> None:
        settings = get_settings()
        self._file = settings.data_dir / "scheduler.json"
        self._redis = queue._redis(settings.redis_url) if settings.redis_url else None

    def get(self, name: str) -> datetime | None:
        if self._redis is not None:
            value = self._redis.hget(REDIS_KEY, name)
            value = value.decode() if value else None
        else:
            value = self._read_file().get(name)
        return datetime.fromisoformat(value) if value else None

    def set(self, name: str, when: datetime) -> None:
        if self._redis is not None:
            self._redis.hset(REDIS_KEY, name, when.isoformat())
            return
        values = {**self._read_file(), name: when.isoformat()}
        self._file.parent.mkdir(parents=True, exist_ok=True)
        temporary = self._file.with_suffix(".tmp")
        temporary.write_text(json.dumps(values, indent=1))
        os.replace(temporary, self._file)

    def _read_file(self) -> dict[str, str]:
        try:
            return json.loads(self._file.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {}


def heartbeat_path() -> Path:
    return get_settings().data_dir / "scheduler.heartbeat"


def run_due(last_runs: LastRuns, now: datetime | None = None,
            schedule: tuple[Periodic, ...] = SCHEDULE) -> dict[str, str]:
    """Queue every job whose interval has passed since it last ran (or that never ran);
    returns {name: job id} of those queued."""
    now = now or datetime.now(timezone.utc)
    queued = {}
    for periodic in schedule:
        last = last_runs.get(periodic.name)
        if last is None or now - last >= periodic.every:
            queued[periodic.name] = queue.enqueue(periodic.target(), **periodic.kwargs)
            last_runs.set(periodic.name, now)
            log.info("queued %s (job %s)", periodic.name, queued[periodic.name])
    heartbeat = heartbeat_path()
    heartbeat.parent.mkdir(parents=True, exist_ok=True)
    heartbeat.write_text(now.isoformat())
    return queued


def healthy(max_age_seconds: float = 4 * TICK_SECONDS) -> bool:
    """Whether a scheduler has completed a pass recently (its heartbeat is fresh)."""
    try:
        return time.time() - heartbeat_path().stat().st_mtime <= max_age_seconds
    except FileNotFoundError:
        return False


def run_forever(tick_seconds: float = TICK_SECONDS,
                on_queued: Callable[[dict[str, str]], None] | None = None) -> None:
    """Check the schedule every `tick_seconds` until the process is stopped."""
    last_runs = LastRuns()
    while True:
        try:
            queued = run_due(last_runs)
            if queued and on_queued:
                on_queued(queued)
        except Exception:  # a database or Redis outage must not end the scheduler
            log.exception("scheduler pass failed; trying again in %s s", tick_seconds)
        time.sleep(tick_seconds)
