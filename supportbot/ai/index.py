"""The search index over a knowledge base: dense passages in FAISS, BM25 over stems, and
character n-grams. Built from plain `ArticleRecord`s; knows nothing of databases.

Dense side: every article is cut into passages (title + problem, each alternative
phrasing, and the solution in windows of a few sentences); each passage is a unit vector
in FAISS and maps back to its article, whose dense score is its best passage. FAISS holds
the only copy of the vectors, in float16 (half the memory and disk of float32; cosines
change by about 1e-4, docs/retrieval.md).
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field

import bm25s
import faiss
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from supportbot.ai import ngrams
from supportbot.ai.embeddings import Embedder, build_threads
from supportbot.ai.ngrams import NgramColumns
from supportbot.ai.records import ArticleRecord
from supportbot.ai.text import stems

# Above this many passages an approximate (HNSW) index replaces the exact one. Measured
# with `supportbot bench --ann` (docs/retrieval.md): exact search costs 1.4 ms p50 at 25k
# passages and 4.5 ms at 50k, HNSW 0.2 ms, and HNSW returns all of the exact top 10 in
# its top 200 at every size; below 20k the exact index is both exact and under 1 ms.
HNSW_MIN_PASSAGES = 20_000
WINDOW_WORDS = 60
BM25_K1 = 1.2
# The classifier head is trained up to this many articles (fit time grows with
# articles x phrasings; measured in docs/retrieval.md), with this regularisation (dev).
HEAD_MAX_ARTICLES = 2000
HEAD_C = 10.0
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def passages_of(article: ArticleRecord) -> list[str]:
    """The texts one article is searched by (deduplicated, non-empty)."""
    head = article.title
    lines = [line.strip() for line in article.problem.splitlines() if line.strip()]
    if len(lines) == 1:
        head = f"{article.title}. {lines[0]}" if article.title else lines[0]
        lines = []
    texts = [head, *lines, *article.examples, *_windows(article.solution)]
    seen: dict[str, None] = {}
    for text in texts:
        text = text.strip()
        if text:
            seen.setdefault(text, None)
    return list(seen)


def _windows(text: str) -> list[str]:
    """Solution text in windows of whole sentences, about WINDOW_WORDS words, overlapping."""
    sentences = [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]
    windows, current, count = [], [], 0
    for sentence in sentences:
        size = len(sentence.split())
        if current and count + size > WINDOW_WORDS:
            windows.append(" ".join(current))
            current, count = current[-1:], len(current[-1].split())
        current.append(sentence)
        count += size
    if current:
        windows.append(" ".join(current))
    return windows


def lexical_text(article: ArticleRecord) -> str:
    # The title twice: it names the problem, so its words weigh more than the body's.
    return "\n".join([article.title, article.title, article.problem, article.solution,
                      *article.examples])


@dataclass
class SearchIndex:
    articles: list[ArticleRecord]
    model_name: str
    dimension: int
    passage_article: np.ndarray  # (passages,) int32: row -> article position
    faiss_index: faiss.Index  # unit passage vectors, float16
    bm25: bm25s.BM25
    char_vectorizer: Pipeline
    char_columns: NgramColumns  # by n-gram: a query reads only its own n-grams' articles
    centroids: np.ndarray  # (articles, dimension): mean of each article's phrasings
    idf: dict[str, float]  # BM25 idf of every stem in the KB
    positions: dict[str, int] = field(default_factory=dict)
    embedded_passages: int = 0  # passages this build had to embed (the rest were reused)
    # The kind of vectors (Embedder.precision): an index holds one kind only.
    embedding_precision: str = "float32"
    # Classifier head over phrasings: logits = vector @ head_weights.T + head_bias.
    head_weights: np.ndarray | None = None  # (articles, dimension)
    head_bias: np.ndarray | None = None  # (articles,)

    @property
    def size(self) -> int:
        return len(self.articles)

    @property
    def passages(self) -> int:
        return int(self.faiss_index.ntotal)

    @property
    def vectors(self) -> np.ndarray:
        """The passage vectors (float32, decoded from FAISS: a copy, not kept)."""
        if self.passages == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.faiss_index.reconstruct_n(0, self.passages)


def make_faiss_index(vectors: np.ndarray, dimension: int, threads: int = 1) -> faiss.Index:
    """`threads`: OpenMP threads building an HNSW graph (2: half the time of 1); this
    thread's FAISS calls are back to one thread after, as the retriever searches."""
    fp16 = faiss.ScalarQuantizer.QT_fp16
    if len(vectors) < HNSW_MIN_PASSAGES:
        index = faiss.IndexScalarQuantizer(dimension, fp16, faiss.METRIC_INNER_PRODUCT)
        if len(vectors):
            index.add(vectors)
        return index
    index = faiss.IndexHNSWSQ(dimension, fp16, 32, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 80
    index.hnsw.efSearch = 64
    faiss.omp_set_num_threads(threads)
    try:
        index.add(vectors)
    finally:
        faiss.omp_set_num_threads(1)
    return index


def bm25_idf(corpus: list[list[str]]) -> dict[str, float]:
    """idf as BM25 (Lucene variant, as bm25s) weighs a stem: log(1 + (N - df + .5)/(df + .5))."""
    frequency: dict[str, int] = {}
    for tokens in corpus:
        for token in set(tokens):
            frequency[token] = frequency.get(token, 0) + 1
    total = len(corpus)
    return {token: math.log(1 + (total - df + 0.5) / (df + 0.5)) for token, df in frequency.items()}


def build_lexical(articles: list[ArticleRecord]) -> tuple[bm25s.BM25, dict[str, float],
                                                            Pipeline, NgramColumns]:
    corpus = [stems(lexical_text(article), article.lang) or ["\u2205"] for article in articles]
    bm25 = bm25s.BM25(k1=BM25_K1, b=0.75)
    bm25.index(corpus, show_progress=False)
    # Hashed n-grams: no vocabulary to keep in memory or on disk, whatever the KB size.
    char_vectorizer, char_columns = ngrams.build([lexical_text(a) for a in articles])
    return bm25, bm25_idf(corpus), char_vectorizer, char_columns


def phrasing_centroids(vectors: np.ndarray, owners: np.ndarray, phrasing: np.ndarray,
                       count: int) -> np.ndarray:
    """Per article, the unit mean of the vectors of the ways it is asked (not its solution)."""
    centroids = np.zeros((count, vectors.shape[1] if vectors.ndim == 2 else 0), np.float32)
    if len(vectors):
        np.add.at(centroids, owners[phrasing], vectors[phrasing])
    norms = np.linalg.norm(centroids, axis=1, keepdims=True)
    return centroids / np.maximum(norms, 1e-9)


def fit_head(vectors: np.ndarray, owners: np.ndarray, phrasing: np.ndarray,
             count: int) -> tuple[np.ndarray, np.ndarray] | None:
    """A multinomial logistic classifier from a phrasing's vector to its article.

    Trained on the ways each article is asked, it learns which directions tell close
    articles apart, which a nearest-centroid score cannot (clinc150 dev R@1 +3 points,
    docs/retrieval.md). None for KBs too small to train it or too big to train it fast;
    the retriever then uses a softmax over the centroids instead.
    """
    labels = owners[phrasing]
    present = np.unique(labels)
    if len(present) < 2 or count > HEAD_MAX_ARTICLES:
        return None
    model = LogisticRegression(C=HEAD_C, max_iter=300)
    with warnings.catch_warnings():  # few phrasings per article is the normal case here
        warnings.simplefilter("ignore")
        model.fit(vectors[phrasing], labels)
    weights = np.zeros((count, vectors.shape[1]), np.float32)
    bias = np.full(count, -1e4, np.float32)  # articles without phrasings: never predicted
    classes = model.classes_.astype(int)
    if len(classes) == 2:  # binary: sklearn keeps one row; make it a two-way softmax
        weights[classes[1]], bias[classes[1]] = model.coef_[0] / 2, model.intercept_[0] / 2
        weights[classes[0]], bias[classes[0]] = -model.coef_[0] / 2, -model.intercept_[0] / 2
    else:
        weights[classes], bias[classes] = model.coef_, model.intercept_
    return weights, bias


def _embed(texts: list[str], embedder: Embedder, reuse: dict[str, np.ndarray],
           show_progress: bool, threads: int) -> tuple[np.ndarray, int]:
    """Vectors of `texts`, embedding only those not in `reuse`; and how many were embedded."""
    missing = list(dict.fromkeys(text for text in texts if text not in reuse))
    fresh = embedder.encode_many(missing, show_progress=show_progress, threads=threads)
    row_of = {text: row for row, text in enumerate(missing)}
    vectors = np.empty((len(texts), embedder.dimension), dtype=np.float32)
    for row, text in enumerate(texts):
        vectors[row] = reuse[text] if text in reuse else fresh[row_of[text]]
    return vectors, len(missing)


def known_vectors(index: SearchIndex) -> dict[str, np.ndarray]:
    """Passage text -> vector of an existing index (passages are in build order)."""
    texts = [text for article in index.articles for text in passages_of(article)]
    if len(texts) != index.passages:  # built by other passage rules: reuse nothing
        return {}
    return dict(zip(texts, index.vectors, strict=True))


def build_index(articles: list[ArticleRecord], embedder: Embedder, *,
                show_progress: bool = False,
                reuse: dict[str, np.ndarray] | None = None,
                threads: int | None = None) -> SearchIndex:
    """Index `articles` (already validated, unique ids, at least one).

    `threads`: for embedding and the HNSW graph (default INDEX_BUILD_THREADS, one per
    core; `embeddings.encode_many`).

    `reuse` (from `known_vectors` of the previous version, same model and precision:
    `store.load` checks both) saves embedding
    the passages that did not change: editing one article re-embeds only that article.
    """
    texts: list[str] = []
    owners: list[int] = []
    phrasing: list[bool] = []
    for position, article in enumerate(articles):
        windows = set(_windows(article.solution))
        for number, text in enumerate(passages_of(article)):
            texts.append(text)
            owners.append(position)
            phrasing.append(number == 0 or text not in windows)
    threads = build_threads(threads)
    vectors, embedded = _embed(texts, embedder, reuse or {}, show_progress, threads)
    owner_array = np.asarray(owners, dtype=np.int32)
    bm25, idf, char_vectorizer, char_columns = build_lexical(articles)
    phrasing_mask = np.asarray(phrasing, dtype=bool)
    head = fit_head(vectors, owner_array, phrasing_mask, len(articles))
    return SearchIndex(
        articles=list(articles),
        model_name=embedder.name,
        dimension=embedder.dimension,
        passage_article=owner_array,
        faiss_index=make_faiss_index(vectors, embedder.dimension, threads),
        bm25=bm25,
        char_vectorizer=char_vectorizer,
        char_columns=char_columns,
        centroids=phrasing_centroids(vectors, owner_array, phrasing_mask, len(articles)),
        idf=idf,
        positions={article.id: position for position, article in enumerate(articles)},
        embedded_passages=embedded,
        embedding_precision=embedder.precision,
        head_weights=head[0] if head else None,
        head_bias=head[1] if head else None,
    )
