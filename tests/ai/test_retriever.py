import dataclasses

import numpy as np
from sklearn.metrics import roc_auc_score

from supportbot.ai.index import build_index, passages_of
from supportbot.ai.queries import read_queries
from supportbot.ai.retriever import search
from tests.ai.conftest import QUERIES_SMALL


def test_passages_cover_title_phrasings_and_solution(articles):
    vpn = next(a for a in articles if a.id == "en-vpn")
    texts = passages_of(vpn)
    assert texts[0].startswith("VPN won't connect. The VPN client")
    assert "vpn keeps failing" in texts
    assert any("Restart the VPN client" in text for text in texts)


def test_recall_at_1_and_5_on_the_fixture(small_index, embedder):
    queries = [q for q in read_queries(QUERIES_SMALL) if q.gold_id]
    ranks = []
    for query in queries:
        ids = [hit.article.id for hit in search(small_index, embedder, query.text, k=5).hits]
        ranks.append(ids.index(query.gold_id) + 1 if query.gold_id in ids else None)
    assert sum(rank == 1 for rank in ranks) / len(ranks) >= 0.9
    assert all(rank is not None for rank in ranks)


def test_out_of_scope_queries_get_lower_confidence(small_index, embedder):
    queries = read_queries(QUERIES_SMALL)
    labels = [1 if q.gold_id else 0 for q in queries]
    scores = [search(small_index, embedder, q.text).confidence for q in queries]
    assert roc_auc_score(labels, scores) >= 0.9
    assert all(0.0 <= score <= 1.0 for score in scores)
    out_of_scope = [s for s, label in zip(scores, labels, strict=True) if not label]
    assert max(out_of_scope) < 0.5


def test_spanish_and_english_queries_find_their_articles(small_index, embedder):
    spanish = search(small_index, embedder, "se me ha bloqueado la cuenta")
    assert spanish.language == "es" and spanish.top.article.id == "es-cuenta"
    english = search(small_index, embedder, "the second screen stays black")
    assert english.language == "en" and english.top.article.id == "en-monitor"


def test_typos_still_match(small_index, embedder):
    assert search(small_index, embedder, "my printr is offline").top.article.id == "en-printer"
    assert search(small_index, embedder, "teh vpn wont conect").top.article.id == "en-vpn"


def test_excluded_articles_are_not_returned(small_index, embedder):
    result = search(small_index, embedder, "vpn not connecting", exclude={"en-vpn"})
    assert "en-vpn" not in [hit.article.id for hit in result.hits]


def test_empty_query_finds_nothing(small_index, embedder):
    result = search(small_index, embedder, "   ")
    assert result.hits == [] and result.confidence == 0.0 and result.top is None


def test_an_article_with_only_a_title_is_searchable(embedder, articles):
    tiny = [dataclasses.replace(articles[0], problem="", solution="", examples=()),
            *articles[1:3]]
    index = build_index(tiny, embedder)
    assert np.allclose(np.linalg.norm(index.centroids, axis=1), 1.0, atol=1e-4)
    assert search(index, embedder, "VPN won't connect").top.article.id == "en-vpn"


def test_bench_measures_a_small_synthetic_kb(embedder, articles):
    from supportbot.ai.bench import run, synthetic_kb

    kb = synthetic_kb(articles, 25)
    assert len({a.id for a in kb}) == 25 and "Contoso 0" in kb[0].title
    row = run(articles, embedder, 25, queries=10)
    assert row.articles == 25 and row.passages >= 25
    assert row.reindex_s > 0 and row.index_mb > row.raw_vectors_mb > 0
    assert 0 < row.hybrid_p50_ms <= row.hybrid_p95_ms and 0 < row.dense_p50_ms
    assert row.reindex_cpu_s > 0
    # The serving side ran in its own process, which loaded the saved index and the model.
    assert row.serve_peak_rss_mb > 100 and row.build_peak_rss_mb > 100


def test_reusing_vectors_gives_the_same_index(small_index, embedder, articles):
    from supportbot.ai.index import known_vectors

    rebuilt = build_index(articles, embedder, reuse=known_vectors(small_index))
    assert rebuilt.embedded_passages == 0
    assert np.array_equal(rebuilt.vectors, small_index.vectors)
    assert [h.article.id for h in search(rebuilt, embedder, "vpn keeps failing").hits] == [
        h.article.id for h in search(small_index, embedder, "vpn keeps failing").hits]


def test_the_index_trains_a_classifier_head_over_phrasings(small_index, embedder):
    assert small_index.head_weights.shape == (small_index.size, small_index.dimension)
    vpn = small_index.positions["en-vpn"]
    query = embedder.encode(["vpn keeps failing"])[0]
    logits = small_index.head_weights @ query + small_index.head_bias
    assert int(np.argmax(logits)) == vpn


def test_without_a_head_the_retriever_falls_back_to_centroids(small_index, embedder,
                                                               monkeypatch, articles):
    monkeypatch.setattr("supportbot.ai.index.HEAD_MAX_ARTICLES", len(articles) - 1)
    headless = build_index(articles, embedder)
    assert headless.head_weights is None and headless.head_bias is None
    result = search(headless, embedder, "vpn keeps failing")
    assert result.top.article.id == "en-vpn" and 0.0 <= result.confidence <= 1.0


def test_a_head_over_two_articles_is_a_two_way_softmax(embedder, articles):
    pair = [a for a in articles if a.id in ("en-vpn", "en-printer")]
    index = build_index(pair, embedder)
    for text, expected in (("vpn keeps failing", "en-vpn"), ("my printer says offline",
                                                              "en-printer")):
        assert search(index, embedder, text).top.article.id == expected


def test_the_best_articles_come_out_as_a_stable_sort_of_the_finite_scores():
    from supportbot.ai.retriever import _best

    scores = np.array([0.1, 0.5, -np.inf, 0.5, 0.3, 0.5, -np.inf], dtype=np.float32)
    assert _best(scores, 2) == [1, 3]  # ties keep article order, as a stable sort does
    assert _best(scores, 4) == [1, 3, 5, 4]
    assert _best(scores, 10) == [1, 3, 5, 4, 0]  # hidden (-inf) articles never come back
    assert _best(np.full(3, -np.inf), 2) == []


def test_embedding_bench_compares_backends_in_fresh_processes(articles):
    from supportbot.ai.bench import embedding_speed

    rows = embedding_speed(articles, "all-MiniLM-L6-v2", ("torch", "onnx"), passages=24,
                           queries=10)
    assert [(row.backend, row.passages, row.threads) for row in rows] == [
        ("torch", 24, 1), ("onnx", 24, 1)]
    torch_row, onnx_row = rows
    assert torch_row.cosine_min == 1.0 and onnx_row.cosine_min >= 0.9999
    for row in rows:
        assert 0 < row.query_p50_ms <= row.query_p95_ms and row.embed_cpu_s > 0
        assert 100 < row.rss_loaded_mb <= row.peak_rss_mb
    # The ONNX process never loaded torch: it holds much less.
    assert onnx_row.rss_loaded_mb < torch_row.rss_loaded_mb - 100


def test_the_fast_signals_are_the_straightforward_computations(small_index, embedder):
    """Each signal as the retriever computes it, against the plain computation it
    replaced: bm25s's own scoring, a loop over FAISS's passages, and the product of the
    query's TF-IDF vector with the whole article x n-gram matrix."""
    from scipy import sparse

    from supportbot.ai.index import lexical_text
    from supportbot.ai.retriever import DENSE_PASSAGES, _bm25, _char_scores, _dense_scores
    from supportbot.ai.text import query_stems

    index = small_index
    texts = [lexical_text(article) for article in index.articles]
    matrix = sparse.csr_matrix(index.char_vectorizer.transform(texts), dtype=np.float32)
    matrix.data = matrix.data.astype(np.float16).astype(np.float32)  # as stored
    assert len(index.char_columns.dense_columns) > 0  # the fixture KB has common n-grams
    for query in [q.text for q in read_queries(QUERIES_SMALL)] + ["the the the", "¿?"]:
        tokens = query_stems(query)
        known = [token for token in tokens if token in index.bm25.vocab_dict]
        bm25 = _bm25(index, tokens)
        expected = index.bm25.get_scores(known) if known else np.zeros(index.size)
        assert bm25.dtype == np.float32 and np.allclose(bm25, expected, atol=1e-5, rtol=1e-6)

        vector = embedder.encode([query])[0]
        similarities, rows = index.faiss_index.search(vector.reshape(1, -1), DENSE_PASSAGES)
        expected = np.full(index.size, similarities[0][rows[0] >= 0].min(), np.float32)
        seen = set()
        for similarity, row in zip(similarities[0], rows[0], strict=True):
            owner = index.passage_article[row] if row >= 0 else None
            if owner is not None and owner not in seen:
                seen.add(owner)
                expected[owner] = similarity
        assert np.array_equal(_dense_scores(index, vector), expected)

        full = (matrix @ index.char_vectorizer.transform([query]).T).toarray().ravel()
        char = _char_scores(index, query)
        assert char.dtype == np.float32 and np.allclose(char, full, atol=1e-6, rtol=0)
