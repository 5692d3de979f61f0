"""Work done once when the app process starts (registered as a Reflex lifespan task)."""

from __future__ import annotations

import asyncio
import logging
import os
import sys

from supportbot.ai.generator import GeneratorUnavailable
from supportbot.ai.store import IndexUnavailable
from supportbot.config import get_settings

log = logging.getLogger(__name__)


def _warm_up() -> dict[str, str]:
    """Load the served index and the embedding model now, and the generator too with
    GENERATOR_PRELOAD, so the first chat message does not pay for them. Failures are
    logged, never raised: the app still starts, and chat hands over until they work."""
    from supportbot.services.chat import configured_generator
    from supportbot.services.retrieval import live_search

    settings = get_settings()
    done = {}
    try:
        live_search("warm up")
        done["index"] = "loaded"
    except IndexUnavailable as error:
        done["index"] = f"unavailable: {error}"
        log.warning("search index not loaded at start-up: %s", error)
    if settings.generator_preload:
        try:
            generator = configured_generator()
            if generator is not None:
                generator.load()
                done["generator"] = f"loaded in {generator.load_seconds:.1f} s"
        except GeneratorUnavailable as error:
            done["generator"] = f"unavailable: {error}"
            log.warning("%s", error)
    return done


def forking_workers(argv: list[str] | None = None) -> bool:
    """Whether this process is the supervisor of the production backend, which imports
    the app and then forks its GRANIAN_WORKERS workers from itself (`reflex run --env
    prod`, with `--backend-only` or `--single-port`; Reflex 0.10 forks on Linux): what it
    loads before the fork, the workers share instead of each loading a copy. Not for
    `reflex export`, `reflex db ...` or the frontend alone."""
    args = (sys.argv if argv is None else argv)[1:]
    return (os.environ.get("REFLEX_ENV_MODE") == "prod" and args[:1] == ["run"]
            and "--frontend-only" not in args)


def preload_before_fork() -> dict[str, str]:
    """Load the embedding model in use, the served index and, with GENERATOR_PRELOAD,
    the generator, without running any of them: the forked workers then share one copy
    of each (copy-on-write) instead of loading N. Nothing runs through torch here, so no
    thread pool exists yet at the fork. Failures are logged; workers load lazily then."""
    from supportbot.ai.embeddings import ModelNotFound, get_embedder
    from supportbot.services.chat import configured_generator
    from supportbot.services.retrieval import embedding_model_name, live_index

    settings = get_settings()
    done = {}
    try:
        get_embedder(embedding_model_name())
        done["embedder"] = "loaded"
        live_index(settings.effective_index_path).get()
        done["index"] = "loaded"
    except (ModelNotFound, IndexUnavailable) as error:
        done["index"] = f"unavailable: {error}"
        log.warning("not preloaded before the workers fork: %s", error)
    if settings.generator_preload:
        try:
            generator = configured_generator()
            if generator is not None:
                generator.load()
                done["generator"] = "loaded"
        except GeneratorUnavailable as error:
            log.warning("%s", error)
    return done


async def warm_up() -> dict[str, str]:
    return await asyncio.to_thread(_warm_up)
