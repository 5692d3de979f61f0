from datetime import datetime, timedelta, timezone

from supportbot.jobs import scheduler
from supportbot.jobs.queue import job_status, wait_in_process_jobs

RAN: list[str] = []


def record(label: str) -> str:
    RAN.append(label)
    return label


SCHEDULE = (
    scheduler.Periodic("often", timedelta(minutes=10), record, {"label": "often"}),
    scheduler.Periodic("daily", timedelta(days=1), record, {"label": "daily"}),
)


def test_jobs_are_queued_when_due_and_a_restart_remembers_them(settings_env, tmp_path):
    settings_env(DATA_DIR=str(tmp_path))
    RAN.clear()
    start = datetime(2026, 1, 1, 3, 0, tzinfo=timezone.utc)
    queued = scheduler.run_due(scheduler.LastRuns(), start, SCHEDULE)
    wait_in_process_jobs()
    assert sorted(queued) == ["daily", "often"] and sorted(RAN) == ["daily", "often"]
    assert job_status(queued["daily"]).result == "daily"
    assert scheduler.healthy() and (tmp_path / "scheduler.json").is_file()

    restarted = scheduler.LastRuns()  # read back from $DATA_DIR/scheduler.json
    assert scheduler.run_due(restarted, start + timedelta(minutes=9), SCHEDULE) == {}
    assert list(scheduler.run_due(restarted, start + timedelta(minutes=10), SCHEDULE)) == ["often"]
    assert list(scheduler.run_due(restarted, start + timedelta(days=1), SCHEDULE)) == [
        "often", "daily"]


def test_the_schedule_covers_retention_and_index_freshness():
    names = {job.name for job in scheduler.SCHEDULE}
    assert {"retention", "index-freshness"} <= names


def test_with_redis_jobs_go_to_rq_by_path_and_last_runs_are_shared(settings_env, tmp_path,
                                                                   redis_url):
    from rq.job import Job

    settings_env(DATA_DIR=str(tmp_path), REDIS_URL=redis_url)
    schedule = (scheduler.Periodic("tokens", timedelta(days=1),
                                   "supportbot.jobs.maintenance.purge_expired_refresh_tokens"),)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    queued = scheduler.run_due(scheduler.LastRuns(), start, schedule)
    job = Job.fetch(queued["tokens"], connection=scheduler.queue.rq_queue().connection)
    assert job.func_name == "supportbot.jobs.maintenance.purge_expired_refresh_tokens"
    assert scheduler.LastRuns().get("tokens") == start  # kept in Redis, not the folder
    assert not (tmp_path / "scheduler.json").exists()
