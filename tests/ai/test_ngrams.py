import numpy as np

from supportbot.ai import ngrams

TEXTS = [
    "The VPN client will not connect from home",
    "La impresora tiene un atasco de papel",
    "Outlook asks for my password again and again",
    "Reset a forgotten password for your account",
]


def test_scores_are_the_cosines_of_the_full_matrix():
    vectorizer, columns = ngrams.build(TEXTS)
    full = vectorizer.transform(TEXTS)  # rows of unit length, as the articles were indexed
    for query in ("pasword reset", "impresoras atascadas", "vpn", "zzzz qqqq"):
        vector = vectorizer.transform([query])
        expected = (full @ vector.T).toarray().ravel()
        got = columns.scores(vector)
        assert got.shape == (len(TEXTS),) and got.dtype == np.float32
        assert np.allclose(got, expected, atol=2e-3)  # weights are stored in float16
    assert int(np.argmax(columns.scores(vectorizer.transform(["pasword reset"])))) == 3


def test_columns_survive_save_and_load_memory_mapped(tmp_path):
    vectorizer, columns = ngrams.build(TEXTS)
    columns.save(tmp_path)
    loaded = ngrams.NgramColumns.load(tmp_path, len(TEXTS))
    assert isinstance(loaded.weights, np.memmap) and loaded.weights.dtype == np.float16
    query = vectorizer.transform(["la impresora"])
    assert np.array_equal(loaded.scores(query), columns.scores(query))
