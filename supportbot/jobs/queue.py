"""One way to run background work, whatever the deployment.

- `REDIS_URL` set: jobs go to the RQ queue `supportbot` and run in `rq worker` processes.
- not set: jobs run one at a time on a background thread of this process, so the default
  set-up needs no server.
- set but Redis unreachable (stopped, restarting, not answering within
  `REDIS_TIMEOUT_SECONDS`): the job runs on that background thread instead, so a Redis
  outage loses no notification and no reindex request, and raises nothing to the user
  whose action queued it (docs/reliability.md, "Faults").

`enqueue()` returns a job id; `job_status()` reads its state and result either way.
"""

from __future__ import annotations

import functools
import importlib
import logging
import threading
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from supportbot.config import get_settings

QUEUE_NAME = "supportbot"
# Connecting to Redis, and any one command, gives up after this long: a stopped or frozen
# Redis must not hold a chat turn (RQ workers raise the command timeout for their waits).
REDIS_TIMEOUT_SECONDS = 3.0

# RQ stops a job after 180 s unless told otherwise (and then retries it, to be stopped
# again). A full rebuild at 10,000 articles took 478 s (docs/retrieval.md) and a
# fine-tune takes minutes: these get hours, every other job RQ's default.
JOB_TIMEOUT_SECONDS = {
    "supportbot.jobs.reindex.rebuild_index": 2 * 3600,
    "supportbot.jobs.finetune.run": 6 * 3600,
}

log = logging.getLogger(__name__)


@dataclass
class JobStatus:
    id: str
    state: str  # queued | started | finished | failed
    result: Any = None
    error: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    name: str = ""  # the job's function, "module.function"
    enqueued_at: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None


def _name(func: Callable[..., Any] | str) -> str:
    return func if isinstance(func, str) else f"{func.__module__}.{func.__qualname__}"


def _function(func: Callable[..., Any] | str) -> Callable[..., Any]:
    """The function itself, for the in-process runner (RQ also takes "module.function")."""
    if callable(func):
        return func
    module, _, name = func.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _utc(value: datetime | None) -> datetime | None:
    """RQ keeps naive UTC datetimes."""
    return value.replace(tzinfo=timezone.utc) if value and value.tzinfo is None else value


class _InProcessRunner:
    """Runs jobs on one worker thread, in order; keeps their status in memory."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="supportbot-job")
        self._jobs: dict[str, JobStatus] = {}
        self._lock = threading.Lock()

    def submit(self, func: Callable[..., Any], args: tuple, kwargs: dict) -> str:
        job_id = uuid.uuid4().hex
        with self._lock:
            self._jobs[job_id] = JobStatus(job_id, "queued", name=_name(func),
                                           enqueued_at=_now())
        self._executor.submit(self._run, job_id, func, args, kwargs)
        return job_id

    def _run(self, job_id: str, func: Callable[..., Any], args: tuple, kwargs: dict) -> None:
        status = self._jobs[job_id]
        status.state, status.started_at = "started", _now()
        _current.status = status
        try:
            status.result = func(*args, **kwargs)
            status.ended_at, status.state = _now(), "finished"
        except Exception as error:  # noqa: BLE001 - a job's failure is recorded, not raised
            status.error = f"{type(error).__name__}: {error}"
            status.meta["traceback"] = traceback.format_exc()
            status.ended_at, status.state = _now(), "failed"
            from supportbot.services import telemetry

            telemetry.job_failed(status.name)
        finally:
            _current.status = None

    def status(self, job_id: str) -> JobStatus | None:
        return self._jobs.get(job_id)

    def counts(self) -> dict[str, int]:
        with self._lock:
            states = [job.state for job in self._jobs.values()]
        return {state: states.count(state) for state in ("queued", "started", "failed")}

    def wait(self) -> None:
        """Block until every job submitted so far has run (used by the CLI and tests)."""
        self._executor.submit(lambda: None).result()


_runner = _InProcessRunner()
_current = threading.local()  # the in-process job running on this thread


def set_progress(**values: Any) -> None:
    """Record progress of the job running now in its `meta` (e.g. stage="train",
    done=0.4), for pages and the API to show. Does nothing outside a job."""
    status = getattr(_current, "status", None)
    if status is not None:
        status.meta.update(values)
        return
    if uses_redis():
        from rq import get_current_job

        job = get_current_job()
        if job is not None:
            job.meta.update(values)
            job.save_meta()


@functools.lru_cache(maxsize=2)
def _redis(url: str):  # noqa: ANN202
    from redis import Redis

    return Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                          socket_timeout=REDIS_TIMEOUT_SECONDS)


def rq_queue(redis_url: str | None = None):  # noqa: ANN201
    from rq import Queue

    return Queue(QUEUE_NAME, connection=_redis(redis_url or get_settings().redis_url))


def uses_redis() -> bool:
    return bool(get_settings().redis_url)


def enqueue(func: Callable[..., Any] | str, *args: Any, **kwargs: Any) -> str:
    """Run `func(*args, **kwargs)` in the background (`func` or its "module.function"
    path); return the job id.

    With Redis configured but unreachable the job runs in this process (logged, and
    counted in `supportbot_jobs_run_in_process`); it is never dropped."""
    if uses_redis():
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError
        from rq import Retry

        try:
            job = rq_queue().enqueue(func, args=args, kwargs=kwargs,
                                     job_timeout=JOB_TIMEOUT_SECONDS.get(_name(func)),
                                     retry=Retry(max=3, interval=[5, 30, 120]))
            return job.id
        except (RedisConnectionError, RedisTimeoutError) as error:
            from supportbot.services import telemetry

            log.warning("Redis unreachable (%s): running %s in this process", error,
                        _name(func))
            telemetry.job_ran_in_process(_name(func))
    return _runner.submit(_function(func), args, kwargs)


def job_status(job_id: str) -> JobStatus | None:
    """The state of a job, or None if this deployment does not know it."""
    from supportbot.services.input_guard import storable

    if not storable(job_id):  # no job has such an id (and Redis could not encode it)
        return None
    here = _runner.status(job_id)  # in-process: no Redis, or Redis was down at enqueue
    if here is not None or not uses_redis():
        return here
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        job = Job.fetch(job_id, connection=_redis(get_settings().redis_url))
    except NoSuchJobError:
        return None
    state = job.get_status(refresh=True)
    state_name = getattr(state, "value", str(state))
    error = None
    if state_name == "failed":
        latest = job.latest_result()
        error = (latest.exc_string or "").strip().splitlines()[-1] if latest else "failed"
    return JobStatus(job.id, state_name, job.return_value(), error, dict(job.meta),
                     name=job.func_name, enqueued_at=_utc(job.enqueued_at),
                     started_at=_utc(job.started_at), ended_at=_utc(job.ended_at))


@dataclass(frozen=True)
class QueueStats:
    backend: str  # "rq" or "in-process"
    queued: int
    started: int
    failed: int


def queue_stats() -> QueueStats:
    """Jobs waiting, running and failed: RQ's queue and registries, or this process's
    in-process runner."""
    if not uses_redis():
        counts = _runner.counts()
        return QueueStats("in-process", counts["queued"], counts["started"], counts["failed"])
    queue = rq_queue()
    return QueueStats("rq", queue.count, queue.started_job_registry.count,
                      queue.failed_job_registry.count)


def wait_in_process_jobs() -> None:
    _runner.wait()
