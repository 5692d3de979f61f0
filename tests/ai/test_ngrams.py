import mmap

import numpy as np
import pytest
from scipy import sparse

from supportbot.ai import ngrams

TEXTS = [
    "The VPN client will not connect from home",
    "La impresora tiene un atasco de papel",
    "Outlook asks for my password again and again",
    "Reset a forgotten password for your account",
]
QUERIES = ("pasword reset", "impresoras atascadas", "vpn", "zzzz qqqq", "the the the vpn",
           "Contraseña olvidada, ¿qué hago?", "", "  ?!  ", "a", "ÉLAN 42 übung")


def test_scores_are_the_cosines_of_the_full_matrix():
    vectorizer, columns = ngrams.build(TEXTS)
    full = vectorizer.transform(TEXTS)  # rows of unit length, as the articles were indexed
    for query in ("pasword reset", "impresoras atascadas", "vpn", "zzzz qqqq"):
        vector = vectorizer.transform([query])
        expected = (full @ vector.T).toarray().ravel()
        got = columns.scores(vector)
        assert got.shape == (len(TEXTS),) and got.dtype == np.float32
        assert np.allclose(got, expected, atol=2e-3)  # weights are stored in float16
        fast = columns.scores(ngrams.query_vector(vectorizer, query))
        assert fast.dtype == np.float32 and np.allclose(fast, got, atol=1e-6)
    assert int(np.argmax(columns.scores(vectorizer.transform(["pasword reset"])))) == 3


@pytest.mark.parametrize("query", QUERIES)
def test_the_query_vector_is_the_vectorizers(query):
    vectorizer, _ = ngrams.build(TEXTS)
    expected = vectorizer.transform([query])
    got = ngrams.query_vector(vectorizer, query)
    assert got.indices.dtype == np.int32 and got.data.dtype == np.float32
    assert np.array_equal(got.indices, expected.indices)
    assert np.allclose(got.data, expected.data, atol=1e-7, rtol=0)


def test_query_columns_hash_as_feature_hasher_does(monkeypatch):
    # murmurhash3 can return -2**31, whose abs() overflows: the hasher has its own rule.
    vectorizer, _ = ngrams.build(TEXTS)
    features = vectorizer[0][-1].n_features
    ngrams._word_columns.cache_clear()
    monkeypatch.setattr(ngrams, "murmurhash3_32", lambda gram, seed: -2**31)
    try:
        columns = ngrams._word_columns("vpn", features)
    finally:
        ngrams._word_columns.cache_clear()
    assert set(columns) == {(2**31 - 1 - (features - 1)) % features}


def _kb(count: int) -> list[str]:
    # Words in every text (" th", "ing"), in some, and in one: all three kinds of column.
    rng = np.random.default_rng(3)
    vocabulary = ["printer", "network", "password", "screen", "driver", "battery", "email",
                  "update", "account", "keyboard", "impresora", "contraseña"]
    return [" ".join(["the thing is", *rng.choice(vocabulary, 4), f"code{number}"])
            for number in range(count)]


@pytest.mark.parametrize("share", [0.0, 0.2, 1 / 3, 0.9, 2.0])
def test_common_ngrams_stored_dense_give_the_same_scores(share):
    texts = _kb(60)
    vectorizer, columns = ngrams.build(texts)
    full = vectorizer.transform(texts)
    matrix = sparse.csc_matrix(full, dtype=np.float32)
    matrix.sort_indices()
    split = ngrams.NgramColumns.from_matrix(matrix, dense_min_share=share)
    counts = np.diff(matrix.indptr)
    expected_dense = np.flatnonzero(counts >= max(1.0, share * len(texts)))
    assert np.array_equal(split.dense_columns, expected_dense)
    assert split.dense.shape == (len(expected_dense), len(texts))
    assert len(split.rows) + np.count_nonzero(split.dense) == matrix.nnz  # each entry once
    rounded = sparse.csr_matrix(full, dtype=np.float32)
    rounded.data = rounded.data.astype(np.float16).astype(np.float32)
    for query in ("the printer driver", "contraseña code7", "thing", "zzzz", ""):
        vector = ngrams.query_vector(vectorizer, query)
        query_row = sparse.csr_matrix((vector.data, vector.indices, [0, len(vector.indices)]),
                                      shape=(1, full.shape[1]))
        expected = (rounded @ query_row.T).toarray().ravel()  # float16 weights, as stored
        got = split.scores(vector)
        assert got.dtype == np.float32 and np.allclose(got, expected, atol=1e-6, rtol=0)
        assert np.allclose(got, columns.scores(vector), atol=1e-6, rtol=0)


def test_the_build_stores_the_common_ngrams_dense():
    texts = _kb(30)
    _, columns = ngrams.build(texts)
    assert len(columns.dense_columns) > 0 and columns.dense.dtype == np.float32
    # Their runs in the column-compressed arrays are empty: nothing is counted twice.
    assert np.all(columns.indptr[columns.dense_columns + 1] == columns.indptr[
        columns.dense_columns])
    assert np.all((columns.dense > 0).sum(axis=1) >= len(texts) / 3)


def test_columns_survive_save_and_load_memory_mapped(tmp_path):
    vectorizer, columns = ngrams.build(_kb(30))
    columns.save(tmp_path)
    loaded = ngrams.NgramColumns.load(tmp_path, 30)
    for array in (loaded.weights, loaded.rows, loaded.dense):
        assert isinstance(array.base, np.memmap) and isinstance(array.base.base, mmap.mmap)
    assert loaded.weights.dtype == np.float16 and len(loaded.dense_columns) > 0
    query = ngrams.query_vector(vectorizer, "the printer")
    assert np.array_equal(loaded.scores(query), columns.scores(query))


def test_columns_saved_without_a_dense_part_still_load(tmp_path):
    # Index format 3 kept every n-gram column-compressed, and had no ngram_dense*.npy.
    texts = _kb(30)
    vectorizer, columns = ngrams.build(texts)
    matrix = sparse.csc_matrix(vectorizer.transform(texts), dtype=np.float32)
    matrix.sort_indices()
    for name, array in (("indptr", matrix.indptr), ("rows", matrix.indices.astype(np.int32)),
                        ("weights", matrix.data.astype(np.float16))):
        np.save(tmp_path / f"ngram_{name}.npy", array)
    old = ngrams.NgramColumns.load(tmp_path, len(texts))
    assert len(old.dense_columns) == 0 and old.dense.shape == (0, len(texts))
    query = ngrams.query_vector(vectorizer, "the printer driver")
    assert np.allclose(old.scores(query), columns.scores(query), atol=1e-6, rtol=0)
