"""Queue depth and failures for /metrics: the in-process runner, or RQ's registries."""

from supportbot.jobs import queue
from supportbot.jobs.maintenance import purge_expired_refresh_tokens
from supportbot.services import telemetry


def _broken():
    raise RuntimeError("disk full")


def test_in_process_failures_are_counted():
    before = queue.queue_stats()
    failures = telemetry.JOB_FAILURES.labels(f"{__name__}._broken")
    counted = failures._value.get()
    queue.enqueue(_broken)
    queue.wait_in_process_jobs()
    after = queue.queue_stats()
    assert after.backend == "in-process" and after.failed == before.failed + 1
    assert (after.queued, after.started) == (0, 0)
    assert failures._value.get() == counted + 1


def test_rq_depth_and_failed_registry(database, redis_url, settings_env):
    settings_env(REDIS_URL=redis_url)
    assert queue.queue_stats() == queue.QueueStats("rq", 0, 0, 0)
    queue.enqueue(purge_expired_refresh_tokens)
    queue.enqueue(purge_expired_refresh_tokens)
    assert queue.queue_stats() == queue.QueueStats("rq", 2, 0, 0)
