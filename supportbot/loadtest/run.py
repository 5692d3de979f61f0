"""`supportbot loadtest`: N simultaneous chat sessions against an app on this machine,
then the database check, as one report.

Loopback only: the URL must name this machine, and the tool connects to the IPv4
loopback address it resolves to. Bounded: at most MAX_SESSIONS sessions and MAX_MINUTES
minutes, every answer within `timeout` seconds, and sessions still running at the end
plus a grace period are cancelled (and counted as errors).

Rate limits: the app limits requests per client address (RATE_LIMIT_DEFAULT,
RATE_LIMIT_ANON_CHAT). Each visitor and each agent connects from its own loopback
address (127.X.Y.Z: Linux routes the whole 127/8 to the loopback interface), so the
app counts them as the separate people they stand for, with its production limits
unchanged; each visitor waits `think` seconds between turns, as a person typing, which
keeps it under the tokenless-chat limit. A 429 is an error of the run.
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import os
import random
import socket
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from supportbot.db import build_engine
from supportbot.errors import InvalidInput
from supportbot.loadtest.agents import Agent, AgentDesk, prepare_agents, retire_agents
from supportbot.loadtest.check import StorageCheck, check_storage
from supportbot.loadtest.plan import LANGUAGES, Markers, Mix, Visitor, demo_questions
from supportbot.loadtest.tally import Tally, counts_report, latency_report
from supportbot.loadtest.visitors import Pace, RestLink, SocketLink, VisitorSession

MAX_SESSIONS = 1000
MAX_MINUTES = 30.0
SESSIONS_PER_AGENT = 20  # each agent account stays well under RATE_LIMIT_DEFAULT
RAMP_SECONDS = 10.0  # default: sessions start spread over this (at most a quarter of the run)


@dataclass(frozen=True)
class LoadConfig:
    url: str = "http://127.0.0.1:3000"
    sessions: int = 20
    minutes: float = 1.0
    think: tuple[float, float] = (2.0, 4.0)
    timeout: float = 30.0
    delivery: float = 15.0
    agents: int | None = None  # default: one per SESSIONS_PER_AGENT sessions
    seed: int | None = None
    ramp: float = RAMP_SECONDS  # the sessions' starts are spread over this many seconds
    mix: Mix = field(default_factory=Mix)

    def __post_init__(self) -> None:
        if not 1 <= self.sessions <= MAX_SESSIONS:
            raise InvalidInput(f"--sessions must be between 1 and {MAX_SESSIONS}.")
        if not 0.05 <= self.minutes <= MAX_MINUTES:
            raise InvalidInput(f"--minutes must be between 0.05 and {MAX_MINUTES:g}.")
        low, high = self.think
        if not 0 <= low <= high <= 60:
            raise InvalidInput("--think must be MIN-MAX seconds, 0 <= MIN <= MAX <= 60.")
        if not 0 <= self.ramp <= MAX_MINUTES * 60:
            raise InvalidInput("--ramp must be between 0 and 1800 seconds.")

    @property
    def ramp_seconds(self) -> float:
        """The sessions' starts are spread over this: `ramp`, at most a quarter of the run."""
        return min(self.ramp, self.minutes * 60 / 4)

    @property
    def agent_count(self) -> int:
        return self.agents or max(1, math.ceil(self.sessions / SESSIONS_PER_AGENT))


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as the URL names it (the Host header)
    port: int
    address: str  # the IPv4 loopback address connected to

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.address}:{self.port}"

    @property
    def host_header(self) -> str:
        return f"{self.host}:{self.port}"

    def socket_url(self, path: str) -> str:
        return f"{'wss' if self.scheme == 'https' else 'ws'}://{self.host}:{self.port}{path}"


def loopback_target(url: str) -> Target:
    """The app at `url`, which must be on this machine; InvalidInput otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("",
                                                                                         "/"):
        raise InvalidInput(f"--url {url!r}: give http://HOST:PORT of the app.")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = {info[4][0] for info in socket.getaddrinfo(parts.hostname, port,
                                                            type=socket.SOCK_STREAM)}
    except socket.gaierror as error:
        raise InvalidInput(f"--url: cannot resolve {parts.hostname}: {error}") from None
    outside = sorted(a for a in found if not ipaddress.ip_address(a).is_loopback)
    if outside:
        raise InvalidInput(f"--url: {parts.hostname} is not this machine ({', '.join(outside)}"
                           "); the load test only runs against a loopback address, "
                           "e.g. http://127.0.0.1:3000.")
    ipv4 = sorted(a for a in found if ipaddress.ip_address(a).version == 4)
    if not ipv4:
        raise InvalidInput(f"--url: {parts.hostname} has no IPv4 loopback address; use "
                           "http://127.0.0.1:PORT (each session connects from its own "
                           "127.X.Y.Z address).")
    return Target(parts.scheme, parts.hostname, port, ipv4[0])


class SourceAddresses:
    """A loopback address per visitor and per agent, in a /16 picked at random per run,
    so a run right after another does not inherit its rate-limit counters."""

    def __init__(self) -> None:
        self.network = random.SystemRandom().randrange(100, 200)

    def visitor(self, number: int) -> str:
        return f"127.{self.network}.{number // 250}.{number % 250 + 2}"

    def agent(self, number: int) -> str:
        return f"127.{self.network}.254.{number + 2}"


def _client(target: Target, address: str, timeout: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=target.base_url, headers={"Host": target.host_header},
                             transport=httpx.AsyncHTTPTransport(local_address=address),
                             timeout=timeout, trust_env=False)


async def _visit(number: int, rng: random.Random, start_at: float, deadline: float,
                 target: Target, config: LoadConfig, shared: dict) -> None:
    tally: Tally = shared["tally"]
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    if time.monotonic() >= deadline:
        return
    path = "ws" if number % 2 == 0 else "rest"
    language = LANGUAGES[(number // 2) % 2]
    address = shared["addresses"].visitor(number)
    pace: Pace = shared["pace"]
    async with _client(target, address, config.timeout) as http:
        try:
            opened = await http.post("/api/chat/session/", json={"locale": language})
        except httpx.HTTPError as error:
            tally.error(f"{path}_session_transport", f"{type(error).__name__}: {error}")
            return
        if opened.status_code != 201:
            tally.error(f"{path}_session_http_{opened.status_code}", opened.text[:200])
            return
        session_id = opened.json()["session_id"]
        tally.session_ids[session_id] = path
        try:
            link = (RestLink(http, session_id, pace) if path == "rest" else
                    await SocketLink.open(target.socket_url(f"/ws/chat/{session_id}/"),
                                          target.address, target.port, address, tally,
                                          config.timeout))
        except Exception as error:  # noqa: BLE001 - refused, timed out, not ready
            tally.error("ws_open", f"{type(error).__name__}: {error}")
            return
        session = VisitorSession(Visitor(rng, language, shared["questions"], config.mix),
                                 link, session_id, tally=tally, markers=shared["markers"],
                                 desk=shared["desk"], pace=pace, rng=rng)
        try:
            await session.run(deadline)
        except Exception as error:  # noqa: BLE001 - one broken session must not end the run
            tally.error(f"{path}_session_failed", f"{type(error).__name__}: {error}")
        finally:
            await link.close()


async def drive(config: LoadConfig, target: Target, credentials: list[tuple[str, str]],
                tally: Tally) -> None:
    """Run the sessions until the deadline (and their last turns), filling `tally`."""
    rng = random.Random(config.seed)
    addresses = SourceAddresses()
    pace = Pace(config.think, config.timeout, config.delivery)
    agents = [Agent(name, password, _client(target, addresses.agent(n), config.timeout))
              for n, (name, password) in enumerate(credentials)]
    try:
        try:
            await asyncio.gather(*(agent.login() for agent in agents))
        except httpx.HTTPError as error:
            raise InvalidInput(f"The load test's agents could not log in at {config.url}: "
                               f"{error}") from None
        shared = {"tally": tally, "addresses": addresses, "pace": pace,
                  "questions": demo_questions(), "markers": Markers(),
                  "desk": AgentDesk(agents, tally)}
        seconds = config.minutes * 60
        began = time.monotonic()
        tally.began = began
        deadline = began + seconds
        ramp = config.ramp_seconds
        tasks = [asyncio.create_task(_visit(
            n, random.Random(rng.random()), began + ramp * n / config.sessions, deadline,
            target, config, shared)) for n in range(config.sessions)]
        grace = 2 * config.timeout + config.delivery + max(config.think) + 10
        _, pending = await asyncio.wait(tasks, timeout=seconds + grace)
        for task in pending:
            task.cancel()
            tally.error("unfinished", "a session still running at the hard stop")
        await asyncio.gather(*pending, return_exceptions=True)
    finally:
        await asyncio.gather(*(agent.client.aclose() for agent in agents))


def summarize(config: LoadConfig, tally: Tally, check: StorageCheck, seconds: float,
              load: dict[str, list[float]]) -> dict:
    counts = counts_report(tally)
    errors = sum(tally.errors.values())
    ok = check.ok and errors == 0 and counts["user_messages"] > 0
    return {
        "ok": ok, "url": config.url, "sessions": config.sessions, "minutes": config.minutes,
        "think_seconds": list(config.think), "agents": config.agent_count,
        "seconds": round(seconds, 1), "load_average": load,
        "ramp_seconds": round(config.ramp_seconds, 1),
        "latency_ms": latency_report(tally), "answers_by_window": tally.answers_by_window(),
        "counts": counts,
        "errors": {"total": errors, "by_kind": dict(tally.errors.most_common()),
                   "samples": tally.error_samples},
        "storage": check.as_dict(),
    }


def run_load_test(config: LoadConfig, database_url: str) -> dict:
    """The whole run: agents, sessions, database check; the report as a dict."""
    target = loopback_target(config.url)
    engine = build_engine(database_url)
    credentials = prepare_agents(engine, config.agent_count)
    tally = Tally()
    load = {"before": [round(x, 2) for x in os.getloadavg()]}
    began = time.monotonic()
    try:
        asyncio.run(drive(config, target, credentials, tally))
    finally:
        try:
            retire_agents(engine, [name for name, _ in credentials])
        except Exception as error:  # noqa: BLE001 - the report still comes, failed
            tally.error("retire_agents", f"{type(error).__name__}: {error}"[:300])
    seconds = time.monotonic() - began
    load["after"] = [round(x, 2) for x in os.getloadavg()]
    check = check_storage(engine, tally.sent, tally.session_ids, tally.escalations)
    engine.dispose()
    return summarize(config, tally, check, seconds, load)
