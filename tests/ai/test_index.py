"""The FAISS side of `supportbot.ai.index` (passages, lexical and head are tested through
the retriever, tests/ai/test_retriever.py)."""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from supportbot.ai import index


@pytest.mark.parametrize("threads", [1, 2])
def test_an_hnsw_graph_built_on_threads_finds_the_same_and_leaves_one_faiss_thread(
        monkeypatch, threads):
    monkeypatch.setattr(index, "HNSW_MIN_PASSAGES", 200)
    vectors = np.random.default_rng(1).normal(size=(600, 32)).astype(np.float32)
    faiss.normalize_L2(vectors)
    built = index.make_faiss_index(vectors, 32, threads)
    assert isinstance(built, faiss.IndexHNSWSQ) and built.ntotal == 600
    assert faiss.omp_get_max_threads() == 1  # queries on this thread: one, as before
    _, found = built.search(vectors[:50], 1)
    assert (found[:, 0] == np.arange(50)).mean() >= 0.98
    small = index.make_faiss_index(vectors[:100], 32, threads)
    assert isinstance(small, faiss.IndexScalarQuantizer) and small.ntotal == 100
