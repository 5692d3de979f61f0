import json

import pytest

from supportbot.ai import model_store
from supportbot.ai.model_store import BASE, ModelVersions, VersionNotFound


def _version(versions: ModelVersions, **meta) -> str:
    folder = versions.new_folder()
    (folder / "modules.json").write_text("[]")
    return versions.keep(folder, meta)


def test_without_versions_the_configured_model_is_used(tmp_path):
    versions = ModelVersions(tmp_path / "models", "all-MiniLM-L6-v2")
    assert versions.active() == BASE and versions.model_name() == "all-MiniLM-L6-v2"
    assert versions.versions() == [{"version": BASE, "model_name": "all-MiniLM-L6-v2",
                                    "active": True}]
    assert versions.previous() is None


def test_activate_and_roll_back(tmp_path):
    versions = ModelVersions(tmp_path, "base-model")
    first = _version(versions, reason="one")
    second = _version(versions, reason="two")
    assert versions.active() == BASE  # keeping a version does not activate it
    versions.activate(first, "better")
    versions.activate(second, "better again")
    assert versions.model_name() == str((tmp_path / second).resolve())
    assert versions.previous() == first
    versions.activate(versions.previous(), "rollback")
    assert versions.active() == first and versions.previous() == second
    rows = {row["version"]: row for row in versions.versions()}
    assert rows[first]["active"] and rows[second]["reason"] == "two"
    assert [line["version"] for line in versions.history()] == [first, second, first]


def test_unknown_versions_are_refused_and_a_lost_active_folder_falls_back(tmp_path):
    versions = ModelVersions(tmp_path, "base-model")
    with pytest.raises(VersionNotFound):
        versions.activate("v-nope", "typo")
    kept = _version(versions)
    versions.activate(kept, "ok")
    versions.discard(tmp_path / kept)  # someone deleted the folder
    assert versions.active() == BASE and versions.model_name() == "base-model"


def test_old_versions_are_pruned_but_never_the_active_or_previous(tmp_path, monkeypatch):
    monkeypatch.setattr(model_store, "KEEP_VERSIONS", 2)
    versions = ModelVersions(tmp_path, "base-model")
    names = [_version(versions, n=n) for n in range(2)]
    versions.activate(names[0], "first")
    versions.activate(names[1], "second")
    names += [_version(versions, n=n) for n in range(2, 5)]
    versions.activate(names[4], "latest")
    kept = {row["version"] for row in versions.versions()} - {BASE}
    assert kept == {names[1], names[3], names[4]}
    assert json.loads((tmp_path / names[4] / "finetune.json").read_text()) == {"n": 4}
