"""`supportbot worker`: an RQ worker for the `supportbot` queue.

Same as `rq worker --with-scheduler supportbot` (the scheduler part re-queues retried jobs
after their wait, e.g. a webhook delivery), plus: the active embedding model is loaded
once in the worker's main process, so every job's forked process shares those pages
instead of loading its own copy. Nothing runs through the model before the fork.

A Redis outage does not end it: RQ's worker quits when Redis goes away during a job (the
job's own process carries on: a rebuild still finishes and switches the index), and
`make prod` (honcho) stops every process when one ends. `run_worker` waits for Redis and
starts a new RQ worker, and its scheduler; only SIGTERM/SIGINT end it.
"""

from __future__ import annotations

import logging
import signal
import socket
import time

from supportbot.config import ConfigError, get_settings
from supportbot.jobs.queue import rq_queue

log = logging.getLogger(__name__)

RECONNECT_SECONDS = (1.0, 2.0, 5.0)  # waits between tries to reach Redis (then the last)


def preload_embedder() -> str | None:
    """Load the model searches and rebuilds use; its name, or None if it cannot load."""
    from supportbot.ai.embeddings import ModelNotFound, get_embedder
    from supportbot.services.retrieval import embedding_model_name

    name = embedding_model_name()
    try:
        get_embedder(name)
    except ModelNotFound as error:
        log.warning("embedding model not preloaded: %s", error)
        return None
    return name


def _rq_worker_class():  # noqa: ANN202
    from rq import Worker

    class StoppableWorker(Worker):
        """RQ's worker, remembering whether it was asked to stop (SIGTERM, SIGINT), so
        a run that ended for another reason (Redis lost) can be told apart."""

        stop_asked = False

        def request_stop(self, signum, frame):  # noqa: ANN001, ANN201 - RQ's signature
            self.stop_asked = True
            return super().request_stop(signum, frame)

    return StoppableWorker


def _wait_for_redis(connection) -> None:  # noqa: ANN001
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    for attempt in range(1_000_000_000):
        try:
            connection.ping()
            return
        except (RedisConnectionError, RedisTimeoutError) as error:
            if attempt == 0:
                log.warning("Redis unreachable (%s); waiting for it", error)
            time.sleep(RECONNECT_SECONDS[min(attempt, len(RECONNECT_SECONDS) - 1)])


def run_worker(burst: bool = False) -> bool:
    """Work on the queue until stopped (or, with `burst`, until it is empty); through
    Redis outages (see the module's docstring)."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    settings = get_settings()
    if not settings.redis_url:
        raise ConfigError("REDIS_URL: `supportbot worker` needs Redis; without it jobs run "
                          "inside the app process and no worker is needed")
    preload_embedder()
    worker_class = _rq_worker_class()
    while True:
        queue = rq_queue()
        worker = worker_class([queue], connection=queue.connection)
        try:
            worked = worker.work(burst=burst, with_scheduler=True)
        except (RedisConnectionError, RedisTimeoutError) as error:  # in RQ's teardown
            log.warning("RQ worker ended, Redis unreachable: %s", error)
            worked = False
        if burst or worker.stop_asked:
            return worked
        # Between two RQ workers no job runs: the default handlers end the process.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _wait_for_redis(queue.connection)
        time.sleep(RECONNECT_SECONDS[0])  # never a busy loop, whatever ended the run
        log.info("starting a new RQ worker")


def registered_here() -> bool:
    """Whether a worker of this host (container) is registered in Redis (health check)."""
    from rq import Worker

    queue = rq_queue()
    hostname = socket.gethostname()
    return any(worker.hostname == hostname
               for worker in Worker.all(connection=queue.connection))
