"""ONNX exports of sentence-transformers models, cached by the model's content.

The serving and indexing path (`embeddings.OnnxBackend`) needs only `tokenizers`,
`onnxruntime` and numpy. Making the export needs torch, sentence-transformers and the
`onnx` package, so it runs once per model in a child process
(`python -m supportbot.ai.onnx_export MODEL_DIR CACHE_DIR`): the process that asked for
it never imports torch.

Cache layout (EMBEDDING_CACHE_PATH, default $DATA_DIR/embedding-cache):

    <key>/model.onnx        the transformer, float32, inputs input_ids, attention_mask,
                            token_type_ids (int64, batch x tokens), output last_hidden_state
    <key>/tokenizer.json    the model's fast tokenizer, truncating at max_seq_length
    <key>/export.json       key, max_seq_length, dimension, versions, probe cosines
    <key>/model.int8.onnx   its int8 copy (`quantized`, made on first use with
                            EMBEDDING_PRECISION=int8, checked against model.onnx)
    .building-<key>-<id>/   an export being written (never read; removed when stale)

`key` is a SHA-256 over the model folder's files (names and contents; README.md and
finetune.json aside) and EXPORT_FORMAT, so a changed model, or a fine-tuned version, never
uses another's export. An export is kept only if mean-pooled, normalised ONNX vectors of
probe texts match sentence-transformers' own (cosine >= MIN_PROBE_COSINE); a model whose
pipeline is not Transformer -> mean Pooling -> Normalize is not exported.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

log = logging.getLogger(__name__)

EXPORT_FORMAT = 1  # bump when the export's layout or recipe changes
MIN_PROBE_COSINE = 0.9999
# int8 vectors move: 0.983 at worst over 1,500 bench passages (docs/retrieval.md); a copy
# far below that is broken, not quantized.
MIN_INT8_PROBE_COSINE = 0.95
KEEP_EXPORTS = 6  # most recently used; a deployment holds the base model and a few versions
EXPORT_TIMEOUT_S = 900
_IGNORED = {"README.md", "finetune.json", ".gitattributes"}
_PROBES = [
    "hello",
    "My printer shows error 0x80070005 when I try to print from the laptop.",
    "¿Cómo restablezco la contraseña de mi cuenta de correo?",
    "VPN disconnects every few minutes on the office Wi-Fi but works at home. " * 12,
    "",
]
# Pipelines that mean-pool then normalise: the only ones the ONNX path reproduces.
_TRANSFORMER = ("sentence_transformers.models.Transformer",
                "sentence_transformers.base.modules.transformer.Transformer")
_POOLING = ("sentence_transformers.models.Pooling",
            "sentence_transformers.sentence_transformer.modules.pooling.Pooling")
_NORMALIZE = ("sentence_transformers.models.Normalize",
              "sentence_transformers.base.modules.normalize.Normalize")


class ExportFailed(RuntimeError):
    """This model cannot be served through ONNX (the reason is the message)."""


def model_key(model_dir: Path) -> str:
    digest = hashlib.sha256(f"supportbot-onnx-export {EXPORT_FORMAT}\n".encode())
    files = sorted(p for p in model_dir.rglob("*") if p.is_file() and p.name not in _IGNORED)
    for path in files:
        digest.update(f"{path.relative_to(model_dir).as_posix()}\n".encode())
        with path.open("rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()


def cached_export(model_dir: Path, cache_dir: Path, *, export: bool = True) -> Path:
    """The folder holding `model_dir`'s export, made first (in a child process) if there
    is none. ExportFailed when it cannot be made or does not match the model."""
    key = model_key(model_dir)
    folder = cache_dir / key
    if not _complete(folder, key):
        if not export:
            raise ExportFailed(f"no ONNX export of {model_dir} in {cache_dir}")
        _check_pipeline(model_dir)  # here too: a clear reason without starting torch
        log.info("exporting the embedding model %s to ONNX (once per model) into %s",
                 model_dir, folder)
        _export_in_child(model_dir, cache_dir)
        if not _complete(folder, key):
            raise ExportFailed(f"the export of {model_dir} left no usable {folder}")
    try:
        os.utime(folder / "export.json")  # most recently used: kept by `prune`
    except OSError:
        pass  # a read-only cache still serves
    return folder


def _complete(folder: Path, key: str) -> bool:
    try:
        meta = json.loads((folder / "export.json").read_text())
    except (OSError, ValueError):
        return False
    return (meta.get("key") == key and (folder / "model.onnx").is_file()
            and (folder / "tokenizer.json").is_file())


def _export_in_child(model_dir: Path, cache_dir: Path) -> None:
    command = [sys.executable, "-m", "supportbot.ai.onnx_export", str(model_dir), str(cache_dir)]
    # The child imports this very package, wherever this process found it.
    package_root = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": path}
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True,
                              timeout=EXPORT_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise ExportFailed(f"exporting {model_dir} took over {EXPORT_TIMEOUT_S} s") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        raise ExportFailed(lines[-1] if lines else f"export exited with {done.returncode}")


def export(model_dir: Path, cache_dir: Path) -> Path:
    """Export `model_dir` into `cache_dir/<key>` (here, in this process: needs torch,
    sentence-transformers and onnx). Returns the folder."""
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer

    key = model_key(model_dir)
    _check_pipeline(model_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale_builds(cache_dir)
    building = cache_dir / f".building-{key}-{secrets.token_hex(3)}"
    building.mkdir()
    try:
        torch.set_num_threads(1)
        model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        transformer = model[0]
        max_seq_length = int(model.max_seq_length)
        dimension = int(model.get_embedding_dimension())
        if getattr(transformer, "do_lower_case", False):
            raise ExportFailed("do_lower_case outside the tokenizer is not reproduced")
        hf_model = transformer.auto_model
        # Eager attention traces to plain ops (SDPA's masks do not export to every opset).
        hf_model.config._attn_implementation = "eager"
        hf_model.eval()
        wrapped = _LastHiddenState(hf_model)
        sample = transformer.tokenizer(["a b c", "a longer sample text"], padding=True,
                                       return_tensors="pt")
        names = ["input_ids", "attention_mask", "token_type_ids"]
        inputs = tuple(sample.get(name, torch.zeros_like(sample["input_ids"]))
                       for name in names)
        axes = {name: {0: "batch", 1: "tokens"} for name in [*names, "last_hidden_state"]}
        with torch.no_grad():
            torch.onnx.export(wrapped, inputs, str(building / "model.onnx"), dynamo=False,
                              input_names=names, output_names=["last_hidden_state"],
                              dynamic_axes=axes, opset_version=17, do_constant_folding=True)
        from tokenizers import Tokenizer

        # A copy: the model's own tokenizer sets padding and truncation per call.
        tokenizer = Tokenizer.from_str(transformer.tokenizer.backend_tokenizer.to_str())
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_seq_length)
        tokenizer.save(str(building / "tokenizer.json"))
        pad_id = int(transformer.tokenizer.pad_token_id or 0)

        expected = model.encode(_PROBES, normalize_embeddings=True, convert_to_numpy=True)
        from supportbot.ai.embeddings import OnnxBackend

        (building / "export.json").write_text(json.dumps(
            {"max_seq_length": max_seq_length, "pad_id": pad_id}))  # key added when verified
        backend = OnnxBackend(building, threads=1)
        got = backend.encode(_PROBES, batch_size=2)
        cosines = (np.asarray(expected, dtype=np.float32) * got).sum(axis=1)
        if float(cosines.min()) < MIN_PROBE_COSINE:
            raise ExportFailed(f"ONNX vectors differ from the model's: cosines {cosines}")
        import onnxruntime

        meta = {"format": EXPORT_FORMAT, "key": key, "model_dir": str(model_dir),
                "max_seq_length": max_seq_length, "dimension": dimension,
                "inputs": names, "pad_id": pad_id,
                "probe_min_cosine": round(float(cosines.min()), 7),
                "torch": torch.__version__, "onnxruntime": onnxruntime.__version__,
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        (building / "export.json").write_text(json.dumps(meta, indent=1))
        for path in building.iterdir():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
        target = cache_dir / key
        try:
            os.rename(building, target)
        except OSError:
            if not _complete(target, key):  # not another process's finished export
                raise
            shutil.rmtree(building, ignore_errors=True)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    prune(cache_dir)
    return target


def quantized(folder: Path, *, per_channel: bool = True) -> str:
    """An int8 copy of an export (onnxruntime dynamic quantization: int8 weights, and
    activations quantized per call) beside its model.onnx, made here the first time (a few
    seconds; needs `onnx`, not torch); returns its file name. Kept only if its vectors of
    the probe texts stay near the float32 export's (cosine >= MIN_INT8_PROBE_COSINE),
    else ExportFailed."""
    name = "model.int8.onnx" if per_channel else "model.int8-tensor.onnx"
    if not (folder / name).is_file():
        import numpy as np
        from onnxruntime.quantization import QuantType, quantize_dynamic

        from supportbot.ai.embeddings import OnnxBackend

        temporary = folder / f".{name}-{secrets.token_hex(3)}"
        root = logging.getLogger()
        root.addFilter(_no_preprocessing_advice)
        try:
            quantize_dynamic(folder / "model.onnx", temporary, per_channel=per_channel,
                             weight_type=QuantType.QInt8)
            expected = OnnxBackend(folder, threads=1).encode(_PROBES, batch_size=2)
            got = OnnxBackend(folder, threads=1, model_file=temporary.name).encode(
                _PROBES, batch_size=2)
            cosines = (expected * got).sum(axis=1)
            if float(np.min(cosines)) < MIN_INT8_PROBE_COSINE:
                raise ExportFailed(f"int8 vectors too far from float32: cosines {cosines}")
            with temporary.open("rb") as handle:
                os.fsync(handle.fileno())
            os.replace(temporary, folder / name)
        finally:
            root.removeFilter(_no_preprocessing_advice)
            temporary.unlink(missing_ok=True)
    return name


def _no_preprocessing_advice(record: logging.LogRecord) -> bool:
    """quantize_dynamic logs advice meant for static image-model quantization."""
    return not record.getMessage().startswith("Please consider to run pre-processing")


def _check_pipeline(model_dir: Path) -> None:
    try:
        modules = json.loads((model_dir / "modules.json").read_text())
    except (OSError, ValueError):
        raise ExportFailed(f"{model_dir} has no readable modules.json") from None
    kinds = [module.get("type") for module in modules]
    if (len(kinds) != 3 or kinds[0] not in _TRANSFORMER or kinds[1] not in _POOLING
            or kinds[2] not in _NORMALIZE):
        raise ExportFailed(f"pipeline {kinds} is not Transformer, Pooling, Normalize")
    pooling_path = model_dir / modules[1].get("path", "") / "config.json"
    try:
        pooling = json.loads(pooling_path.read_text())
    except (OSError, ValueError):
        raise ExportFailed(f"no pooling config at {pooling_path}") from None
    mean = pooling.get("pooling_mode") == "mean" or (
        pooling.get("pooling_mode_mean_tokens") is True
        and not any(pooling.get(flag) for flag in (
            "pooling_mode_cls_token", "pooling_mode_max_tokens",
            "pooling_mode_mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens",
            "pooling_mode_lasttoken")))
    if not mean:
        raise ExportFailed(f"pooling {pooling} is not mean pooling")


class _LastHiddenState:
    """nn.Module wrapper made lazily (torch is imported only when exporting)."""

    def __new__(cls, hf_model):  # noqa: ANN001, ANN204
        import torch

        class Wrapper(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.model = hf_model

            def forward(self, input_ids, attention_mask, token_type_ids):  # noqa: ANN001, ANN202
                return self.model(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).last_hidden_state

        return Wrapper()


def _remove_stale_builds(cache_dir: Path) -> None:
    for stale in cache_dir.glob(".building-*"):
        try:
            if time.time() - stale.stat().st_mtime > 3600:  # a crashed export
                shutil.rmtree(stale, ignore_errors=True)
        except OSError:
            pass


def prune(cache_dir: Path, keep: int = KEEP_EXPORTS) -> None:
    """Keep the `keep` most recently used exports (a process that loaded one no longer
    reads its files)."""
    def used(folder: Path) -> float:
        try:
            return (folder / "export.json").stat().st_mtime
        except OSError:
            return 0.0

    folders = sorted((p for p in cache_dir.iterdir() if p.is_dir() and not p.name.startswith(".")),
                     key=used, reverse=True)
    for old in folders[keep:]:
        shutil.rmtree(old, ignore_errors=True)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m supportbot.ai.onnx_export MODEL_DIR CACHE_DIR", file=sys.stderr)
        return 2
    import warnings

    warnings.filterwarnings("ignore")  # the tracer's warnings are about shapes it keeps
    try:
        folder = export(Path(argv[0]), Path(argv[1]))
    except ExportFailed as error:
        print(f"ExportFailed: {error}", file=sys.stderr)
        return 1
    print(folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
