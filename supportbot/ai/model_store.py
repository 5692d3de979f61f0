"""Versions of the embedding model made by local fine-tuning: kept, activated, rolled back.

Layout under MODELS_PATH (docs/embedding-versioning.md):

    ACTIVE              the active version's name; absent or "base": EMBEDDING_MODEL_NAME
    history.jsonl       one line per activation: time, version, previous, reason
    v<time>-<id>/       one saved sentence-transformers model + finetune.json (its figures)
    .building-<id>/     a model being trained (never used; removed when stale)

A version's model name (what the search index records as `model_name`) is its folder's
absolute path, which `embeddings.resolve_model_path` loads like any local model.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path

BASE = "base"
KEEP_VERSIONS = 5  # besides the active and the previously active ones


class VersionNotFound(ValueError):
    """No kept model version has that name."""


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}-{secrets.token_hex(4)}")
    temporary.write_text(text)
    with temporary.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temporary, path)


class ModelVersions:
    def __init__(self, root: Path, base_name: str) -> None:
        self.root = root
        self.base_name = base_name

    # -- reading ---------------------------------------------------------------------

    def active(self) -> str:
        """The active version's name, or BASE."""
        try:
            name = (self.root / "ACTIVE").read_text().strip()
        except FileNotFoundError:
            return BASE
        return name if name and (name == BASE or (self.root / name).is_dir()) else BASE

    def model_name(self, version: str | None = None) -> str:
        """What to load for `version` (default: the active one)."""
        version = version or self.active()
        if version == BASE:
            return self.base_name
        folder = self.root / version
        if not folder.is_dir():
            raise VersionNotFound(f"no model version {version!r} in {self.root}")
        return str(folder.resolve())

    def versions(self) -> list[dict[str, object]]:
        """Every kept version's figures, oldest first, with `active` set on one of them."""
        active = self.active()
        rows: list[dict[str, object]] = [{"version": BASE, "model_name": self.base_name,
                                          "active": active == BASE}]
        if self.root.is_dir():
            for folder in sorted(p for p in self.root.iterdir()
                                 if p.is_dir() and p.name.startswith("v")):
                try:
                    meta = json.loads((folder / "finetune.json").read_text())
                except (FileNotFoundError, json.JSONDecodeError):
                    continue
                rows.append({**meta, "version": folder.name, "active": folder.name == active})
        return rows

    def history(self) -> list[dict[str, object]]:
        try:
            lines = (self.root / "history.jsonl").read_text().splitlines()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in lines if line.strip()]

    # -- writing ---------------------------------------------------------------------

    def new_folder(self) -> Path:
        """A fresh folder to train into; `keep()` makes it a version."""
        self.root.mkdir(parents=True, exist_ok=True)
        for stale in self.root.glob(".building-*"):
            if time.time() - stale.stat().st_mtime > 24 * 3600:  # a crashed training run
                shutil.rmtree(stale, ignore_errors=True)
        name = f"v{datetime.now(timezone.utc):%Y%m%d%H%M%S%f}-{secrets.token_hex(3)}"
        folder = self.root / f".building-{name}"
        folder.mkdir()
        return folder

    def keep(self, folder: Path, meta: dict[str, object]) -> str:
        """Store a trained model with its figures; returns the version name."""
        name = folder.name.removeprefix(".building-")
        (folder / "finetune.json").write_text(json.dumps(meta, indent=1, default=str))
        os.replace(folder, self.root / name)
        return name

    def activate(self, version: str, reason: str) -> dict[str, object]:
        """Make `version` (or BASE) the active model; returns the history line."""
        if version != BASE:
            self.model_name(version)  # VersionNotFound if it is not kept
        self.root.mkdir(parents=True, exist_ok=True)
        line = {"at": datetime.now(timezone.utc).isoformat(), "version": version,
                "previous": self.active(), "reason": reason}
        _write_atomically(self.root / "ACTIVE", version + "\n")
        with (self.root / "history.jsonl").open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(line) + "\n")
        self._prune()
        return line

    def previous(self) -> str | None:
        """The version that was active before the current one (what rollback returns to)."""
        history = self.history()
        active = self.active()
        for line in reversed(history):
            if line["version"] == active and line["previous"] != active:
                previous = str(line["previous"])
                if previous == BASE or (self.root / previous).is_dir():
                    return previous
                return None
        return None

    def discard(self, folder: Path) -> None:
        shutil.rmtree(folder, ignore_errors=True)

    def _prune(self) -> None:
        keep = {self.active(), self.previous()}
        folders = sorted(p for p in self.root.iterdir() if p.is_dir() and p.name.startswith("v"))
        for old in folders[:-KEEP_VERSIONS]:
            if old.name not in keep:
                shutil.rmtree(old, ignore_errors=True)
