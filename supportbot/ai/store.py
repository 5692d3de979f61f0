"""The search index on disk: versioned, written atomically, reloaded when it changes.

Layout under FAISS_INDEX_PATH (docs/embedding-versioning.md):

    CURRENT                 name of the version being served (replaced atomically)
    v<time>-<id>/           one complete version
        meta.json           model name, dimension, embedding precision, KB revision,
                            created_at, counts
        articles.jsonl      the records indexed
        faiss.index  passage_article.npy  centroids.npy  [head.npz]  lexical.pkl
        ngram_indptr.npy  ngram_rows.npy  ngram_weights.npy   (memory-mapped when read)
        ngram_dense_columns.npy  ngram_dense.npy              (the common n-grams, dense)
    .building-<id>/         a version being written (never read; removed when stale)

A version is written to `.building-*`, renamed into place, and only then named in
CURRENT. A crash at any point leaves the previous version serving.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

import faiss
import numpy as np

from supportbot.ai.index import SearchIndex
from supportbot.ai.ngrams import NgramColumns
from supportbot.ai.records import ArticleRecord, parse_article

# 2: classifier head (head.npz); 3: vectors only in faiss.index (float16), no vectors.npy;
# character n-grams by column in ngram_*.npy (float16 weights), not in lexical.pkl;
# 4: the n-grams in a third of the articles or more apart, dense (ngram_dense*.npy).
FORMAT = 4
READABLE_FORMATS = (3, 4)  # a format 3 index reads with every n-gram column-compressed
KEEP_VERSIONS = 3


class IndexUnavailable(RuntimeError):
    """No usable index on disk (none built yet, or built by another model)."""


class IndexMismatch(IndexUnavailable):
    """The index on disk was built by another embedding model, dimension or precision
    (float32 or int8 vectors), or has another layout."""


def precision_of(meta: dict[str, object]) -> str:
    """The kind of vectors a version holds; versions from before the field are float32."""
    return str(meta.get("embedding_precision") or "float32")


def kb_revision(articles: list[ArticleRecord]) -> str:
    """A fingerprint of the KB content: equal iff the same articles with the same text."""
    digest = hashlib.sha256()
    for article in sorted(articles, key=lambda a: a.id):
        digest.update(json.dumps(asdict(article), sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()[:16]


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def save(index: SearchIndex, root: Path) -> dict[str, object]:
    """Write `index` as a new version under `root` and make it current. Returns its meta."""
    root.mkdir(parents=True, exist_ok=True)
    version = f"v{datetime.now(timezone.utc):%Y%m%d%H%M%S%f}-{secrets.token_hex(3)}"
    building = root / f".building-{version}"
    building.mkdir()
    meta = {
        "format": FORMAT,
        "version": version,
        "model_name": index.model_name,
        "dimension": index.dimension,
        "embedding_precision": index.embedding_precision,
        "kb_revision": kb_revision(index.articles),
        "created_at": datetime.now(timezone.utc).isoformat(),
        "articles": index.size,
        "passages": index.passages,
        "faiss": type(index.faiss_index).__name__,
    }
    try:
        with (building / "articles.jsonl").open("w", encoding="utf-8") as handle:
            for article in index.articles:
                handle.write(json.dumps(asdict(article), ensure_ascii=False) + "\n")
        faiss.write_index(index.faiss_index, str(building / "faiss.index"))
        np.save(building / "passage_article.npy", index.passage_article)
        np.save(building / "centroids.npy", index.centroids)
        if index.head_weights is not None:
            np.savez(building / "head.npz", weights=index.head_weights, bias=index.head_bias)
        with (building / "lexical.pkl").open("wb") as handle:
            pickle.dump({"bm25": index.bm25, "char_vectorizer": index.char_vectorizer,
                         "idf": index.idf}, handle)
        index.char_columns.save(building)
        (building / "meta.json").write_text(json.dumps(meta, indent=1))
        for item in building.iterdir():
            with item.open("rb") as handle:
                os.fsync(handle.fileno())
        final = root / version
        os.replace(building, final)
    except BaseException:
        # A full or read-only disk, any error: the half-written version goes at once (a
        # full disk stays full otherwise, and the retry fails again); CURRENT never
        # named it. A killed process cannot do this: `_prune` removes its folder later.
        shutil.rmtree(building, ignore_errors=True)
        raise
    try:
        _point_current(root, version)
    except BaseException:
        if current_version(root) != version:  # not named: the space goes back
            shutil.rmtree(final, ignore_errors=True)
        raise
    _prune(root, keep=version)
    return meta


def _point_current(root: Path, version: str) -> None:
    pointer = root / f".CURRENT-{secrets.token_hex(4)}"
    try:
        pointer.write_text(version + "\n")
        with pointer.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(pointer, root / "CURRENT")
    except BaseException:
        pointer.unlink(missing_ok=True)
        raise
    _fsync_dir(root)


def _prune(root: Path, keep: str) -> None:
    versions = sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith("v"))
    for old in versions[:-KEEP_VERSIONS]:
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)
    for stale in root.glob(".building-*"):
        if time.time() - stale.stat().st_mtime > 3600:  # a crashed build
            shutil.rmtree(stale, ignore_errors=True)


def current_version(root: Path) -> str | None:
    try:
        return (root / "CURRENT").read_text().strip() or None
    except FileNotFoundError:
        return None


def read_meta(root: Path, version: str | None = None) -> dict[str, object]:
    version = version or current_version(root)
    if not version:
        raise IndexUnavailable(f"no index at {root} yet (run `supportbot reindex`)")
    try:
        return json.loads((root / version / "meta.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError) as error:
        raise IndexUnavailable(f"index version {version} at {root} is unreadable: {error}") from None


def load(root: Path, *, model_name: str, dimension: int, precision: str) -> SearchIndex:
    """Load the current version; IndexMismatch if another model, dimension or precision
    (`Embedder.precision`) built it, or it has another format."""
    meta = read_meta(root)
    if meta.get("format") not in READABLE_FORMATS:
        raise IndexMismatch(f"index format {meta.get('format')} is not {FORMAT}")
    if meta["model_name"] != model_name or meta["dimension"] != dimension:
        raise IndexMismatch(
            f"index {meta['version']} was built with {meta['model_name']} "
            f"({meta['dimension']} dimensions); the configured model is {model_name} "
            f"({dimension} dimensions)"
        )
    if precision_of(meta) != precision:
        raise IndexMismatch(
            f"index {meta['version']} holds {precision_of(meta)} vectors; the configured "
            f"embedder makes {precision} ones (EMBEDDING_PRECISION)"
        )
    folder = root / str(meta["version"])
    with (folder / "articles.jsonl").open(encoding="utf-8") as handle:
        articles = [parse_article(json.loads(line), f"{folder}/articles.jsonl:{number}")
                    for number, line in enumerate(handle, start=1)]
    with (folder / "lexical.pkl").open("rb") as handle:
        lexical = pickle.load(handle)  # noqa: S301 - our own file, written by save()
    head = np.load(folder / "head.npz") if (folder / "head.npz").exists() else None
    return SearchIndex(
        articles=articles,
        model_name=str(meta["model_name"]),
        dimension=int(meta["dimension"]),
        embedding_precision=precision_of(meta),
        passage_article=np.load(folder / "passage_article.npy"),
        faiss_index=faiss.read_index(str(folder / "faiss.index")),
        bm25=lexical["bm25"],
        char_vectorizer=lexical["char_vectorizer"],
        char_columns=NgramColumns.load(folder, len(articles)),
        centroids=np.load(folder / "centroids.npy"),
        idf=lexical["idf"],
        positions={article.id: position for position, article in enumerate(articles)},
        head_weights=head["weights"] if head is not None else None,
        head_bias=head["bias"] if head is not None else None,
    )


class LiveIndex:
    """The index a running process serves; picks up a newer version without a restart.

    `get()` looks at CURRENT at most every `check_seconds` and reloads when it changed.
    An index built by another model or precision is refused and `on_mismatch` is called
    once (the app schedules a rebuild there); the index already loaded keeps serving
    meanwhile (search it with its own `model_name` and `embedding_precision`), and with
    none loaded `get()` raises IndexUnavailable.
    """

    def __init__(self, root: Path, *, model_name: str, dimension: int, precision: str,
                 on_mismatch: Callable[[IndexMismatch], None] | None = None,
                 check_seconds: float = 1.0) -> None:
        self.root = root
        self.model_name = model_name
        self.dimension = dimension
        self.precision = precision
        self.on_mismatch = on_mismatch
        self.check_seconds = check_seconds
        self._index: SearchIndex | None = None
        self._version: str | None = None
        self._checked = 0.0
        self._reported: str | None = None
        self._lock = threading.Lock()

    @property
    def version(self) -> str | None:
        return self._version

    def follow(self, model_name: str, dimension: int, precision: str) -> None:
        """Expect indexes built by this model and precision from now on (a fine-tuned
        version was activated, or EMBEDDING_PRECISION changed). The loaded index keeps
        serving until one built by it is current."""
        if (model_name, dimension, precision) != (self.model_name, self.dimension,
                                                  self.precision):
            with self._lock:
                self.model_name, self.dimension = model_name, dimension
                self.precision = precision
                self._checked, self._reported = 0.0, None

    def get(self) -> SearchIndex:
        now = time.monotonic()
        if self._index is not None and now - self._checked < self.check_seconds:
            return self._index
        with self._lock:
            self._checked = now
            version = current_version(self.root)
            stale = self._index is not None and (
                self._index.model_name != self.model_name
                or self._index.embedding_precision != self.precision)
            if version and (version != self._version or stale):
                try:
                    self._index = load(self.root, model_name=self.model_name,
                                       dimension=self.dimension, precision=self.precision)
                    self._version = version
                except IndexMismatch as error:
                    if self._reported != version and self.on_mismatch:
                        self._reported = version
                        self.on_mismatch(error)
                    if self._index is None:
                        raise
            if self._index is None:
                raise IndexUnavailable(f"no index at {self.root} yet (run `supportbot reindex`)")
            return self._index
