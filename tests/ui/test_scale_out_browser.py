"""Two app processes on one Redis, as behind a load balancer: a rebuilt index reaches
both without a restart, a chat goes on through a Redis outage, and a chat started on one
worker goes on on the other when the first one dies, without a reload.

Worker A (`reflex run --env prod --single-port`) serves the pages; both A and B
(`--backend-only`) serve the backend behind a small TCP proxy that stands in for nginx.
The browser's WebSocket goes through the proxy to A; the test switches the proxy to B and
kills A. Reflex keeps the page state in Redis (REDIS_URL), so B continues the same
session: the history is there and the next question is answered in the same conversation.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.ui.conftest import ROOT, _app_env, _free_port
from tests.ui.test_chat_browser import say

pytestmark = [pytest.mark.app, pytest.mark.browser]


class SwitchingProxy:
    """A TCP proxy on `port` to whichever backend port is current; `switch` drops the
    open connections, as a load balancer does when a backend goes away."""

    def __init__(self, target: int) -> None:
        self.port = _free_port()
        self.target = target
        self.connections: list[int] = []  # backend port of every connection made
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()
        self._ready.wait(10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", self.port))
        self._ready.set()
        self._loop.run_forever()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        target = self.target
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1",
                                                                             target)
        except OSError:
            writer.close()
            return
        self.connections.append(target)
        self._writers |= {writer, upstream_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))
        self._writers -= {writer, upstream_writer}

    def switch(self, target: int) -> None:
        def drop() -> None:
            self.target = target
            for writer in list(self._writers):
                writer.close()

        self._loop.call_soon_threadsafe(drop)


# Of the checkout's top level, what `reflex run` does not need (state, caches, the old
# build); the frontend packages in `.web/node_modules` are copied as they are.
NOT_COPIED = {".git", ".venv", ".tools", ".states", "data", "tests", "docs", ".hypothesis",
              ".pytest_cache", "supportbot.egg-info"}


def _not_copied(folder: str, names: list[str]) -> set[str]:
    if Path(folder) == ROOT:
        return NOT_COPIED & set(names)
    if Path(folder) == ROOT / ".web":
        return {"build"} & set(names)
    return set() if ".web" in Path(folder).parts else {"__pycache__"} & set(names)


def _project_copy(folder: Path) -> Path:
    """The project in `folder`, compiled frontend packages included. `reflex run` compiles
    the frontend into its folder's `.web` with the backend's address in it: run from the
    checkout, these workers would point the session's live app (tests/ui/conftest.py),
    which serves the same `.web`, at this test's proxy once the test is over."""
    shutil.copytree(ROOT, folder, ignore=_not_copied, symlinks=True)
    return folder


def _start(command: list[str], env: dict[str, str], log_path: Path,
           root: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "reflex", "run", "--env", "prod", *command],
                            cwd=root, env=env, stdout=log_path.open("w"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def _wait_healthy(process: subprocess.Popen, url: str, log_path: Path) -> None:
    deadline = time.monotonic() + 600
    while True:
        if process.poll() is not None:
            pytest.fail(f"{url}: the app exited early:\n{log_path.read_text()[-4000:]}")
        try:
            if httpx.get(f"{url}/_health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{url} did not start in time:\n{log_path.read_text()[-4000:]}")
        time.sleep(1)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    """(page URL, worker A, worker B, proxy, env, redis): one database, one index, and a
    Redis of the module's own (tests/servers.py: no persistence), which a test may stop."""
    from tests.servers import RedisServer

    if reason := RedisServer.available():
        pytest.skip(reason)
    redis = RedisServer()
    redis.start()
    tmp_path = tmp_path_factory.mktemp("two-workers")
    env = _app_env(f"sqlite:///{tmp_path / 'app.db'}", tmp_path / "data")
    env["REDIS_URL"] = redis.url
    for command in (["migrate"], ["demo-data"], ["reindex"]):
        done = subprocess.run([sys.executable, "-m", "supportbot", *command], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    port_a, port_b = _free_port(), _free_port()
    proxy = SwitchingProxy(target=port_a)
    # The pages' WebSocket goes to the proxy, as it would go to nginx.
    env["REFLEX_API_URL"] = f"http://localhost:{proxy.port}"
    env["GRANIAN_WORKERS"] = "1"
    root = _project_copy(tmp_path / "project")
    # One after the other: `reflex run` clears the folder's disk state files at start.
    worker_b = _start(["--backend-only", "--backend-host", "127.0.0.1", "--backend-port",
                       str(port_b)], env, tmp_path / "b.log", root)
    worker_a = None
    try:
        _wait_healthy(worker_b, f"http://127.0.0.1:{port_b}", tmp_path / "b.log")
        worker_a = _start(["--single-port", "--frontend-port", str(port_a), "--backend-host",
                           "127.0.0.1"], env, tmp_path / "a.log", root)
        _wait_healthy(worker_a, f"http://127.0.0.1:{port_a}", tmp_path / "a.log")
        yield (f"http://localhost:{port_a}", (worker_a, port_a), (worker_b, port_b), proxy,
               env, redis)
    finally:
        for worker in (worker_a, worker_b):
            if worker is not None:
                _stop(worker)
        redis.stop()


def _state_in_redis(redis_url: str, token: str) -> str:
    """Everything Reflex keeps in Redis for this browser tab (its client token)."""
    from redis import Redis

    redis = Redis.from_url(redis_url)
    return "".join(redis.get(key).decode("utf-8", "replace")
                   for key in redis.scan_iter(f"{token}*") if redis.type(key) == b"string")


def _ask(port: int, text: str) -> dict:
    """One chat turn through the REST API of one worker."""
    base = f"http://127.0.0.1:{port}/api/chat"
    session_id = httpx.post(f"{base}/session/", timeout=30).json()["session_id"]
    reply = httpx.post(f"{base}/message/", json={"session_id": session_id, "text": text},
                       timeout=120)
    assert reply.status_code == 200, reply.text
    return reply.json()


NEW_ARTICLE = {"id": "kb-coffee-e42", "title": "Coffee machine shows error E42",
               "problem": "The office coffee machine stops with error E42 on its display.",
               "solution": "Empty the grounds drawer, then hold the descale button for five "
                           "seconds until E42 clears.",
               "tags": ["facilities"], "lang": "en",
               "examples": ["coffee machine error E42",
                            "E42 on the coffee maker"]}


def test_a_rebuilt_index_reaches_every_worker(two_workers, tmp_path):
    _, (_, port_a), (_, port_b), _, env, _ = two_workers
    question = "the coffee machine shows error E42"
    for port in (port_a, port_b):
        assert _ask(port, question)["escalated"] is True  # nobody knows yet
    kb_file = tmp_path / "new.jsonl"
    kb_file.write_text(json.dumps(NEW_ARTICLE) + "\n")
    for command in (["import-kb", str(kb_file)], ["reindex"]):  # a job worker would do this
        done = subprocess.run([sys.executable, "-m", "supportbot", *command], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    for port in (port_a, port_b):  # both switch to the new version, no restart
        reply = _ask(port, question)
        assert reply["escalated"] is False, reply
        assert reply["citations"][0]["title"] == NEW_ARTICLE["title"]


def _said(env: dict[str, str], chat_session: str) -> list[str]:
    """The user's messages stored in this conversation, oldest first."""
    from sqlmodel import Session, select

    from supportbot.db import engine_for
    from supportbot.models import Conversation, Message, SenderType

    with Session(engine_for(env["DATABASE_URL"])) as session:
        conversation = session.exec(select(Conversation).where(
            Conversation.session_id == chat_session.strip('"'))).one()
        return list(session.exec(select(Message.text).where(
            Message.conversation_id == conversation.id,
            Message.sender_type == SenderType.user.value).order_by(Message.created_at)).all())


def test_with_redis_down_the_chat_says_so_keeps_the_text_then_goes_on(two_workers, browser):
    """Redis, where the pages keep their state in production, stops and comes back empty
    (a crash without persistence). While it is down, a send says in both languages that
    nothing was sent and the text stays in the box; once it is back, sending again goes on
    in the conversation on screen, history and all, though the page's state was lost."""
    url, _, _, _, env, redis = two_workers
    page = browser.new_page()
    page.goto(f"{url}/")
    say(page, "I forgot my password")
    bot = page.locator(".chat-message[data-sender='bot']")
    expect(bot.last).to_contain_text("Reset a forgotten password", timeout=60_000)
    chat_session = page.evaluate("window.localStorage.getItem('sb_chat')")

    redis.stop()
    try:
        say(page, "my printer is offline")
        expect(page.locator("[data-sonner-toast]").last).to_contain_text(
            "nothing was sent or saved", timeout=30_000)
        expect(page.locator("[data-sonner-toast]").last).to_contain_text(
            "no se ha enviado ni guardado nada")
        expect(page.locator("#chat-input")).to_have_value("my printer is offline")
        assert _said(env, chat_session) == ["I forgot my password"]
    finally:
        redis.start()

    send = page.get_by_role("button", name=re.compile("^(Send|Enviar)$"))
    deadline = time.monotonic() + 60
    while page.locator(".chat-message[data-sender='user']").count() < 2:  # Redis reconnects
        assert time.monotonic() < deadline, ("after Redis came back, the page never showed "
                                             "its conversation with the new message")
        send.click()
        page.wait_for_timeout(5_000)
    expect(bot.last).to_contain_text("Printer shows as offline", timeout=60_000)
    expect(page.locator(".chat-message[data-sender='user']").first).to_have_text(
        re.compile("I forgot my password"))  # the history is still on screen
    assert page.evaluate("window.localStorage.getItem('sb_chat')") == chat_session
    assert _said(env, chat_session) == ["I forgot my password", "my printer is offline"]
    page.close()


def test_a_chat_served_by_one_worker_continues_on_the_other(two_workers, browser):
    url, (worker_a, port_a), (_, port_b), proxy, env, redis = two_workers
    redis_url = redis.url
    page = browser.new_page()
    page.goto(f"{url}/")
    expect(page.get_by_text("Describe your problem")).to_be_visible()
    say(page, "I forgot my password")
    bot = page.locator(".chat-message[data-sender='bot']")
    expect(bot.last).to_contain_text("Reset a forgotten password", timeout=60_000)
    assert set(proxy.connections) == {port_a}
    token = page.evaluate("window.sessionStorage.getItem('token')")
    chat_session = page.evaluate("window.localStorage.getItem('sb_chat')")
    assert chat_session and chat_session.strip('"') in _state_in_redis(redis_url, token)

    proxy.switch(port_b)  # the load balancer sends this tab to B from now on ...
    _stop(worker_a)       # ... and A is gone
    say(page, "la VPN no conecta desde casa")
    expect(bot.last).to_contain_text("La VPN no conecta", timeout=60_000)
    expect(page.locator(".chat-message[data-sender='user']")).to_have_count(2)
    expect(page.locator(".chat-message[data-sender='user']").first).to_have_text(
        re.compile("I forgot my password"))  # the history B took over
    assert port_b in proxy.connections
    # B wrote the shared state (the page can show the answer a moment before the state is
    # written back to Redis: the write follows the event's last delta)
    deadline = time.monotonic() + 15
    while "La VPN no conecta" not in _state_in_redis(redis_url, token):
        assert time.monotonic() < deadline, "worker B's state never reached Redis"
        time.sleep(0.2)

    assert page.evaluate("window.localStorage.getItem('sb_chat')") == chat_session
    # one conversation, not a new one
    assert _said(env, chat_session) == ["I forgot my password", "la VPN no conecta desde casa"]
    assert json.loads(httpx.get(f"http://127.0.0.1:{port_b}/_health").text)["status"] is True
