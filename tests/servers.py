"""Throw-away servers for the fault tests: a Redis and a PostgreSQL cluster of their own,
on free loopback ports, in a temporary folder, that a test may stop, restart or freeze.

Never the machine's shared servers: each one here is a child process of the test run,
stopped by its own process id (or its own data folder, for PostgreSQL), and removed with
its folder at the end.

    with RedisServer() as redis:        redis.url, .stop(), .start(), .pause(), .resume()
    with PostgresServer() as postgres:  postgres.url, .stop(), .start(), .restart()

PostgreSQL refuses to run as root; as root the cluster is created and run as the
`postgres` account (`runuser`), and `PostgresServer.available()` says why it cannot be
when there is no such account.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

START_SECONDS = 15.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(check, what: str, seconds: float = START_SECONDS) -> None:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise TimeoutError(f"{what} not ready after {seconds} s")


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


class RedisServer:
    """`redis-server` on a free port, no persistence: stopping it loses what it held
    (as a crashed Redis without AOF would)."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="supportbot-redis-"))
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @staticmethod
    def available() -> str | None:
        """None when this machine can run one, else why not."""
        return None if shutil.which("redis-server") else "redis-server is not installed"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = (self.folder / "redis.log").open("ab")
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--daemonize", "no",
             "--dir", str(self.folder)], stdout=log, stderr=subprocess.STDOUT)
        _wait_for(self._ready, f"redis-server on port {self.port}")

    def _ready(self) -> bool:
        from redis import Redis

        try:
            return bool(Redis(port=self.port, socket_connect_timeout=0.5).ping())
        except Exception:  # noqa: BLE001 - not up yet
            return False

    def stop(self) -> None:
        """Stop it (SIGTERM, then SIGKILL after 5 s); its port refuses connections."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None

    def pause(self) -> None:
        """Freeze it (SIGSTOP): connections open, nothing answers."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.process is not None:
            self.resume()  # a frozen process ignores SIGTERM until continued
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


class PostgresServer:
    """A PostgreSQL cluster of its own (`initdb` + `pg_ctl`), trust auth on loopback."""

    RUN_AS = "postgres"  # the account that owns the cluster when the tests run as root

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="supportbot-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()

    @classmethod
    def available(cls) -> str | None:
        """None when this machine can run one, else why not."""
        for tool in ("initdb", "pg_ctl"):
            if not shutil.which(tool):
                return f"{tool} is not installed"
        if os.geteuid() == 0:
            try:
                pwd.getpwnam(cls.RUN_AS)
            except KeyError:
                return (f"running as root and there is no '{cls.RUN_AS}' account to run "
                        "PostgreSQL as (it refuses to run as root)")
            if not shutil.which("runuser"):
                return "running as root and runuser is not installed"
        return None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str, timeout: float = 60) -> None:
        prefix = ["runuser", "-u", self.RUN_AS, "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=timeout,
                       cwd=self.folder)

    def _pg_ctl(self, action: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "postgres.log"),
                  "-o", options, "-m", "fast", "-w", "-t", str(int(START_SECONDS)), action)

    def init(self) -> None:
        if os.geteuid() == 0:
            account = pwd.getpwnam(self.RUN_AS)
            os.chown(self.folder, account.pw_uid, account.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust",
                  "--no-sync", "-E", "UTF8")

    def start(self) -> None:
        self._pg_ctl("start")
        _wait_for(lambda: _port_open(self.port), f"PostgreSQL on port {self.port}")

    def stop(self) -> None:
        """Fast shutdown: open connections are cut, as in a crash of the server."""
        self._pg_ctl("stop")

    def restart(self) -> None:
        self._pg_ctl("restart")
        _wait_for(lambda: _port_open(self.port), f"PostgreSQL on port {self.port}")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def _processes(self) -> list[int]:
        """The postmaster and its children (backends, checkpointer, ...)."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = []
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines()
                              if ":\t" in line)
            except OSError:  # the process ended meanwhile
                continue
            if fields.get("PPid", "").strip() == str(postmaster):
                children.append(int(status.parent.name))
        return [postmaster, *children]

    def freeze(self) -> None:
        """SIGSTOP the whole cluster: the kernel still accepts and acknowledges TCP, no
        query and no new connection is ever answered (a hung host, not a stopped one)."""
        for pid in self._processes():
            os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        for pid in self._processes():
            os.kill(pid, signal.SIGCONT)

    def __enter__(self) -> PostgresServer:
        self.init()
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.running():
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


class WebhookReceiver:
    """An HTTP server on a free loopback port that records the POSTs it gets (a webhook
    target for notifications); `received` holds (headers, body) pairs."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        received: list[tuple[dict[str, str], bytes]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's API
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((dict(self.headers), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self.received = received
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def _process_group(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


class Worker:
    """`supportbot worker` (RQ, with its scheduler) in a subprocess of the test, with the
    environment given; `work_horse()` is the child it forked for the job it runs."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        import sys

        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "supportbot", "worker"], env=self.env,
                stdout=output, stderr=subprocess.STDOUT)

    def work_horse(self, seconds: float = 30.0) -> int:
        """The pid of the process running a job now (RQ forks one per job)."""
        import psutil

        assert self.process is not None
        found: list[int] = []

        def forked() -> bool:
            # The worker's scheduler is a child too; the horse leads a process group of
            # its own (RQ calls setpgrp in it).
            found[:] = [child.pid for child in psutil.Process(self.process.pid).children()
                        if _process_group(child.pid) == child.pid]
            return bool(found)

        _wait_for(forked, "the work horse", seconds)
        return found[0]

    def kill(self) -> None:
        """SIGKILL the worker and everything it forked (horse, scheduler)."""
        import psutil

        assert self.process is not None
        try:
            family = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:  # it had ended (or crashed) already
            family = []
        self.process.kill()
        for child in family:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()  # RQ: warm shutdown, then its horse is stopped
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
        self.process = None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def __enter__(self) -> Worker:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.process is not None:
            self.kill()


class SilentServer:
    """Accepts TCP connections on a free loopback port and never sends a byte: a mail or
    web server that hangs after the connection (`port`, `connections` accepted)."""

    def __init__(self) -> None:
        import threading

        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(16)
        self.port = self._socket.getsockname()[1]
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def connections(self) -> int:
        return len(self._held)

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:  # closed: the test is over
                return
            self._held.append(connection)

    def __enter__(self) -> SilentServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._socket.close()
        for connection in self._held:
            connection.close()
