"""The real app (`reflex run --env prod --single-port`) in a subprocess, on its own SQLite
database with the demo data, and headless Chromium to drive it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO_PASSWORDS = {"admin": "orange kiwi mango 41", "agent": "purple lime grape 52",
                  "user": "yellow plum melon 63"}
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _app_env(database_url: str, data_dir: Path) -> dict[str, str]:
    tools = ROOT / ".tools" / "node_modules" / ".bin"
    venv = Path(sys.executable).parent
    return {
        **os.environ,
        "PATH": f"{tools}:{venv}:{os.environ['PATH']}",
        "DATABASE_URL": database_url,
        "DATA_DIR": str(data_dir),
        "ALLOWED_HOSTS": "localhost,127.0.0.1",
        "DEMO_ADMIN_PASSWORD": DEMO_PASSWORDS["admin"],
        "DEMO_AGENT_PASSWORD": DEMO_PASSWORDS["agent"],
        "DEMO_USER_PASSWORD": DEMO_PASSWORDS["user"],
        "REFLEX_TELEMETRY_ENABLED": "false",
        "REFLEX_CHECK_LATEST_VERSION": "false",
        "NPM_CONFIG_REGISTRY": os.environ.get("NPM_CONFIG_REGISTRY",
                                              "https://registry.npmjs.org/"),
        "PYTHONUNBUFFERED": "1",
    }


LIVE: dict[str, str] = {}  # facts about the running app (its database URL)


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory):
    """Base URL of the running app, as `make run` starts it."""
    workdir = tmp_path_factory.mktemp("live-app")
    env = _app_env(f"sqlite:///{workdir / 'app.db'}", workdir / "data")
    LIVE["database_url"] = env["DATABASE_URL"]
    for command in (["migrate"], ["demo-data"], ["reindex"]):
        done = subprocess.run([sys.executable, "-m", "supportbot", *command], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    port = _free_port()
    log_path = workdir / "reflex.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "reflex", "run", "--env", "prod", "--single-port",
         "--frontend-port", str(port), "--backend-host", "127.0.0.1"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://localhost:{port}"
    deadline = time.monotonic() + 600
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"the app exited early:\n{log_path.read_text()[-4000:]}")
            try:
                if httpx.get(f"{base}/_health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the app did not start in time:\n{log_path.read_text()[-4000:]}")
            time.sleep(1)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    context.set_default_timeout(20_000)
    tab = context.new_page()
    yield tab
    context.close()
