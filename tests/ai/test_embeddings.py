"""The ONNX Runtime embedding path against sentence-transformers on torch, the export
cache, and the fallback to torch.

tests/fixtures/clinc150_dev_sample.jsonl: 60 queries of the CLINC150 dev split (every
52nd; Larson et al. 2019, clinc/oos-eval, CC BY 3.0), as in ../shared/eval/clinc150/.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from supportbot.ai import onnx_export
from supportbot.ai.embeddings import Embedder, resolve_model_path
from supportbot.ai.index import passages_of
from supportbot.ai.records import read_articles

ROOT = Path(__file__).resolve().parents[2]
DEMO_KB = ROOT / "supportbot" / "demo" / "kb_demo.jsonl"
CLINC_SAMPLE = ROOT / "tests" / "fixtures" / "clinc150_dev_sample.jsonl"
SHIPPED = "all-MiniLM-L6-v2"


@pytest.fixture(scope="module")
def torch_embedder() -> Embedder:
    return Embedder(SHIPPED, backend="torch", precision="float32")


@pytest.fixture(scope="module")
def onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("embedding-cache")


@pytest.fixture(scope="module")
def onnx_embedder(onnx_cache: Path) -> Embedder:
    return Embedder(SHIPPED, backend="onnx", precision="float32", cache_dir=onnx_cache)


@pytest.fixture(scope="module")
def int8_embedder() -> Embedder:
    """int8 in the run's own cache (EMBEDDING_CACHE_PATH): one quantization per run."""
    return Embedder(SHIPPED, backend="onnx", precision="int8")


def _texts() -> list[str]:
    passages = [text for article in read_articles(DEMO_KB) for text in passages_of(article)]
    queries = [json.loads(line)["query"] for line in CLINC_SAMPLE.read_text().splitlines()]
    # and what the tokenizer must treat as sentence-transformers does: surrounding spaces,
    # accents, an empty text, one past the 256-token limit
    odd = ["  leading and trailing spaces  ", "Ünïcödé façade, naïve café", "", "word " * 400]
    return passages + queries + odd


def test_onnx_vectors_match_torch_on_the_demo_kb_and_clinc150(torch_embedder, onnx_embedder):
    assert (onnx_embedder.backend, torch_embedder.backend) == ("onnx", "torch")
    # the same kind of vectors: an index either builds is served by the other
    assert onnx_embedder.precision == torch_embedder.precision == "float32"
    assert onnx_embedder.dimension == torch_embedder.dimension == 384
    texts = _texts()
    assert len(texts) > 400
    expected = torch_embedder.encode_many(texts)
    got = onnx_embedder.encode_many(texts)  # batches of 16 with padding, longest first
    assert got.dtype == np.float32 and got.shape == expected.shape
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    cosines = (got * expected).sum(axis=1)
    assert cosines.min() >= 0.9999, texts[int(cosines.argmin())]
    # one at a time, as queries are encoded: no padding at all
    for text in texts[-70:]:
        single = onnx_embedder.encode([text])
        assert single.shape == (1, 384)
        assert float(single[0] @ expected[texts.index(text)]) >= 0.9999
    assert onnx_embedder.encode([]).shape == (0, 384)


def test_the_export_is_cached_by_model_content(onnx_embedder, onnx_cache, tmp_path):
    shipped = resolve_model_path(SHIPPED)
    key = onnx_export.model_key(shipped)
    assert [p.name for p in onnx_cache.iterdir() if not p.name.startswith(".")] == [key]
    meta = json.loads((onnx_cache / key / "export.json").read_text())
    assert meta["key"] == key and meta["max_seq_length"] == 256
    assert meta["probe_min_cosine"] >= onnx_export.MIN_PROBE_COSINE
    # A second load reuses the export (no child process: nothing would make it).
    assert onnx_export.cached_export(shipped, onnx_cache, export=False) == onnx_cache / key

    # A copy of the model with one weight file changed is another model: another key,
    # and the cached export is not used for it.
    changed = tmp_path / "changed"
    shutil.copytree(shipped, changed, symlinks=False,
                    ignore=shutil.ignore_patterns("model.safetensors"))
    data = bytearray((shipped / "model.safetensors").read_bytes())
    data[-1] ^= 1  # the last byte of the last tensor
    (changed / "model.safetensors").write_bytes(bytes(data))
    assert onnx_export.model_key(changed) != key
    with pytest.raises(onnx_export.ExportFailed):
        onnx_export.cached_export(changed, onnx_cache, export=False)
    # The same files elsewhere (a fine-tuned version moved into place) keep their key, and
    # its figures or read-me do not count.
    (changed / "model.safetensors").write_bytes((shipped / "model.safetensors").read_bytes())
    (changed / "finetune.json").write_text("{}")
    (changed / "README.md").write_text("changed")
    assert onnx_export.model_key(changed) == key


def test_serving_through_onnx_imports_neither_torch_nor_sentence_transformers(
        onnx_embedder, onnx_cache):
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from supportbot.ai.embeddings import Embedder\n"
        f"e = Embedder({SHIPPED!r}, backend='onnx', precision='float32',"
        f" cache_dir=Path({str(onnx_cache)!r}))\n"
        f"q = Embedder({SHIPPED!r}, backend='onnx', precision='int8')\n"  # the run's cache
        "v = e.encode(['my vpn keeps disconnecting'])\n"
        "w = q.encode(['my vpn keeps disconnecting'])\n"
        "print(e.backend, e.precision, q.backend, q.precision, v.shape[1], w.shape[1],"
        " sorted({m.split('.')[0] for m in sys.modules}"
        " & {'torch', 'sentence_transformers', 'transformers'}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True, cwd=ROOT, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert done.stdout.split("\n")[0] == "onnx float32 onnx int8 384 384 []"


def test_int8_vectors_are_close_to_float32_and_the_copy_is_made_once(
        int8_embedder, onnx_embedder):
    from supportbot.config import get_settings

    assert (int8_embedder.backend, int8_embedder.precision) == ("onnx", "int8")
    folder = get_settings().effective_embedding_cache_path / onnx_export.model_key(
        resolve_model_path(SHIPPED))
    made = (folder / "model.int8.onnx").stat()
    assert made.st_size < (folder / "model.onnx").stat().st_size / 3  # int8 weights
    texts = _texts()
    expected = onnx_embedder.encode_many(texts)
    got = int8_embedder.encode_many(texts)
    assert got.dtype == np.float32 and got.shape == expected.shape
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    cosines = (got * expected).sum(axis=1)
    # near (docs/retrieval.md: mean 0.992, min 0.983 on 1,500 bench passages), not equal:
    # vectors of another kind, which an index must not mix with float32 ones
    assert cosines.mean() > 0.98 and cosines.min() > onnx_export.MIN_INT8_PROBE_COSINE
    assert cosines.mean() < 0.9995
    again = Embedder(SHIPPED, backend="onnx", precision="int8")
    assert (folder / "model.int8.onnx").stat().st_mtime_ns == made.st_mtime_ns  # reused
    np.testing.assert_array_equal(again.encode(texts[:5]), int8_embedder.encode(texts[:5]))
    assert not list(folder.glob(".model.int8*"))  # no temporary file left


def test_int8_with_the_torch_backend_is_refused_naming_both_settings(tmp_path):
    with pytest.raises(ValueError, match="EMBEDDING_PRECISION=int8.*EMBEDDING_BACKEND=torch"):
        Embedder(SHIPPED, backend="torch", precision="int8", cache_dir=tmp_path)
    # torch named, precision not: torch's own float32, whatever EMBEDDING_PRECISION says
    assert Embedder(SHIPPED, backend="torch", cache_dir=tmp_path).precision == "float32"
    with pytest.raises(ValueError, match="precision 'int4'"):
        Embedder(SHIPPED, backend="onnx", precision="int4", cache_dir=tmp_path)


def test_an_int8_copy_that_cannot_be_made_falls_back_to_onnx_float32(
        onnx_embedder, onnx_cache, monkeypatch, caplog):
    def broken(_folder):
        raise onnx_export.ExportFailed("int8 vectors too far from float32")

    monkeypatch.setattr(onnx_export, "quantized", broken)
    with pytest.raises(onnx_export.ExportFailed):
        Embedder(SHIPPED, backend="onnx", precision="int8", cache_dir=onnx_cache)
    with caplog.at_level(logging.WARNING, logger="supportbot.ai.embeddings"):
        fallback = Embedder(SHIPPED, backend="auto", precision="int8", cache_dir=onnx_cache)
    assert (fallback.backend, fallback.precision) == ("onnx", "float32")
    assert "no int8 copy" in caplog.text and "too far" in caplog.text
    texts = ["printer offline", "reset my password"]
    np.testing.assert_array_equal(fallback.encode(texts), onnx_embedder.encode(texts))


def test_a_broken_int8_copy_is_not_kept(onnx_embedder, onnx_cache, tmp_path, monkeypatch):
    key = onnx_export.model_key(resolve_model_path(SHIPPED))
    folder = tmp_path / key
    folder.mkdir()
    for item in (onnx_cache / key).iterdir():
        (folder / item.name).symlink_to(item)
    monkeypatch.setattr(onnx_export, "MIN_INT8_PROBE_COSINE", 1.01)  # nothing passes
    with pytest.raises(onnx_export.ExportFailed, match="too far from float32"):
        onnx_export.quantized(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["export.json", "model.onnx",
                                                        "tokenizer.json"]


def _cls_pooled_copy(folder: Path) -> Path:
    """The shipped model with CLS pooling instead of mean: a pipeline the ONNX path does
    not reproduce (symlinks for the large files)."""
    shipped = resolve_model_path(SHIPPED)
    folder.mkdir()
    for item in shipped.iterdir():
        if item.is_file():
            (folder / item.name).symlink_to(item)
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(json.dumps({
        "word_embedding_dimension": 384, "pooling_mode_cls_token": True,
        "pooling_mode_mean_tokens": False}))
    return folder


def test_a_model_onnx_cannot_reproduce_falls_back_to_torch_and_says_why(
        tmp_path, caplog, torch_embedder):
    model = _cls_pooled_copy(tmp_path / "cls-model")
    with pytest.raises(onnx_export.ExportFailed, match="not mean pooling"):
        Embedder(str(model), backend="onnx", precision="float32", cache_dir=tmp_path / "cache")
    with caplog.at_level(logging.WARNING, logger="supportbot.ai.embeddings"):
        fallback = Embedder(str(model), backend="auto", precision="int8",
                            cache_dir=tmp_path / "cache")
    # int8 was asked for, but only ONNX Runtime makes it: torch's float32 vectors it is
    assert (fallback.backend, fallback.precision) == ("torch", "float32")
    assert "not using ONNX Runtime" in caplog.text and "not mean pooling" in caplog.text
    # and it is really that model (CLS pooling), not the mean-pooled shipped one
    texts = ["printer offline", "reset my password"]
    cosines = (fallback.encode(texts) * torch_embedder.encode(texts)).sum(axis=1)
    assert cosines.max() < 0.99
    assert not any(p.name for p in (tmp_path / "cache").glob("*") if not p.name.startswith("."))


def test_prune_keeps_the_most_recently_used_exports(tmp_path):
    for number in range(5):
        folder = tmp_path / f"key{number}"
        folder.mkdir()
        (folder / "export.json").write_text("{}")
        os.utime(folder / "export.json", (1_000 + number, 1_000 + number))
    (tmp_path / ".building-x").mkdir()
    onnx_export.prune(tmp_path, keep=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".building-x", "key3", "key4"]


def test_a_bulk_encode_on_several_threads_gives_the_same_vectors_at_a_lower_priority(
        int8_embedder, monkeypatch):
    import threading

    from supportbot.ai import priority

    texts = _texts()
    one = int8_embedder.encode_many(texts, threads=1)
    seen: dict[int, int] = {}
    lower = priority.lower_this_thread

    def recording() -> None:
        lower()
        thread = threading.get_native_id()
        seen[thread] = os.getpriority(os.PRIO_PROCESS, thread)

    monkeypatch.setattr(priority, "lower_this_thread", recording)
    two = int8_embedder.encode_many(texts, threads=2)
    # the same batches run, two at a time: the same vectors, bit for bit (an int8 model
    # quantizes activations per batch, so other batches would move them)
    np.testing.assert_array_equal(one, two)
    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert len(seen) == 2 and all(nice == min(19, mine + priority.BACKGROUND_NICENESS)
                                  for nice in seen.values())
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == mine  # caller's kept


def test_build_threads_default_to_the_cores_this_process_may_use(monkeypatch):
    from supportbot.ai.embeddings import build_threads
    from supportbot.config import get_settings

    assert build_threads(3) == 3
    monkeypatch.setenv("INDEX_BUILD_THREADS", "0")
    get_settings.cache_clear()
    try:
        assert build_threads() == len(os.sched_getaffinity(0))
        monkeypatch.setenv("INDEX_BUILD_THREADS", "1")
        get_settings.cache_clear()
        assert build_threads() == 1
    finally:
        get_settings.cache_clear()
