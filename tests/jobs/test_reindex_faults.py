"""Reindexing under faults: Redis stopped before or during a rebuild, the worker's
process killed (SIGKILL) mid-build. Whatever happens, the index served is always a
complete version (the old one until the new one is whole), and the rebuild is not lost.

Real `supportbot worker` processes against a Redis of the test's own (tests/servers.py).
The rebuild is made slow enough to hit mid-way by growing the KB: the old index holds
the 10 small articles, the new one 10 + GROWN synthetic ones (about 3,400 passages to
embed: some seconds, even with the embedding on both cores)."""

import os
import signal
import threading
import time

import pytest

from supportbot.ai import store
from supportbot.ai.bench import synthetic_kb
from supportbot.ai.records import read_articles
from supportbot.ai.retriever import search
from supportbot.config import get_settings
from supportbot.jobs import queue
from supportbot.jobs.reindex import rebuild_index, schedule_reindex
from supportbot.services import knowledge
from supportbot.services.permissions import SYSTEM
from tests.ai.conftest import KB_SMALL
from tests.servers import Worker

pytestmark = pytest.mark.servers

GROWN = 500  # about 3,400 passages: some seconds of embedding on two threads
SMALL = 10
WAIT_SECONDS = 60  # for a worker to start, or a rebuild to finish, on a busy machine


def wait_until(check, what, seconds=WAIT_SECONDS, every=0.05):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(every)
    raise AssertionError(f"{what}: not within {seconds} s")


@pytest.fixture
def grown_kb(session, database):
    """An index of the small KB is current; the KB has since grown by GROWN articles.
    The current (old) version's name."""
    if database.startswith("postgresql"):
        pytest.skip("index faults do not depend on the database: run once, on SQLite")
    records = read_articles(KB_SMALL)
    knowledge.import_articles(session, SYSTEM, records)
    session.commit()
    old = rebuild_index()["version"]
    knowledge.import_articles(session, SYSTEM, synthetic_kb(records, GROWN))
    session.commit()
    return old


class Searcher(threading.Thread):
    """Searches the served index (as the chat does, LiveIndex) over and over while the
    test runs; records the versions it served and any error."""

    def __init__(self, embedder):
        super().__init__(daemon=True)
        self.embedder = embedder
        self.live = store.LiveIndex(get_settings().effective_index_path,
                                    model_name=embedder.name, dimension=embedder.dimension,
                                    precision=embedder.precision, check_seconds=0)
        self.served, self.errors = [], []
        self.slowest = 0.0
        self._done = threading.Event()

    def run(self):
        while not self._done.is_set():
            started = time.perf_counter()
            try:
                index = self.live.get()
                result = search(index, self.embedder, "my vpn keeps failing")
                assert result.top.article.title.startswith("VPN won't connect"), result.top
                if not self.served or self.served[-1] != (self.live.version, index.size):
                    self.served.append((self.live.version, index.size))
            except Exception as error:  # noqa: BLE001 - what the test asserts on
                self.errors.append(repr(error))
            self.slowest = max(self.slowest, time.perf_counter() - started)
            time.sleep(0.05)

    def stop(self):
        self._done.set()
        self.join(timeout=30)


@pytest.fixture
def searcher(embedder):
    watcher = Searcher(embedder)
    watcher.start()
    yield watcher
    watcher.stop()


def assert_served_old_then_new(searcher, old):
    """Only complete versions were served: the old one (small KB), then the new one."""
    new = store.current_version(get_settings().effective_index_path)
    assert new != old
    wait_until(lambda: searcher.errors or searcher.served[-1][0] == new, "the new one served")
    searcher.stop()
    assert searcher.errors == []
    assert searcher.served[0] == (old, SMALL) and searcher.served[-1] == (new, SMALL + GROWN)
    assert set(searcher.served) <= {(old, SMALL), (new, SMALL + GROWN)}


def worker_env(redis_url):
    return {**os.environ, "REDIS_URL": redis_url}


def test_a_reindex_asked_for_while_redis_is_stopped_runs_here_and_the_old_index_serves(
        grown_kb, settings_env, own_redis, searcher):
    settings_env(REDIS_URL=own_redis.url)
    own_redis.stop()
    job_id = knowledge.start_reindex(SYSTEM)  # the admin's button: not an error
    queue.wait_in_process_jobs()
    status = knowledge.reindex_status(SYSTEM, job_id)
    assert status.state == "finished" and status.result["articles"] == SMALL + GROWN
    assert_served_old_then_new(searcher, grown_kb)
    print(f"\nslowest search while the rebuild ran in this process: {searcher.slowest:.2f} s")


def test_redis_stopped_while_a_worker_rebuilds(grown_kb, settings_env, own_redis, searcher,
                                               tmp_path):
    """The rebuild the worker had started completes (it needs no Redis to build and
    switch the index); the worker waits for Redis and then takes jobs again."""
    settings_env(REDIS_URL=own_redis.url)
    job_id = schedule_reindex()
    with Worker(worker_env(own_redis.url), tmp_path / "worker.log") as worker:
        wait_until(lambda: queue.job_status(job_id).state == "started", "job started")
        own_redis.stop()
        root = get_settings().effective_index_path
        wait_until(lambda: store.current_version(root) != grown_kb, "the new version current")
        assert_served_old_then_new(searcher, grown_kb)
        time.sleep(3)  # Redis stays down a while: the worker retries, does not quit
        own_redis.start()
        assert worker.process.poll() is None, worker.output()[-3000:]
        later = schedule_reindex()  # a job queued once Redis is back is run
        wait_until(lambda: queue.job_status(later).state == "finished",
                   f"job after the outage\n{worker.output()[-3000:]}")
        assert queue.job_status(later).result["skipped"] == "the index is up to date"


@pytest.mark.parametrize("moment", ["embedding", "saving"])
def test_a_work_horse_killed_mid_rebuild_is_retried_and_the_old_index_serves_meanwhile(
        grown_kb, settings_env, own_redis, searcher, tmp_path, moment):
    """SIGKILL of the process running the job (as the OOM killer would), while it embeds
    or while it writes the new version to disk."""
    settings_env(REDIS_URL=own_redis.url)
    root = get_settings().effective_index_path
    job_id = schedule_reindex()
    with Worker(worker_env(own_redis.url), tmp_path / "worker.log") as worker:
        horse = worker.work_horse(seconds=WAIT_SECONDS)
        if moment == "embedding":
            time.sleep(1.0)
        else:
            wait_until(lambda: any(root.glob(".building-*")), "the new version being written",
                       every=0.002)
        os.kill(horse, signal.SIGKILL)
        status = queue.job_status(job_id)
        assert status.state != "finished", "the rebuild ended before the kill: grow GROWN"
        assert store.current_version(root) == grown_kb  # nothing half-built is current
        store.load(root, model_name=searcher.embedder.name, dimension=384,
                   precision=searcher.embedder.precision)  # still whole
        wait_until(lambda: queue.job_status(job_id).state == "finished",
                   f"the retried job\n{worker.output()[-3000:]}")
    assert "Work-horse terminated unexpectedly" in worker.output()
    status = queue.job_status(job_id)
    assert status.result["articles"] == SMALL + GROWN, status.result
    assert_served_old_then_new(searcher, grown_kb)


def test_a_worker_killed_with_its_job_leaves_the_old_index_and_the_job_is_retried(
        grown_kb, settings_env, own_redis, searcher, tmp_path):
    """SIGKILL of the whole worker (its horse, its scheduler): nobody records the
    failure. RQ finds the job abandoned once its heartbeat expires (90 s after the last
    one, at a registry cleanup: a worker's maintenance, or a read of the queue stats)
    and retries it. The test moves the cleanup's clock past the expiry instead of
    waiting for it."""
    settings_env(REDIS_URL=own_redis.url)
    root = get_settings().effective_index_path
    job_id = schedule_reindex()
    with Worker(worker_env(own_redis.url), tmp_path / "worker.log") as worker:
        worker.work_horse(seconds=WAIT_SECONDS)
        time.sleep(1.0)
        worker.kill()
    assert queue.job_status(job_id).state == "started"  # nobody knows it died yet
    assert store.current_version(root) == grown_kb
    searcher.stop()
    assert searcher.errors == [] and set(searcher.served) == {(grown_kb, SMALL)}

    registry = queue.rq_queue().started_job_registry
    registry.cleanup(timestamp=time.time() + 60 + 30 + 1)  # job_monitoring_interval + 60
    status = queue.job_status(job_id)
    assert status.state == "scheduled", status  # retried after its wait (5 s)
    from rq.job import Job

    assert Job.fetch(job_id, connection=registry.connection).retries_left == 2
