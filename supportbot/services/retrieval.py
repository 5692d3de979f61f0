"""The search index this process serves, for the chat engine.

One `LiveIndex` per process and index folder: it picks up every new version a reindex
writes, and when the index on disk was built by another model or precision (or an older
layout) it queues a rebuild with the configured model and keeps serving what it had.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Protocol

from supportbot.ai.embeddings import Embedder, get_embedder
from supportbot.ai.index import SearchIndex
from supportbot.ai.model_store import ModelVersions
from supportbot.ai.retriever import SearchResult, search
from supportbot.ai.store import IndexMismatch, LiveIndex
from supportbot.config import get_settings

log = logging.getLogger(__name__)


class Searcher(Protocol):
    def __call__(self, text: str) -> SearchResult: ...


def _rebuild_on_mismatch(error: IndexMismatch) -> None:
    from supportbot.jobs.reindex import schedule_reindex

    log.warning("search index refused (%s); rebuilding with the configured model", error)
    schedule_reindex()


def model_versions() -> ModelVersions:
    settings = get_settings()
    return ModelVersions(settings.effective_models_path, settings.embedding_model_name)


def embedding_model_name() -> str:
    """The model searches and rebuilds use: the active fine-tuned version, if any, else
    EMBEDDING_MODEL_NAME."""
    return model_versions().model_name()


@functools.lru_cache(maxsize=4)
def live_index(root: Path) -> LiveIndex:
    name = embedding_model_name()
    embedder = get_embedder(name)
    return LiveIndex(root, model_name=name, dimension=embedder.dimension,
                     precision=embedder.precision, on_mismatch=_rebuild_on_mismatch)


def _embedder_for(index: SearchIndex, name: str, current: Embedder) -> Embedder:
    """The embedder whose vectors `index` holds: the configured one, or while an index of
    another model or precision still serves (its rebuild is queued), that one's."""
    if (index.model_name, index.embedding_precision) == (name, current.precision):
        return current
    try:
        return get_embedder(index.model_name, index.embedding_precision)
    except ValueError:
        # An int8 index while EMBEDDING_BACKEND=torch now (which cannot make int8): the
        # same model's float32 vectors are the nearest (cosine ~0.99) until the rebuild.
        return get_embedder(index.model_name, "float32")


def live_search(text: str, k: int = 5) -> SearchResult:
    """Search the served index. IndexUnavailable when there is none yet.

    After another model version is activated (or EMBEDDING_PRECISION changed), the index
    built by the previous one keeps serving (with that model and precision) until the
    rebuild with the new one is current."""
    name = embedding_model_name()
    embedder = get_embedder(name)
    live = live_index(get_settings().effective_index_path)
    live.follow(name, embedder.dimension, embedder.precision)
    index = live.get()
    return search(index, _embedder_for(index, name, embedder), text, k=k)
