import asyncio

from supportbot.ai import generator as generator_module
from supportbot.services import startup


def test_warm_up_reports_a_missing_index_and_skips_the_generator(database, monkeypatch):
    loads = []
    monkeypatch.setattr(generator_module.Generator, "load", lambda self: loads.append(self))
    done = asyncio.run(startup.warm_up())
    assert done["index"].startswith("unavailable") and "generator" not in done
    assert loads == []


def test_warm_up_preloads_the_generator_when_asked(database, settings_env, monkeypatch):
    settings_env(GENERATOR_MODEL_NAME="smollm2", GENERATOR_PRELOAD="true")
    loads = []

    def fake_load(self):
        loads.append(self)
        self.load_seconds = 0.5

    monkeypatch.setattr(generator_module.Generator, "load", fake_load)
    done = asyncio.run(startup.warm_up())
    assert [g.name for g in loads] == ["SmolLM2-135M-Instruct.Q4_1.gguf"]
    assert done["generator"] == "loaded in 0.5 s"


def test_only_the_production_backends_supervisor_preloads_before_forking(monkeypatch):
    monkeypatch.setenv("REFLEX_ENV_MODE", "prod")
    for argv in (["reflex", "run", "--env", "prod", "--backend-only"],
                 ["reflex", "run", "--env", "prod", "--single-port", "--frontend-port", "80"]):
        assert startup.forking_workers(argv), argv
    for argv in (["reflex", "run", "--env", "prod", "--frontend-only"],
                 ["reflex", "export", "--frontend-only"], ["reflex", "db", "migrate"],
                 ["supportbot", "worker"], ["pytest"]):
        assert not startup.forking_workers(argv), argv
    monkeypatch.setenv("REFLEX_ENV_MODE", "dev")  # `reflex run` in development: no fork
    assert not startup.forking_workers(["reflex", "run"])


def test_preloading_loads_the_model_and_index_the_workers_will_search(database):
    from supportbot.ai import embeddings
    from supportbot.ai.records import read_articles
    from supportbot.db import session_scope
    from supportbot.jobs.reindex import rebuild_index
    from supportbot.services import knowledge, retrieval
    from supportbot.services.permissions import SYSTEM
    from tests.ai.conftest import KB_SMALL

    done = startup.preload_before_fork()  # no index yet: said, not raised
    assert done["embedder"] == "loaded" and done["index"].startswith("unavailable")
    with session_scope() as session:
        knowledge.import_articles(session, SYSTEM, read_articles(KB_SMALL))
    rebuild_index()
    assert startup.preload_before_fork() == {"embedder": "loaded", "index": "loaded"}
    # The workers' first search finds both in this process's memory: no load after the fork.
    served = retrieval.live_index(retrieval.get_settings().effective_index_path)
    assert served.version is not None and len(served.get().articles) == 10
    misses = embeddings._cached.cache_info().misses
    retrieval.live_search("my vpn keeps failing")
    assert embeddings._cached.cache_info().misses == misses
