"""Compose files are valid (checked with Debian's docker-compose; no engine needed)."""

import shutil
import subprocess
from pathlib import Path

import pytest

DOCKER = Path(__file__).resolve().parents[2] / "docker"


@pytest.mark.parametrize("compose_file", sorted(DOCKER.glob("*.yml")), ids=lambda p: p.name)
def test_compose_file_is_valid(compose_file):
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail("docker-compose is missing: `make test` installs Debian's package")
    result = subprocess.run([binary, "-f", str(compose_file), "config"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "healthcheck" in result.stdout
