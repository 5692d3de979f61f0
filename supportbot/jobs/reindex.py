"""Rebuild the search index from the published KB (background job or `supportbot reindex`)."""

from __future__ import annotations

from supportbot.ai.embeddings import get_embedder
from supportbot.ai.index import build_index, known_vectors
from supportbot.ai.store import (FORMAT, IndexUnavailable, kb_revision, load, precision_of,
                                 read_meta, save)
from supportbot.config import get_settings
from supportbot.jobs.queue import enqueue
from supportbot.db import session_scope
from supportbot.services.knowledge import published_records
from supportbot.services.retrieval import embedding_model_name


def rebuild_index(show_progress: bool = False, if_changed: bool = False) -> dict[str, object]:
    """Build a new index version from every published article and make it current.

    Returns the new version's metadata. With no published article, nothing is written and
    the previous version (if any) keeps serving. With `if_changed`, nothing is built when
    the current version already holds this KB revision with the configured model and
    precision, in the current index format (an older format that still loads is rebuilt,
    reusing its vectors).
    """
    settings = get_settings()
    model_name = embedding_model_name()
    with session_scope() as session:
        records = published_records(session)
    if not records:
        return {"skipped": "no published article"}
    embedder = get_embedder(model_name)
    if if_changed:
        try:
            meta = read_meta(settings.effective_index_path)
        except IndexUnavailable:
            meta = {}
        if (meta.get("kb_revision") == kb_revision(records)
                and meta.get("model_name") == model_name
                and meta.get("format") == FORMAT
                and precision_of(meta) == embedder.precision):
            return {**meta, "skipped": "the index is up to date"}
    try:  # vectors of unchanged passages come from the current version: the same model
        # and precision only (`load` refuses any other as IndexMismatch)
        reuse = known_vectors(load(settings.effective_index_path, model_name=embedder.name,
                                   dimension=embedder.dimension,
                                   precision=embedder.precision))
    except IndexUnavailable:
        reuse = {}
    index = build_index(records, embedder, show_progress=show_progress, reuse=reuse)
    meta = save(index, settings.effective_index_path)
    return {**meta, "embedded_passages": index.embedded_passages}


def schedule_reindex() -> str:
    """Queue a rebuild (after a KB edit). Rebuilds that find the index already up to date
    do nothing, so a burst of edits costs one or two builds, not one each."""
    return enqueue(rebuild_index, if_changed=True)
