"""The search index this process serves, for the chat engine.

One `LiveIndex` per process and index folder: it picks up every new version a reindex
writes, and when the index on disk was built by another model (or an older layout) it
queues a rebuild with the configured model and keeps serving what it had.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Protocol

from supportbot.ai.embeddings import get_embedder
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


@functools.lru_cache(maxsize=4)
def live_index(root: Path, model_name: str) -> LiveIndex:
    embedder = get_embedder(model_name)
    return LiveIndex(root, model_name=model_name, dimension=embedder.dimension,
                     on_mismatch=_rebuild_on_mismatch)


def live_search(text: str, k: int = 5) -> SearchResult:
    """Search the served index. IndexUnavailable when there is none yet."""
    settings = get_settings()
    index = live_index(settings.effective_index_path, settings.embedding_model_name).get()
    return search(index, get_embedder(settings.embedding_model_name), text, k=k)
