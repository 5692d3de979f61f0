"""Supply chain: every dependency is pinned to one version in requirements.txt, the
environment runs exactly those, and `make audit` cannot pass without auditing."""

import re
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([0-9][A-Za-z0-9.+!-]*)$")


def pins() -> list[tuple[str, str]]:
    lines = [line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    found = []
    for line in lines:
        if not line or line.startswith("#"):
            continue
        match = PIN.match(line)
        assert match, f"not an exact pin: {line!r}"  # no ranges, URLs, -e or index options
        found.append((match.group(1), match.group(2)))
    return found


def test_every_dependency_is_pinned_once_and_sorted():
    names = [name.lower() for name, _ in pins()]
    assert names == sorted(names)  # as `sort` orders them
    canonical = {re.sub(r"[-_.]+", "-", name) for name in names}
    assert len(names) > 50 and len(canonical) == len(names)  # each package once


def test_the_environment_runs_the_pinned_versions():
    wrong = []
    for name, pinned in pins():
        try:
            installed = version(name)
        except PackageNotFoundError:
            installed = None
        if installed is None or installed.split("+")[0] != pinned.split("+")[0]:
            wrong.append((name, pinned, installed))
    assert wrong == []


def test_make_audit_fails_when_it_could_not_audit():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^\.PHONY:.*\baudit\b", makefile, re.M)
    recipe = makefile.split("\naudit:", 1)[1].split("\n\n", 1)[0]
    assert "pip-audit -r requirements.txt" in recipe and "--strict" in recipe
    assert re.search(r"^PIP_AUDIT_VERSION := \d+\.\d+\.\d+$", makefile, re.M)  # pinned too
