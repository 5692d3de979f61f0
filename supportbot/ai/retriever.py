"""Hybrid retrieval and the confidence that its first article answers the query.

Five signals per article, fused with weights that depend on the query's language:
- dense: best cosine between the query and the article's passages (FAISS);
- centroid: cosine to the mean vector of the article's phrasings (title, problem, the
  ways users ask it) -- a nearest-centroid classifier over phrasings;
- head: probability from a logistic classifier trained on the phrasings at index time
  (a softmax over the centroids where the KB is too big to train it);
- bm25: BM25 over Snowball stems (both stemmers on the query), scaled by the best article;
- char: character 3-5-gram TF-IDF cosine, scaled by the best article (typos, cognates).
The embedding model is English-only, so Spanish queries lean on the lexical signals and
do not use the head.
Weights were chosen on dev data only; docs/retrieval.md has the measurements.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
from threadpoolctl import threadpool_limits

from supportbot.ai.embeddings import Embedder
from supportbot.ai.index import BM25_K1, SearchIndex
from supportbot.ai.ngrams import query_vector
from supportbot.ai.records import ArticleRecord
from supportbot.ai.text import detect_language, query_stems

DENSE_PASSAGES = 200  # passages fetched from FAISS per query

# (dense, centroid, bm25, char) by query language.
FUSION_WEIGHTS = {"en": (1.0, 0.5, 0.1, 0.2), "es": (0.25, 0.5, 0.1, 0.3)}

# Weight of the head's probability in the fused score (English and other queries).
HEAD_WEIGHT = 1.0
CENTROID_TEMPERATURE = 0.05  # softmax over centroids when the index has no trained head

FEATURE_NAMES = ("fused", "fused_margin", "bm25_coverage", "spanish", "spanish_bm25_coverage",
                 "spanish_char")
CONFIDENCE_FILE = Path(__file__).with_name("confidence.json")


def load_confidence_model(path: Path = CONFIDENCE_FILE) -> tuple[tuple[float, ...], float]:
    """Logistic model of P(first article is right), fitted on dev splits by
    `supportbot fit-confidence` (docs/retrieval.md)."""
    data = json.loads(path.read_text())
    if tuple(data["features"]) != FEATURE_NAMES:
        raise RuntimeError(f"{path} was fitted for other features; run supportbot fit-confidence")
    return tuple(float(w) for w in data["weights"]), float(data["bias"])


CONFIDENCE_WEIGHTS, CONFIDENCE_BIAS = load_confidence_model()


@dataclass(frozen=True)
class Hit:
    article: ArticleRecord
    score: float  # fused
    dense: float
    bm25: float
    char: float


@dataclass(frozen=True)
class SearchResult:
    hits: list[Hit]  # best first
    confidence: float
    features: tuple[float, ...]
    language: str

    @property
    def top(self) -> Hit | None:
        return self.hits[0] if self.hits else None


# One query at a time: FAISS's OpenMP threads only add overhead, and when the cores are
# busy (other requests, a reindex) they made an exact search of 10,000 passages take
# 31 ms instead of 0.3 ms (`supportbot bench --ann`, docs/retrieval.md).
faiss.omp_set_num_threads(1)
# The same for numpy's BLAS (the centroid and head products over every article): with
# its default two threads, a 10k-article query took twice the CPU time (18 against 9 ms
# p50, the embedding aside) on the shared cores.
threadpool_limits(1, user_api="blas")


def _dense_scores(index: SearchIndex, query_vector: np.ndarray) -> np.ndarray:
    scores = np.zeros(index.size, dtype=np.float32)
    if index.faiss_index.ntotal == 0:
        return scores
    k = min(DENSE_PASSAGES, index.faiss_index.ntotal)
    similarities, rows = index.faiss_index.search(query_vector.reshape(1, -1), k)
    found = rows[0] >= 0
    if not found.any():
        return scores
    similarities = similarities[0][found]
    # Best first: an article's score is its first passage in the list.
    owners, first = np.unique(index.passage_article[rows[0][found]], return_index=True)
    # Articles none of whose passages came back: the lowest similarity that did.
    scores[:] = similarities.min()
    scores[owners] = similarities[first]
    return scores


def _bm25(index: SearchIndex, tokens: list[str]) -> np.ndarray:
    """bm25s's `get_scores(known tokens)`, from its precomputed per-stem scores: the
    stems' runs concatenated and summed per article in one `bincount` (bm25s adds each
    stem with `np.add.at`, several times slower; same sums up to float32 rounding). The
    index's BM25 is Lucene's, which adds nothing for the stems an article lacks."""
    vocabulary = index.bm25.vocab_dict
    ids = [vocabulary[token] for token in tokens if token in vocabulary]
    if not ids:
        return np.zeros(index.size, dtype=np.float32)
    matrix = index.bm25.scores
    indptr = matrix["indptr"]
    runs = [(indptr[i], indptr[i + 1]) for i in ids]
    rows = np.concatenate([matrix["indices"][start:end] for start, end in runs])
    values = np.concatenate([matrix["data"][start:end] for start, end in runs])
    return np.bincount(rows, weights=values, minlength=index.size).astype(np.float32)


def _char_scores(index: SearchIndex, query: str) -> np.ndarray:
    # Only the articles that share an n-gram with the query are read: the product with
    # the whole matrix took most of a 10k-article query (docs/retrieval.md).
    return index.char_columns.scores(query_vector(index.char_vectorizer, query))


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max())
    return shifted / shifted.sum()


def _head(index: SearchIndex, query_vector: np.ndarray, centroid: np.ndarray) -> np.ndarray:
    """The head's probability per article, corrected for chance: (p - 1/n) / (1 - 1/n),
    at least 0. A classifier must pick one of its n articles even for a query none of
    them covers; with few articles that pick is near-certain and says nothing (with one
    article, p is always 1). Uniform p scores 0, and a one-article KB gets no head term."""
    count = index.size
    if count < 2:
        return np.zeros(count, dtype=np.float32)
    if index.head_weights is not None and index.head_bias is not None:
        probability = _softmax(index.head_weights @ query_vector + index.head_bias)
    else:
        probability = _softmax(centroid / CENTROID_TEMPERATURE)
    chance = 1.0 / count
    return np.maximum(probability - chance, 0.0) / (1.0 - chance)


def _best(scores: np.ndarray, count: int) -> list[int]:
    """Positions of the `count` highest finite scores, best first, ties by position (as a
    stable sort of all of them, without sorting every article)."""
    finite = np.flatnonzero(np.isfinite(scores))
    if len(finite) > count:
        cutoff = np.partition(scores[finite], len(finite) - count)[len(finite) - count]
        finite = finite[scores[finite] >= cutoff]  # keeps every tie at the cut-off
    chosen = finite[np.argsort(-scores[finite], kind="stable")]
    return [int(i) for i in chosen[:count]]


def _scaled(scores: np.ndarray) -> np.ndarray:
    top = float(scores.max()) if scores.size else 0.0
    return scores / top if top > 0 else scores


def _features(top: int, second: int | None, fused: np.ndarray, bm25: np.ndarray,
              char: np.ndarray, tokens: list[str], idf: dict[str, float],
              spanish: bool) -> tuple[float, ...]:
    # BM25 of the top article over the most a document could score for these stems.
    ceiling = (BM25_K1 + 1) * sum(idf.get(token, 0.0) for token in set(tokens))
    bm25_coverage = float(bm25[top] / ceiling) if ceiling > 0 else 0.0
    language = 1.0 if spanish else 0.0
    return (
        float(fused[top]),
        float(fused[top] - fused[second]) if second is not None else float(fused[top]),
        bm25_coverage,
        language,
        language * bm25_coverage,
        language * float(char[top]),
    )


def confidence_of(features: tuple[float, ...]) -> float:
    """Calibrated P(first article is right) in [0, 1] (logistic model)."""
    z = CONFIDENCE_BIAS + sum(w * f for w, f in zip(CONFIDENCE_WEIGHTS, features, strict=True))
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


def search(index: SearchIndex, embedder: Embedder, query: str, *, k: int = 5,
           exclude: Collection[str] = ()) -> SearchResult:
    """The `k` best articles for `query` and the confidence that the first is right.

    `exclude` hides article ids, as if they were not in the KB (used by evaluation).
    """
    language = detect_language(query)
    if index.size == 0 or not query.strip():
        return SearchResult([], 0.0, (), language)
    query_vector = embedder.encode([query])[0]
    dense = _dense_scores(index, query_vector)
    centroid = index.centroids @ query_vector
    tokens = query_stems(query)
    bm25 = _bm25(index, tokens)
    char = _char_scores(index, query)
    w_dense, w_centroid, w_bm25, w_char = FUSION_WEIGHTS.get(language, FUSION_WEIGHTS["en"])
    fused = w_dense * dense + w_centroid * centroid + w_bm25 * _scaled(bm25) + w_char * _scaled(char)
    if language != "es":
        fused = fused + HEAD_WEIGHT * _head(index, query_vector, centroid)
    hidden = [index.positions[article_id] for article_id in exclude if article_id in index.positions]
    if hidden:
        fused[hidden] = -np.inf
        dense = dense.copy()
        dense[hidden] = -1.0
    order = _best(fused, max(k, 2))
    if not order:
        return SearchResult([], 0.0, (), language)
    features = _features(order[0], order[1] if len(order) > 1 else None, fused, bm25, char,
                         tokens, index.idf, language == "es")
    hits = [Hit(index.articles[i], float(fused[i]), float(dense[i]), float(bm25[i]),
                float(char[i])) for i in order[:k]]
    return SearchResult(hits, confidence_of(features), features, language)
