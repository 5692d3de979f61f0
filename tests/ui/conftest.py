"""The real app (`reflex run --env prod --single-port`) in a subprocess, on its own SQLite
database with the demo data, and headless Chromium to drive it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import kb_index  # noqa: F401  (the small KB, indexed, for state tests)

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
        # Every browser test logs in from 127.0.0.1: far more than a person would.
        "RATE_LIMIT_LOGIN": "600/minute",
        "DEMO_ADMIN_PASSWORD": DEMO_PASSWORDS["admin"],
        "DEMO_AGENT_PASSWORD": DEMO_PASSWORDS["agent"],
        "DEMO_USER_PASSWORD": DEMO_PASSWORDS["user"],
        "REFLEX_TELEMETRY_ENABLED": "false",
        "REFLEX_CHECK_LATEST_VERSION": "false",
        "NPM_CONFIG_REGISTRY": os.environ.get("NPM_CONFIG_REGISTRY",
                                              "https://registry.npmjs.org/"),
        "PYTHONUNBUFFERED": "1",
    }


LIVE: dict[str, str] = {}  # facts about the running app (its database URL, its log)


class _Hooks(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:  # noqa: ANN002
        pass


@pytest.fixture(scope="session")
def webhooks():
    """A webhook receiver the live app notifies of every new ticket; its `received` list
    holds the payloads. The app also notifies a port nobody listens on (always fails)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hooks)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    LIVE["webhook_url"] = f"http://127.0.0.1:{server.server_port}/hooks/tickets"
    LIVE["dead_webhook_url"] = f"http://127.0.0.1:{_free_port()}/hooks/down"
    yield _Hooks.received
    server.shutdown()


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory, webhooks):
    """Base URL of the running app, as `make run` starts it."""
    workdir = tmp_path_factory.mktemp("live-app")
    env = _app_env(f"sqlite:///{workdir / 'app.db'}", workdir / "data")
    env["WEBHOOK_URLS"] = f"{LIVE['webhook_url']},{LIVE['dead_webhook_url']}"
    env["NOTIFY_RETRY_SECONDS"] = "0.2"  # two attempts
    LIVE["database_url"] = env["DATABASE_URL"]
    for command in (["migrate"], ["demo-data"], ["reindex"]):
        done = subprocess.run([sys.executable, "-m", "supportbot", *command], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    port = _free_port()
    env["PUBLIC_URL"] = f"http://localhost:{port}"
    log_path = workdir / "reflex.log"
    LIVE["log_path"] = str(log_path)
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
