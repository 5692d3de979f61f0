import dataclasses
import json

import numpy as np
import pytest

from supportbot.ai import store
from supportbot.ai.index import build_index
from supportbot.ai.retriever import search

MINILM = {"model_name": "all-MiniLM-L6-v2", "dimension": 384}


def ids(result):
    return [hit.article.id for hit in result.hits]


def test_save_and_load_give_the_same_answers(tmp_path, small_index, embedder):
    meta = store.save(small_index, tmp_path)
    assert store.current_version(tmp_path) == meta["version"]
    assert meta["model_name"] == "all-MiniLM-L6-v2" and meta["dimension"] == 384
    assert meta["articles"] == 10 and meta["passages"] == len(small_index.vectors)
    assert set(meta) >= {"kb_revision", "created_at"}
    loaded = store.load(tmp_path, **MINILM, precision=small_index.embedding_precision)
    for query in ("vpn keeps failing", "la impresora tiene un atasco", "pizza recipe"):
        before, after = search(small_index, embedder, query), search(loaded, embedder, query)
        assert ids(before) == ids(after)
        assert after.confidence == pytest.approx(before.confidence, abs=1e-6)


def test_kb_revision_follows_content(articles):
    assert store.kb_revision(articles) == store.kb_revision(list(reversed(articles)))
    assert store.kb_revision(articles) != store.kb_revision(articles[1:])


def test_an_index_of_another_model_is_refused(tmp_path, small_index):
    store.save(small_index, tmp_path)
    with pytest.raises(store.IndexMismatch, match="built with all-MiniLM-L6-v2"):
        store.load(tmp_path, model_name="another-model", dimension=384,
                   precision=small_index.embedding_precision)
    with pytest.raises(store.IndexMismatch):
        store.load(tmp_path, model_name="all-MiniLM-L6-v2", dimension=768,
                   precision=small_index.embedding_precision)


def test_no_index_yet(tmp_path):
    with pytest.raises(store.IndexUnavailable, match="supportbot reindex"):
        store.load(tmp_path, **MINILM, precision="float32")


def test_a_crash_mid_build_leaves_the_old_index_serving(tmp_path, small_index, embedder,
                                                        articles, monkeypatch):
    old = store.save(small_index, tmp_path)
    smaller = build_index(articles[:3], embedder)

    def crash(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store.np, "save", crash)
    with pytest.raises(OSError):
        store.save(smaller, tmp_path)
    monkeypatch.undo()
    assert store.current_version(tmp_path) == old["version"]
    loaded = store.load(tmp_path, **MINILM, precision=small_index.embedding_precision)
    assert loaded.size == 10
    assert not list(tmp_path.glob(".building-*"))  # the half-written version is gone


def test_old_versions_are_pruned(tmp_path, small_index):
    for _ in range(store.KEEP_VERSIONS + 2):
        store.save(small_index, tmp_path)
    versions = [p for p in tmp_path.iterdir() if p.is_dir() and p.name.startswith("v")]
    assert len(versions) == store.KEEP_VERSIONS
    assert store.current_version(tmp_path) in {p.name for p in versions}


def test_live_index_picks_up_a_new_version(tmp_path, small_index, embedder, articles):
    store.save(build_index(articles[:3], embedder), tmp_path)
    live = store.LiveIndex(tmp_path, **MINILM, precision=small_index.embedding_precision,
                           check_seconds=0)
    assert live.get().size == 3
    meta = store.save(small_index, tmp_path)
    assert live.get().size == 10 and live.version == meta["version"]


def test_live_index_reports_a_mismatch_once_and_keeps_serving(tmp_path, small_index):
    store.save(small_index, tmp_path)
    reports = []
    live = store.LiveIndex(tmp_path, **MINILM, precision=small_index.embedding_precision,
                           on_mismatch=reports.append, check_seconds=0)
    served = live.get()
    meta = store.save(small_index, tmp_path)
    meta_path = tmp_path / meta["version"] / "meta.json"
    meta_path.write_text(json.dumps({**meta, "model_name": "other-model"}))
    assert live.get() is served  # the old version keeps answering
    assert live.get() is served
    assert len(reports) == 1 and "other-model" in str(reports[0])

    fresh = store.LiveIndex(tmp_path, **MINILM, precision=small_index.embedding_precision,
                            on_mismatch=reports.append, check_seconds=0)
    with pytest.raises(store.IndexMismatch):
        fresh.get()
    assert len(reports) == 2
    assert np.all(np.isfinite(served.vectors))


def test_the_head_survives_save_and_load(tmp_path, small_index):
    store.save(small_index, tmp_path)
    loaded = store.load(tmp_path, **MINILM, precision=small_index.embedding_precision)
    assert np.array_equal(loaded.head_weights, small_index.head_weights)
    assert np.array_equal(loaded.head_bias, small_index.head_bias)


def test_vectors_are_kept_once_in_float16(tmp_path, articles):
    from supportbot.ai.embeddings import get_embedder
    from supportbot.ai.index import passages_of

    # float32 vectors: int8 ones also depend a little on the batch a text is embedded in
    # (docs/retrieval.md, "int8 vectors"), which would hide what float16 storage loses
    embedder = get_embedder("all-MiniLM-L6-v2", "float32")
    assert embedder.precision == "float32"
    meta = store.save(build_index(articles, embedder), tmp_path)
    assert not (tmp_path / meta["version"] / "vectors.npy").exists()
    loaded = store.load(tmp_path, **MINILM, precision="float32")
    texts = [text for article in loaded.articles for text in passages_of(article)]
    exact = embedder.encode(texts)  # float32, straight from the model
    stored = loaded.vectors
    assert stored.dtype == np.float32 and stored.shape == exact.shape
    # float16 keeps about 3 significant digits: each cosine moves by less than 1e-3
    assert not np.array_equal(stored, exact)
    assert np.abs(np.sum(stored * exact, axis=1) - 1).max() < 1e-3


def test_an_index_of_an_older_format_is_refused(tmp_path, small_index):
    meta = store.save(small_index, tmp_path)
    meta_file = tmp_path / meta["version"] / "meta.json"
    meta_file.write_text(json.dumps({**meta, "format": 2}))
    with pytest.raises(store.IndexMismatch, match="format"):
        store.load(tmp_path, **MINILM, precision=small_index.embedding_precision)


def test_the_kind_of_vectors_is_recorded_and_another_kind_refused(tmp_path, small_index,
                                                                  embedder):
    meta = store.save(small_index, tmp_path)
    assert meta["embedding_precision"] == small_index.embedding_precision == embedder.precision
    other = {"float32": "int8", "int8": "float32"}[embedder.precision]
    with pytest.raises(store.IndexMismatch, match=f"holds {embedder.precision} vectors; the "
                                                  f"configured embedder makes {other}"):
        store.load(tmp_path, **MINILM, precision=other)
    loaded = store.load(tmp_path, **MINILM, precision=embedder.precision)
    assert loaded.embedding_precision == embedder.precision


def test_an_index_from_before_the_field_holds_float32_vectors(tmp_path, small_index):
    meta = store.save(small_index, tmp_path)
    older = {key: value for key, value in meta.items() if key != "embedding_precision"}
    (tmp_path / meta["version"] / "meta.json").write_text(json.dumps(older))
    assert store.load(tmp_path, **MINILM, precision="float32").embedding_precision == "float32"
    with pytest.raises(store.IndexMismatch, match="holds float32 vectors"):
        store.load(tmp_path, **MINILM, precision="int8")


def test_live_index_refuses_another_precision_once_and_follows_a_change(tmp_path, small_index):
    own = small_index.embedding_precision
    other = {"float32": "int8", "int8": "float32"}[own]
    store.save(small_index, tmp_path)
    reports = []
    live = store.LiveIndex(tmp_path, **MINILM, precision=own, on_mismatch=reports.append,
                           check_seconds=0)
    served = live.get()
    live.follow("all-MiniLM-L6-v2", 384, other)  # EMBEDDING_PRECISION changed
    assert live.get() is served and live.get() is served  # the old one keeps answering
    assert len(reports) == 1 and f"holds {own} vectors" in str(reports[0])
    meta = store.save(dataclasses.replace(small_index, embedding_precision=other), tmp_path)
    rebuilt = live.get()  # the rebuild with the new precision is current: served at once
    assert rebuilt is not served and rebuilt.embedding_precision == other
    assert live.version == meta["version"] and len(reports) == 1


def test_a_format_3_index_still_serves_the_same_answers(tmp_path, small_index, embedder):
    # Format 3 kept every character n-gram column-compressed, with no ngram_dense*.npy.
    from scipy import sparse

    from supportbot.ai.index import lexical_text
    from supportbot.ai.ngrams import NgramColumns

    meta = store.save(small_index, tmp_path)
    folder = tmp_path / meta["version"]
    (folder / "meta.json").write_text(json.dumps({**meta, "format": 3}))
    texts = [lexical_text(article) for article in small_index.articles]
    matrix = sparse.csc_matrix(small_index.char_vectorizer.transform(texts), dtype=np.float32)
    matrix.sort_indices()
    for name in ("dense_columns", "dense"):
        (folder / f"ngram_{name}.npy").unlink()
    NgramColumns.from_matrix(matrix, dense_min_share=2.0).save(folder)  # nothing dense
    for name in ("dense_columns", "dense"):
        (folder / f"ngram_{name}.npy").unlink()
    loaded = store.load(tmp_path, **MINILM, precision=small_index.embedding_precision)
    assert len(loaded.char_columns.dense_columns) == 0
    assert len(small_index.char_columns.dense_columns) > 0
    for query in ("vpn keeps failing", "la impresora tiene un atasco", "pizza recipe"):
        before, after = search(small_index, embedder, query), search(loaded, embedder, query)
        assert ids(before) == ids(after)
        assert after.confidence == pytest.approx(before.confidence, abs=1e-6)
        assert [hit.char for hit in after.hits] == pytest.approx(
            [hit.char for hit in before.hits], abs=1e-6)


@pytest.fixture
def small_disk(tmp_path):
    """A tmpfs of its own, resized or made read-only by the test (needs root)."""
    import subprocess

    folder = tmp_path / "disk"
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(folder)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")

    def remount(options: str) -> None:
        subprocess.run(["mount", "-o", f"remount,{options}", str(folder)], check=True)

    try:
        yield folder, remount
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_full_or_read_only_disk_leaves_the_old_version_current_and_no_debris(
        small_disk, small_index):
    """The disk fills up (or turns read-only) while a new version is written: the error
    says so, the old version stays current and whole, and nothing half-written is left
    to keep the disk full; once there is room, the next save works."""
    import errno
    import os

    folder, remount = small_disk
    root = folder / "index"
    old = store.save(small_index, root)
    used = sum(item.stat().st_size for item in root.rglob("*") if item.is_file())
    remount(f"size={int(used * 1.5)}")  # room for one version, not two
    with pytest.raises(OSError) as full:
        store.save(small_index, root)
    assert full.value.errno == errno.ENOSPC
    assert store.current_version(root) == old["version"]
    assert store.load(root, **MINILM, precision=small_index.embedding_precision).size == 10
    assert sorted(p.name for p in root.iterdir()) == ["CURRENT", old["version"]]

    remount("ro")
    with pytest.raises(OSError) as read_only:
        store.save(small_index, root)
    assert read_only.value.errno == errno.EROFS
    assert store.current_version(root) == old["version"]

    remount("rw,size=64m")
    new = store.save(small_index, root)
    assert store.current_version(root) == new["version"] != old["version"]
    assert os.access(root / new["version"] / "meta.json", os.R_OK)
