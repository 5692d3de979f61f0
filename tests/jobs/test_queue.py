import os
import subprocess
import sys
from datetime import timedelta

from sqlmodel import select

from supportbot.jobs import queue
from supportbot.jobs.maintenance import purge_expired_refresh_tokens
from supportbot.models import RefreshToken, utcnow


def _expired_token(session, user):
    session.add(RefreshToken(jti="expired", user_id=user.id, family_id="f",
                             expires_at=utcnow() - timedelta(hours=1)))
    session.commit()


def test_in_process_jobs_run_and_report(session, make_user):
    _expired_token(session, make_user("alice"))
    assert not queue.uses_redis()
    job_id = queue.enqueue(purge_expired_refresh_tokens)
    queue.wait_in_process_jobs()
    status = queue.job_status(job_id)
    assert (status.state, status.result, status.error) == ("finished", 1, None)
    assert session.exec(select(RefreshToken)).all() == []


def test_in_process_failure_is_recorded_not_raised():
    def broken():
        raise RuntimeError("disk full")

    job_id = queue.enqueue(broken)
    queue.wait_in_process_jobs()
    status = queue.job_status(job_id)
    assert status.state == "failed" and status.error == "RuntimeError: disk full"
    assert queue.job_status("no-such-job") is None


def test_rq_worker_runs_the_job(session, make_user, database, redis_url, settings_env):
    """A real `rq worker` process (burst mode) against the Redis of the test run."""
    _expired_token(session, make_user("alice"))
    settings_env(REDIS_URL=redis_url)
    job_id = queue.enqueue(purge_expired_refresh_tokens)
    assert queue.job_status(job_id).state == "queued"
    env = {**os.environ, "DATABASE_URL": database, "REDIS_URL": redis_url}
    worker = subprocess.run(
        [sys.executable, "-m", "rq.cli", "worker", "--burst", "--url", redis_url,
         queue.QUEUE_NAME],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert worker.returncode == 0, worker.stderr
    status = queue.job_status(job_id)
    assert (status.state, status.result) == ("finished", 1)
    session.expire_all()
    assert session.exec(select(RefreshToken)).all() == []
