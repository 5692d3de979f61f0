"""The character n-gram signal: TF-IDF over hashed character 3-5-grams of each article
(typos, cognates, product names), stored by n-gram so that a query reads only the
articles that share one of its n-grams.

Stored as three flat arrays (column-compressed: for each n-gram, the articles that
contain it and its weight there); weights in float16, which is precise to about 1e-3
on weights in [0, 1]. On disk they are plain .npy files that a server maps into memory
read-only: only the n-grams that queries use are ever read (docs/retrieval.md, "Speed
and memory").
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.feature_extraction import FeatureHasher
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer

from supportbot.ai.text import fold

FEATURES = 2**20
MIN_N, MAX_N = 3, 5
CHUNK = 1000  # texts hashed at a time
_FILES = ("indptr", "rows", "weights")


@dataclass
class NgramColumns:
    indptr: np.ndarray  # (FEATURES + 1,): n-gram j's entries are [indptr[j], indptr[j+1])
    rows: np.ndarray  # (entries,) int32: article positions
    weights: np.ndarray  # (entries,) float16: TF-IDF weight of the n-gram in that article
    articles: int

    def scores(self, query: sparse.csr_matrix) -> np.ndarray:
        """Cosine of every article with a query vector (1 x FEATURES, unit length)."""
        columns = query.indices
        starts = self.indptr[columns]
        lengths = self.indptr[columns + 1] - starts
        total = int(lengths.sum())
        if total == 0:
            return np.zeros(self.articles, dtype=np.float32)
        # Positions of all the entries of these columns, in one vector: each column's
        # run start, repeated, plus the place within the run.
        run_offsets = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
        entries = run_offsets + np.arange(total)
        weights = self.weights[entries].astype(np.float32) * np.repeat(
            query.data.astype(np.float32), lengths)
        return np.bincount(self.rows[entries], weights=weights,
                           minlength=self.articles).astype(np.float32)

    def save(self, folder: Path) -> None:
        for name in _FILES:
            np.save(folder / f"ngram_{name}.npy", getattr(self, name))

    @classmethod
    def load(cls, folder: Path, articles: int) -> NgramColumns:
        arrays = [np.load(folder / f"ngram_{name}.npy", mmap_mode="r") for name in _FILES]
        return cls(*arrays, articles=articles)


@functools.lru_cache(maxsize=2**17)
def _word_ngrams(word: str) -> tuple[str, ...]:
    """scikit-learn's `char_wb` n-grams of one word (3 to 5 characters, the word padded
    with a space each side), cached: a KB repeats its words far more than it has them."""
    padded = f" {word} "
    grams = []
    for size in range(MIN_N, MAX_N + 1):
        grams.extend(padded[start:start + size]
                     for start in range(max(1, len(padded) - size + 1)))
        if len(padded) <= size:  # a short word is one n-gram, whatever the size
            break
    return tuple(grams)


def char_ngrams(text: str) -> list[str]:
    grams: list[str] = []
    for word in fold(text).split():
        grams.extend(_word_ngrams(word))
    return grams


def ngram_counts(texts: list[str]) -> list[Counter]:
    return [Counter(char_ngrams(text)) for text in texts]


def build(texts: list[str]) -> tuple[Pipeline, NgramColumns]:
    """The fitted query vectorizer and the columns of `texts` (one per article)."""
    # The counts of HashingVectorizer(analyzer="char_wb", ngram_range=(3, 5)) over folded
    # text, made faster: n-grams cached per word, and counted before hashing.
    hashing = make_pipeline(
        FunctionTransformer(ngram_counts),
        FeatureHasher(n_features=FEATURES, input_type="dict", alternate_sign=False,
                      dtype=np.float32),
    )
    # In chunks: hashing keeps every raw n-gram of its input until it sums them, several
    # times the finished matrix for a whole 10k-article KB at once.
    counts = sparse.vstack([hashing.transform(texts[start:start + CHUNK])
                            for start in range(0, len(texts), CHUNK)], format="csr")
    tfidf = TfidfTransformer(sublinear_tf=True).fit(counts)
    matrix = sparse.csc_matrix(tfidf.transform(counts), dtype=np.float32)
    del counts
    matrix.sort_indices()
    columns = NgramColumns(matrix.indptr, matrix.indices.astype(np.int32),
                           matrix.data.astype(np.float16), len(texts))
    return make_pipeline(hashing, tfidf), columns
