"""One way to run background work, whatever the deployment.

- `REDIS_URL` set: jobs go to the RQ queue `supportbot` and run in `rq worker` processes.
- not set: jobs run one at a time on a background thread of this process, so the default
  set-up needs no server.

`enqueue()` returns a job id; `job_status()` reads its state and result either way.
"""

from __future__ import annotations

import functools
import threading
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from supportbot.config import get_settings

QUEUE_NAME = "supportbot"


@dataclass
class JobStatus:
    id: str
    state: str  # queued | started | finished | failed
    result: Any = None
    error: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


class _InProcessRunner:
    """Runs jobs on one worker thread, in order; keeps their status in memory."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="supportbot-job")
        self._jobs: dict[str, JobStatus] = {}
        self._lock = threading.Lock()

    def submit(self, func: Callable[..., Any], args: tuple, kwargs: dict) -> str:
        job_id = uuid.uuid4().hex
        with self._lock:
            self._jobs[job_id] = JobStatus(job_id, "queued")
        self._executor.submit(self._run, job_id, func, args, kwargs)
        return job_id

    def _run(self, job_id: str, func: Callable[..., Any], args: tuple, kwargs: dict) -> None:
        status = self._jobs[job_id]
        status.state = "started"
        try:
            status.result = func(*args, **kwargs)
            status.state = "finished"
        except Exception as error:  # noqa: BLE001 - a job's failure is recorded, not raised
            status.error = f"{type(error).__name__}: {error}"
            status.meta["traceback"] = traceback.format_exc()
            status.state = "failed"

    def status(self, job_id: str) -> JobStatus | None:
        return self._jobs.get(job_id)

    def wait(self) -> None:
        """Block until every job submitted so far has run (used by the CLI and tests)."""
        self._executor.submit(lambda: None).result()


_runner = _InProcessRunner()


@functools.lru_cache(maxsize=2)
def _redis(url: str):  # noqa: ANN202
    from redis import Redis

    return Redis.from_url(url)


def rq_queue(redis_url: str | None = None):  # noqa: ANN201
    from rq import Queue

    return Queue(QUEUE_NAME, connection=_redis(redis_url or get_settings().redis_url))


def uses_redis() -> bool:
    return bool(get_settings().redis_url)


def enqueue(func: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """Run `func(*args, **kwargs)` in the background; return the job id."""
    if uses_redis():
        from rq import Retry

        job = rq_queue().enqueue(func, args=args, kwargs=kwargs,
                                 retry=Retry(max=3, interval=[5, 30, 120]))
        return job.id
    return _runner.submit(func, args, kwargs)


def job_status(job_id: str) -> JobStatus | None:
    """The state of a job, or None if this deployment does not know it."""
    if not uses_redis():
        return _runner.status(job_id)
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
    return JobStatus(job.id, state_name, job.return_value(), error, dict(job.meta))


def wait_in_process_jobs() -> None:
    _runner.wait()
