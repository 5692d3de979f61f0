"""The character n-gram signal: TF-IDF over hashed character 3-5-grams of each article
(typos, cognates, product names), stored by n-gram so that a query reads only the
articles that share one of its n-grams.

Stored as three flat arrays (column-compressed: for each n-gram, the articles that
contain it and its weight there); weights in float16, which is precise to about 1e-3
on weights in [0, 1]. The n-grams found in at least a third of the articles (" th",
"ing ") are stored apart, as dense float32 rows of one weight per article (the same
float16-rounded weights): no larger than their column-compressed entries (6 bytes each),
and a query adds them with one matrix product instead of scattering some 100,000
entries. On disk they are plain .npy files that a server maps into memory read-only:
only the n-grams that queries use are ever read (docs/retrieval.md, "Speed and memory").
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
from sklearn.utils import murmurhash3_32

from supportbot.ai.text import fold

FEATURES = 2**20
MIN_N, MAX_N = 3, 5
CHUNK = 1000  # texts hashed at a time
DENSE_MIN_SHARE = 1 / 3  # n-grams in at least this share of the articles are stored dense
_FILES = ("indptr", "rows", "weights")
_DENSE_FILES = ("dense_columns", "dense")


@dataclass(frozen=True)
class QueryVector:
    """A text's TF-IDF vector, as the fitted vectorizer makes it: its n-gram columns
    (ascending) and their weights (unit length)."""

    indices: np.ndarray  # int32
    data: np.ndarray  # float32


@dataclass
class NgramColumns:
    indptr: np.ndarray  # (FEATURES + 1,): n-gram j's entries are [indptr[j], indptr[j+1])
    rows: np.ndarray  # (entries,) int32: article positions
    weights: np.ndarray  # (entries,) float16: TF-IDF weight of the n-gram in that article
    articles: int
    # The common n-grams, not in the arrays above (their runs are empty there):
    dense_columns: np.ndarray | None = None  # (common,) int32, ascending
    dense: np.ndarray | None = None  # (common, articles) float32: weight per article

    def __post_init__(self) -> None:
        if self.dense_columns is None or self.dense is None:
            self.dense_columns = np.zeros(0, np.int32)
            self.dense = np.zeros((0, self.articles), np.float32)

    def scores(self, query: sparse.csr_matrix | QueryVector) -> np.ndarray:
        """Cosine of every article with a query vector (1 x FEATURES, unit length)."""
        if isinstance(query, QueryVector):
            columns, values = query.indices, query.data
        else:
            columns, values = query.indices, query.data.astype(np.float32)
        if len(self.dense_columns) and len(columns):
            place = np.minimum(np.searchsorted(self.dense_columns, columns),
                               len(self.dense_columns) - 1)
            common = self.dense_columns[place] == columns
            if common.any():
                result = values[common] @ self.dense[place[common]]
                result += self._sparse_scores(columns[~common], values[~common])
                return result
        return self._sparse_scores(columns, values)

    def _sparse_scores(self, columns: np.ndarray, values: np.ndarray) -> np.ndarray:
        """The columns' entries (contiguous runs, concatenated) summed per article."""
        starts = self.indptr[columns]
        ends = self.indptr[columns + 1]
        lengths = ends - starts
        total = int(lengths.sum())
        if total == 0:
            return np.zeros(self.articles, dtype=np.float32)
        kept = np.flatnonzero(lengths)
        weights = np.concatenate([self.weights[starts[i]:ends[i]] for i in kept]).astype(
            np.float32)
        weights *= np.repeat(values[kept], lengths[kept])
        rows = np.concatenate([self.rows[starts[i]:ends[i]] for i in kept])
        return np.bincount(rows, weights=weights, minlength=self.articles).astype(np.float32)

    def save(self, folder: Path) -> None:
        for name in (*_FILES, *_DENSE_FILES):
            np.save(folder / f"ngram_{name}.npy", getattr(self, name))

    @classmethod
    def load(cls, folder: Path, articles: int) -> NgramColumns:
        arrays = [_mapped(folder / f"ngram_{name}.npy") for name in _FILES]
        dense = {name: _mapped(folder / f"ngram_{name}.npy")
                 for name in _DENSE_FILES if (folder / f"ngram_{name}.npy").exists()}
        # Index format 3 had no dense part: every n-gram is in the arrays above.
        return cls(*arrays, articles=articles, **(dense if len(dense) == 2 else {}))

    @classmethod
    def from_matrix(cls, matrix: sparse.csc_matrix,
                    dense_min_share: float = DENSE_MIN_SHARE) -> NgramColumns:
        """Articles x FEATURES TF-IDF (sorted indices), the common n-grams split out."""
        articles = matrix.shape[0]
        weights = matrix.data.astype(np.float16)
        frequency = np.diff(matrix.indptr)
        common = frequency >= max(1.0, dense_min_share * articles)
        dense_columns = np.flatnonzero(common).astype(np.int32)
        dense = np.zeros((len(dense_columns), articles), np.float32)
        for row, column in enumerate(dense_columns):
            start, end = matrix.indptr[column], matrix.indptr[column + 1]
            dense[row, matrix.indices[start:end]] = weights[start:end]
        keep = ~np.repeat(common, frequency)
        indptr = np.zeros(len(frequency) + 1, dtype=matrix.indptr.dtype)
        np.cumsum(np.where(common, 0, frequency), out=indptr[1:])
        return cls(indptr, matrix.indices[keep].astype(np.int32), weights[keep], articles,
                   dense_columns, dense)


def _mapped(path: Path) -> np.ndarray:
    """A read-only memory map of a .npy file, as a plain ndarray view: slicing an
    np.memmap runs Python code for each slice (about 4 us; a query takes ~100 slices)."""
    return np.load(path, mmap_mode="r").view(np.ndarray)


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
    return make_pipeline(hashing, tfidf), NgramColumns.from_matrix(matrix)


@functools.lru_cache(maxsize=2**16)
def _word_columns(word: str, features: int) -> tuple[int, ...]:
    """FeatureHasher's columns for the n-grams of one word (murmurhash3, seed 0, no
    alternate sign), one per n-gram as `_word_ngrams` makes them."""
    columns = []
    for gram in _word_ngrams(word):
        code = murmurhash3_32(gram, seed=0)
        columns.append((2**31 - 1 - (features - 1)) % features if code == -2**31
                       else abs(code) % features)
    return tuple(columns)


def query_vector(vectorizer: Pipeline, text: str) -> QueryVector:
    """`vectorizer.transform([text])` (the pipeline `build` returns), without
    scikit-learn's per-call validation, which took most of the time of a query's
    vector: counts of hashed n-grams, 1 + log(count), times idf, L2-normalised, in
    float32 as scikit-learn computes it (tests/ai/test_ngrams.py compares the two)."""
    hasher = vectorizer[0][-1]
    tfidf = vectorizer[-1]
    features = hasher.n_features
    columns = [column for word in fold(text).split()
               for column in _word_columns(word, features)]
    if not columns:
        return QueryVector(np.zeros(0, np.int32), np.zeros(0, np.float32))
    indices, counts = np.unique(np.asarray(columns, dtype=np.int32), return_counts=True)
    data = counts.astype(np.float32)
    np.log(data, out=data)  # sublinear tf, as `build` fits it
    data += 1.0
    data *= tfidf.idf_[indices]
    norm = np.sqrt(np.sum(np.square(data), dtype=np.float64))
    if norm > 0:
        data = (data / norm).astype(np.float32)
    return QueryVector(indices, data.astype(np.float32, copy=False))
