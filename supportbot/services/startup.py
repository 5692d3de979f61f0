"""Work done once when the app process starts (registered as a Reflex lifespan task)."""

from __future__ import annotations

import asyncio
import logging

from supportbot.ai.generator import GeneratorUnavailable, get_generator
from supportbot.ai.store import IndexUnavailable
from supportbot.config import get_settings

log = logging.getLogger(__name__)


def _warm_up() -> dict[str, str]:
    """Load the served index and the embedding model now, and the generator too with
    GENERATOR_PRELOAD, so the first chat message does not pay for them. Failures are
    logged, never raised: the app still starts, and chat hands over until they work."""
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
            generator = get_generator(settings.generator_model_name)
            if generator is not None:
                generator.load()
                done["generator"] = f"loaded in {generator.load_seconds:.1f} s"
        except GeneratorUnavailable as error:
            done["generator"] = f"unavailable: {error}"
            log.warning("%s", error)
    return done


async def warm_up() -> dict[str, str]:
    return await asyncio.to_thread(_warm_up)
