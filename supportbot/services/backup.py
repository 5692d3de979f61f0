"""Back up and restore everything a SupportBot installation cannot rebuild by itself.

One archive, `supportbot-backup-<UTC time>.tar.gz` under BACKUP_PATH, holds:

    manifest.json      when, which database kind, schema revision, index version, model
    database.sqlite    SQLite: a consistent copy made with sqlite3's backup API, or
    database.dump      PostgreSQL: `pg_dump --format=custom`
    index/             the search index: CURRENT and its version folders
    models/            fine-tuned embedding model versions, ACTIVE and history.jsonl

A restore puts the database back as it was (the archive's database kind must match
DATABASE_URL), adds the archived index and model versions next to whatever is there and
points CURRENT and ACTIVE at the archived ones, so running processes switch over by
themselves (LiveIndex follows CURRENT; the active model is read from ACTIVE).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy.engine import make_url

from supportbot import schema
from supportbot.config import Settings, get_settings
from supportbot.db import engine_for
from supportbot.errors import InvalidInput

MANIFEST = "manifest.json"
FORMAT = 1


class BackupError(InvalidInput):
    """A backup or restore cannot go on (missing tool, wrong archive, failed dump)."""


def _backend(url: str) -> str:
    return make_url(url).get_backend_name()


def _libpq_url(url: str) -> str:
    """The SQLAlchemy URL as pg_dump / pg_restore read it (no +driver suffix)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return found


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {done.stderr.strip()[-2000:]}")


def _copy_versions(source: Path, target: Path, pointers: tuple[str, ...]) -> None:
    """Copy the version folders (v*) and pointer files of an index or models folder;
    folders being built (.building-*) are left out."""
    target.mkdir(parents=True, exist_ok=True)
    if not source.is_dir():
        return
    for item in source.iterdir():
        if item.is_dir() and item.name.startswith("v"):
            shutil.copytree(item, target / item.name)
        elif item.is_file() and item.name in pointers:
            shutil.copy2(item, target / item.name)


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def _dump_database(url: str, target: Path) -> str:
    if _backend(url) == "sqlite":
        file = target / "database.sqlite"
        source = sqlite3.connect(_sqlite_path(url))
        copy = sqlite3.connect(file)
        try:
            source.backup(copy)  # consistent even while the app writes
        finally:
            copy.close()
            source.close()
        return file.name
    if _backend(url) == "postgresql":
        file = target / "database.dump"
        _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
              f"--file={file}", f"--dbname={_libpq_url(url)}"])
        return file.name
    raise BackupError(f"cannot back up a {_backend(url)} database")


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except FileNotFoundError:
        return None


def backup(settings: Settings | None = None, destination: Path | None = None) -> Path:
    """Write one archive of the database, the search index and the model versions;
    returns its path. BackupError when the database cannot be dumped."""
    settings = settings or get_settings()
    url = settings.effective_database_url
    destination = destination or settings.effective_backup_path
    destination.mkdir(parents=True, exist_ok=True)
    created = datetime.now(timezone.utc)
    name = f"supportbot-backup-{created:%Y%m%dT%H%M%S%fZ}"
    with tempfile.TemporaryDirectory(prefix="supportbot-backup-") as work:
        folder = Path(work) / name
        folder.mkdir()
        database_file = _dump_database(url, folder)
        index_path, models_path = settings.effective_index_path, settings.effective_models_path
        _copy_versions(index_path, folder / "index", ("CURRENT",))
        _copy_versions(models_path, folder / "models", ("ACTIVE", "history.jsonl"))
        engine = engine_for(url)
        manifest = {
            "format": FORMAT,
            "created_at": created.isoformat(),
            "database": _backend(url),
            "database_file": database_file,
            "schema_revision": schema.current_revision(engine),
            "index_version": _read(index_path / "CURRENT"),
            "active_model": _read(models_path / "ACTIVE") or "base",
        }
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=1))
        archive = destination / f"{name}.tar.gz"
        partial = archive.with_name(f".{archive.name}.partial")
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(folder, arcname=name)
        os.replace(partial, archive)
    return archive


def read_manifest(archive: Path) -> dict[str, object]:
    with tarfile.open(archive, "r:gz") as tar:
        member = next((m for m in tar.getmembers() if Path(m.name).name == MANIFEST), None)
        if member is None:
            raise BackupError(f"{archive} is not a SupportBot backup (no {MANIFEST})")
        return json.loads(tar.extractfile(member).read())


def _restore_database(url: str, folder: Path, manifest: dict[str, object]) -> None:
    kind = _backend(url)
    if manifest["database"] != kind:
        raise BackupError(f"the archive holds a {manifest['database']} database; "
                          f"DATABASE_URL points to {kind}")
    engine_for(url).dispose()  # no pooled connection may hold the old database
    dump = folder / str(manifest["database_file"])
    if kind == "sqlite":
        path = _sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        source = sqlite3.connect(dump)
        target = sqlite3.connect(path)
        try:
            source.backup(target)  # replaces every page of the target
        finally:
            target.close()
            source.close()
        return
    _run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
          "--single-transaction", f"--dbname={_libpq_url(url)}", str(dump)])


def _point(path: Path, value: str) -> None:
    """Replace a pointer file (CURRENT, ACTIVE) atomically."""
    temporary = path.with_name(f".{path.name}-{secrets.token_hex(4)}")
    temporary.write_text(value + "\n")
    os.replace(temporary, path)


def _restore_versions(source: Path, target: Path, pointer: str,
                      extra: tuple[str, ...] = ()) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        if item.is_dir() and not (target / item.name).exists():
            staging = target / f".building-{item.name}"
            shutil.copytree(item, staging)
            os.replace(staging, target / item.name)  # a version appears complete or not at all
    for name in extra:
        if (source / name).is_file():
            shutil.copy2(source / name, target / name)
    value = _read(source / pointer)
    if value:
        _point(target / pointer, value)
    else:
        (target / pointer).unlink(missing_ok=True)


def restore(archive: Path, settings: Settings | None = None) -> dict[str, object]:
    """Put back the database, index and model versions of `archive` (made by `backup`);
    returns its manifest. BackupError for an archive of another database kind."""
    settings = settings or get_settings()
    manifest = read_manifest(archive)
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{archive}: backup format {manifest.get('format')} is unknown")
    with tempfile.TemporaryDirectory(prefix="supportbot-restore-") as work:
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(work, filter="data")
        folder = next(Path(work).iterdir())
        _restore_database(settings.effective_database_url, folder, manifest)
        _restore_versions(folder / "models", settings.effective_models_path, "ACTIVE",
                          ("history.jsonl",))
        _restore_versions(folder / "index", settings.effective_index_path, "CURRENT")
    return manifest
