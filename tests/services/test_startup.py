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
