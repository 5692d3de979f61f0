"""The agents of a load run: accounts made for it in the app's database, logged in
through the API, replying to escalated tickets and closing them.

The accounts are `loadtest-agent-N`: created on the first run, given a fresh random
password on every run (nobody else knows it) and deactivated when the run ends.
"""

from __future__ import annotations

import itertools
import secrets
import time
from dataclasses import dataclass

import httpx
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from supportbot.db import session_scope
from supportbot.errors import NotFound
from supportbot.loadtest.tally import Tally
from supportbot.models import Role
from supportbot.services import accounts
from supportbot.services.permissions import SYSTEM

USERNAME = "loadtest-agent-{number}"


def prepare_agents(engine: Engine, count: int) -> list[tuple[str, str]]:
    """(username, password) of `count` active agent accounts, each with a new password."""
    chosen = []
    with session_scope(engine) as session:
        for number in range(1, count + 1):
            username = USERNAME.format(number=number)
            password = secrets.token_urlsafe(24)
            try:
                user = accounts.find_user(session, username)
            except NotFound:
                accounts.create_user(session, SYSTEM, username=username,
                                     email=f"{username}@example.com", password=password,
                                     role=Role.agent)
            else:
                accounts.set_role(session, SYSTEM, user.id, Role.agent)
                accounts.set_active(session, SYSTEM, user.id, True)
                accounts.reset_password(session, SYSTEM, user.id, password)
            chosen.append((username, password))
    return chosen


def retire_agents(engine: Engine, usernames: list[str], attempts: int = 10) -> None:
    """Deactivate the run's agent accounts (their tokens stop working). Retried while the
    database is busy: the app may still be finishing the run's last requests."""
    for attempt in range(1, attempts + 1):
        try:
            with session_scope(engine) as session:
                for username in usernames:
                    user = accounts.find_user(session, username)
                    accounts.set_active(session, SYSTEM, user.id, False)
            return
        except OperationalError:
            if attempt == attempts:
                raise
            time.sleep(1)


@dataclass
class Agent:
    username: str
    password: str
    client: httpx.AsyncClient
    token: str = ""

    async def login(self) -> None:
        response = await self.client.post("/api/auth/login/", json={
            "username": self.username, "password": self.password})
        response.raise_for_status()
        self.token = response.json()["access_token"]

    async def post(self, path: str, body: dict | None = None) -> httpx.Response:
        """POST as this agent; logs in again once if the access token expired."""
        for attempt in (1, 2):
            response = await self.client.post(
                path, json=body, headers={"Authorization": f"Bearer {self.token}"})
            if response.status_code != 401 or attempt == 2:
                return response
            await self.login()
        raise AssertionError("unreachable")


class AgentDesk:
    """The run's agents, taking escalated tickets in turn."""

    def __init__(self, agents: list[Agent], tally: Tally) -> None:
        self.agents = agents
        self.tally = tally
        self._next = itertools.cycle(agents)

    async def reply(self, ticket_id: str, text: str, marker: str, session_id: str,
                    path: str) -> float | None:
        """Post a reply on the ticket; when it was sent (perf_counter), or None on error."""
        agent = next(self._next)
        sent = self.tally.message(marker, session_id, path, "agent")
        started = time.perf_counter()
        try:
            response = await agent.post(f"/api/tickets/{ticket_id}/messages/",
                                        {"text": text})
        except httpx.HTTPError as error:
            self.tally.error("agent_reply_transport", f"{type(error).__name__}: {error}")
            return None
        if response.status_code != 201:
            self.tally.error(f"agent_reply_http_{response.status_code}", response.text[:200])
            return None
        sent.acknowledged = True
        self.tally.timing(path, "agent_reply_post", (time.perf_counter() - started) * 1000)
        return started

    async def close(self, ticket_id: str) -> None:
        agent = next(self._next)
        try:
            response = await agent.post(f"/api/tickets/{ticket_id}/close/")
        except httpx.HTTPError as error:
            self.tally.error("close_transport", f"{type(error).__name__}: {error}")
            return
        if response.status_code != 200:
            self.tally.error(f"close_http_{response.status_code}", response.text[:200])
            return
        self.tally.counts["ticket_closed"] += 1
