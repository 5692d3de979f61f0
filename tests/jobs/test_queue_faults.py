"""The job queue with its Redis stopped or frozen (a throw-away server, tests/servers.py):
jobs run in this process instead of being lost or raising to the caller."""

import time
from datetime import timedelta

import pytest
from sqlmodel import select

from supportbot.jobs import queue
from supportbot.jobs.maintenance import purge_expired_refresh_tokens
from supportbot.models import RefreshToken, utcnow

pytestmark = pytest.mark.servers


@pytest.fixture
def expired_token(session, make_user):
    session.add(RefreshToken(jti="expired", user_id=make_user("alice").id, family_id="f",
                             expires_at=utcnow() - timedelta(hours=1)))
    session.commit()


def test_a_job_queued_while_redis_is_stopped_runs_here_and_redis_is_used_again_after(
        session, expired_token, settings_env, own_redis):
    settings_env(REDIS_URL=own_redis.url)
    own_redis.stop()
    job_id = queue.enqueue(purge_expired_refresh_tokens)  # no ConnectionError
    queue.wait_in_process_jobs()
    status = queue.job_status(job_id)
    assert (status.state, status.result, status.error) == ("finished", 1, None)
    assert session.exec(select(RefreshToken)).all() == []

    own_redis.start()
    job_id = queue.enqueue(purge_expired_refresh_tokens)
    assert queue.rq_queue().job_ids == [job_id]  # back on RQ, for the workers
    assert queue.job_status(job_id).state == "queued"


def test_a_frozen_redis_holds_the_caller_a_few_seconds_at_most(
        session, expired_token, settings_env, own_redis):
    settings_env(REDIS_URL=own_redis.url)
    queue.rq_queue().connection.ping()  # a pooled connection, open when Redis freezes
    own_redis.pause()
    started = time.monotonic()
    job_id = queue.enqueue(purge_expired_refresh_tokens)
    waited = time.monotonic() - started
    queue.wait_in_process_jobs()
    assert waited < queue.REDIS_TIMEOUT_SECONDS * 2 + 1, waited
    assert queue.job_status(job_id).state == "finished"


def test_a_job_named_by_its_path_also_runs_here_with_redis_stopped(
        session, expired_token, settings_env, own_redis):
    """The scheduler queues jobs by "module.function" when it uses Redis."""
    settings_env(REDIS_URL=own_redis.url)
    own_redis.stop()
    job_id = queue.enqueue("supportbot.jobs.maintenance.purge_expired_refresh_tokens")
    queue.wait_in_process_jobs()
    assert queue.job_status(job_id).result == 1


def test_long_jobs_get_hours_on_rq_not_its_three_minutes(settings_env, own_redis):
    from rq.job import Job

    from supportbot.jobs.finetune import run as finetune
    from supportbot.jobs.notify import deliver
    from supportbot.jobs.reindex import rebuild_index

    settings_env(REDIS_URL=own_redis.url)
    connection = queue.rq_queue().connection
    timeouts = {job.__name__: Job.fetch(queue.enqueue(job), connection=connection).timeout
                for job in (rebuild_index, finetune, deliver)}
    assert timeouts["rebuild_index"] >= 3600 and timeouts["run"] >= 3600
    assert timeouts["deliver"] == 180  # RQ's default: a delivery is bounded by its own waits
