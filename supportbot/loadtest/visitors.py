"""One simulated visitor: a chat session on the WebSocket (`WS /ws/chat/{id}/`) or on
REST (`POST /api/chat/message/`), talking until the run's deadline.

Each turn is timed from sending to the app's answer. When the app hands the
conversation to people, the visitor writes once more (stored, the bot stays silent), an
agent replies on the ticket, the visitor waits for that reply (pushed on the WebSocket,
or read from the conversation on REST) and the agent closes the ticket, so the bot
answers again.

Every turn carries a client message id of its own (`client_id`, a uuid4's hex), as the
chat page sends: the app stores and answers it once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from supportbot.loadtest.agents import AgentDesk
from supportbot.loadtest.plan import AGENT_REPLY, WAITING, Markers, Visitor, marker_of
from supportbot.loadtest.tally import EscalationSeen, Tally

READ_POLL_SECONDS = 0.5  # REST visitors re-read their conversation while waiting (as WS)


class ConnectionLost(Exception):
    """The visitor's WebSocket is closed: the session ends (counted once, as an error)."""


class TurnFailed(Exception):
    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True)
class Pace:
    think: tuple[float, float]  # seconds between a visitor's turns (uniform)
    timeout: float  # seconds an answer may take
    delivery: float  # seconds an agent's reply may take to reach the visitor


class RestLink:
    path = "rest"

    def __init__(self, http: httpx.AsyncClient, session_id: str, pace: Pace) -> None:
        self.http = http
        self.session_id = session_id
        self.pace = pace

    async def turn(self, text: str, request_human: bool) -> dict[str, Any]:
        try:
            response = await self.http.post("/api/chat/message/", json={
                "session_id": self.session_id, "text": text, "request_human": request_human,
                "client_id": uuid.uuid4().hex})
        except httpx.HTTPError as error:
            raise TurnFailed("transport", f"{type(error).__name__}: {error}") from None
        if response.status_code != 200:
            raise TurnFailed(f"http_{response.status_code}", response.text[:200])
        return response.json()

    def expect(self, marker: str) -> asyncio.Future[float]:
        return asyncio.ensure_future(self._read_until(marker))

    async def _read_until(self, marker: str) -> float:
        while True:
            try:
                response = await self.http.get(f"/api/chat/conversations/{self.session_id}/")
            except httpx.HTTPError as error:
                raise TurnFailed("read_transport", f"{type(error).__name__}: {error}") from None
            if response.status_code != 200:
                raise TurnFailed(f"read_http_{response.status_code}", response.text[:200])
            if any(m["sender"] == "agent" and marker_of(m["text"]) == marker
                   for m in response.json()["messages"]):
                return time.perf_counter()
            await asyncio.sleep(READ_POLL_SECONDS)

    async def close(self) -> None:
        pass


class SocketLink:
    path = "ws"

    def __init__(self, socket: ClientConnection, tally: Tally) -> None:
        self.socket = socket
        self.tally = tally
        self.replies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.waiting: dict[str, asyncio.Future[float]] = {}
        self.reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, url: str, host: str, port: int, address: str, tally: Tally,
                   timeout: float) -> SocketLink:
        """Connect to `host`:`port` from `address`; `url` names the app as the client
        would (its Host header)."""
        # No keepalive pings from the client (a browser sends none): a closed socket is
        # always the server's doing, never the tool's impatience with a busy server.
        socket = await connect(url, host=host, port=port, local_addr=(address, 0),
                               open_timeout=timeout, proxy=None, max_size=2 ** 22,
                               ping_interval=None)
        ready = json.loads(await asyncio.wait_for(socket.recv(), timeout))
        if ready.get("type") != "ready":
            await socket.close()
            raise TurnFailed("ws_not_ready", str(ready)[:200])
        return cls(socket, tally)

    async def _read(self) -> None:
        try:
            async for raw in self.socket:
                data = json.loads(raw)
                kind = data.get("type")
                if kind in ("answer", "error"):
                    self.replies.put_nowait(data)
                elif kind == "message":
                    message = data["message"]
                    future = self.waiting.pop(marker_of(message["text"]) or "", None)
                    if future is not None and not future.done():
                        future.set_result(time.perf_counter())
                    else:
                        self.tally.counts["ws_pushed_other"] += 1
        except WebSocketException as error:
            self.replies.put_nowait({"type": "closed", "detail": repr(error)})
            return
        self.replies.put_nowait({"type": "closed", "detail": "closed by the server"})

    async def turn(self, text: str, request_human: bool) -> dict[str, Any]:
        try:
            await self.socket.send(json.dumps({"type": "message", "text": text,
                                               "request_human": request_human,
                                               "client_id": uuid.uuid4().hex}))
        except WebSocketException as error:
            raise ConnectionLost(repr(error)) from None
        data = await self.replies.get()
        if data["type"] == "answer":
            return data["reply"]
        if data["type"] == "closed":
            raise ConnectionLost(data["detail"])
        error = data["error"]
        raise TurnFailed(f"ws_{error.get('status')}", str(error.get("message"))[:200])

    def expect(self, marker: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[marker] = future
        return future

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.socket.close()
        self.reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.reader


def kind_of(reply: dict[str, Any]) -> str:
    if reply.get("escalated"):
        return "handoff"
    if reply.get("answer") is None:
        return "silent"
    return "generated" if reply.get("generated") else "answer"


class VisitorSession:
    """One visitor, one conversation, one channel, until the deadline."""

    def __init__(self, visitor: Visitor, link: RestLink | SocketLink, session_id: str, *,
                 tally: Tally, markers: Markers, desk: AgentDesk, pace: Pace,
                 rng: random.Random) -> None:
        self.visitor = visitor
        self.link = link
        self.session_id = session_id
        self.tally = tally
        self.markers = markers
        self.desk = desk
        self.pace = pace
        self.rng = rng

    async def run(self, deadline: float) -> None:
        try:
            await self._talk(deadline)
        except ConnectionLost as lost:
            self.tally.error("ws_closed", str(lost))

    async def _talk(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            turn = self.visitor.next_turn()
            reply = await self.say(turn.text, turn.request_human)
            if reply is not None and reply.get("escalated"):
                await self.handed_over(reply)
            await asyncio.sleep(self.rng.uniform(*self.pace.think))

    async def say(self, text: str, request_human: bool = False) -> dict[str, Any] | None:
        stamped, marker = self.markers.stamp(text)
        sent = self.tally.message(marker, self.session_id, self.link.path, "user")
        started = time.perf_counter()
        try:
            reply = await asyncio.wait_for(self.link.turn(stamped, request_human),
                                           self.pace.timeout)
        except TurnFailed as failure:
            self.tally.error(f"{self.link.path}_{failure.kind}", failure.detail)
            return None
        except TimeoutError:
            self.tally.error(f"{self.link.path}_timeout",
                             f"no answer in {self.pace.timeout} s")
            return None
        elapsed = (time.perf_counter() - started) * 1000
        stored = (reply.get("user_message") or {}).get("text")
        if stored != stamped:
            self.tally.error(f"{self.link.path}_echo", f"sent {stamped!r}, stored {stored!r}")
            return None
        sent.acknowledged = True
        self.tally.turn(self.link.path, kind_of(reply), elapsed)
        ticket = reply.get("ticket")
        if reply.get("escalated"):
            if not ticket:
                self.tally.error("escalated_without_ticket", stamped)
                return None
            self.tally.escalations.append(EscalationSeen(
                self.session_id, ticket["id"], ticket["reference"], reply.get("reason"),
                self.link.path))
        return reply

    async def handed_over(self, reply: dict[str, Any]) -> None:
        ticket_id = reply["ticket"]["id"]
        await asyncio.sleep(self.rng.uniform(*self.pace.think) / 2)
        waiting = await self.say(WAITING[self.visitor.language])
        if waiting is not None and waiting.get("answer") is not None:
            self.tally.error("bot_not_silent", "the bot answered while people own the chat")
        text, marker = self.markers.stamp(AGENT_REPLY[self.visitor.language])
        arrival = self.link.expect(marker)
        try:
            await self._agent_replies(reply["ticket"], text, marker, arrival)
        finally:
            arrival.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await arrival
        await self.desk.close(ticket_id)

    async def _agent_replies(self, ticket: dict[str, str], text: str, marker: str,
                             arrival: asyncio.Future[float]) -> None:
        posted = await self.desk.reply(ticket["id"], text, marker, self.session_id,
                                       self.link.path)
        if posted is None:
            return
        try:
            arrived = await asyncio.wait_for(asyncio.shield(arrival), self.pace.delivery)
        except TimeoutError:
            self.tally.error(f"{self.link.path}_agent_reply_not_delivered",
                             f"ticket {ticket['reference']}: not seen in "
                             f"{self.pace.delivery} s")
            return
        except TurnFailed as failure:
            self.tally.error(f"{self.link.path}_{failure.kind}", failure.detail)
            return
        self.tally.counts["agent_reply_arrived"] += 1
        self.tally.timing(self.link.path, "agent_reply_arrival", (arrived - posted) * 1000)
