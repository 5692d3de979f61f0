"""`WS /ws/chat/{session_id}/`: the chat, live, for widgets on other sites.

The client sends JSON messages:

    {"type": "message", "text": "...", "request_human": false, "language": null,
     "client_id": null}

(`client_id`, optional: the client's id for the message, as on POST /api/chat/message/;
a message re-sent with it after an error is stored and answered once.)

and receives JSON messages:

    {"type": "ready", "conversation": {...}}      on connect: the conversation so far
    {"type": "token", "text": "..."}              pieces of a generated answer as it streams
    {"type": "answer", "reply": {...}}            the turn's outcome (as POST /api/chat/message/)
    {"type": "message", "message": {...}}         a message from elsewhere: an agent's reply,
                                                  another tab of the same session
    {"type": "error", "error": {"status", "code", "message", "fields"}}

A conversation of an account needs that account's access token, in the
`Authorization: Bearer` header or the `access_token` query parameter. The handshake is
closed with 4401 for a bad token and 4404 for an unknown (or someone else's) session.
Every turn runs `services.chat.send_message` in a worker thread, as the chat page does;
other messages are read when a commit signals them (`services.live`: at once in this
process, through Redis from the others) and at least every `live.FALLBACK_SECONDS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from supportbot.api.chat import MessageIn, conversation_out, message_out, reply_out
from supportbot.api.errors import UNAVAILABLE, outage_kinds
from supportbot.api.rate_limits import RateLimiter, client_ip
from supportbot.config import get_settings
from supportbot.db import session_scope
from supportbot.errors import NotFound, ServiceError
from supportbot.models import User
from supportbot.services import auth_tokens, chat, live

log = logging.getLogger(__name__)
router = APIRouter()

BUSY_RETRY_SECONDS = 0.05  # a signal during a turn is read once the turn is done
RECENT = 50  # messages read on each poll


def _error(status: int, code: str, message: str,
           fields: dict[str, str] | None = None) -> dict[str, Any]:
    return {"type": "error", "error": {"status": status, "code": code, "message": message,
                                       "fields": fields or {}}}


def _bearer(websocket: WebSocket) -> str | None:
    scheme, _, token = websocket.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return websocket.query_params.get("access_token") or None


def _open(session_id: str, token: str | None) -> tuple[str | None, str, dict[str, Any]]:
    """The caller's user id (None: anonymous), the conversation's id and the
    conversation so far."""
    with session_scope() as session:
        user = auth_tokens.user_from_access_token(session, token) if token else None
        conversation = chat.get_conversation(session, session_id, user=user)
        view = conversation_out(session, conversation).model_dump(mode="json")
        return (str(user.id) if user else None), str(conversation.id), view


class ChatSocket:
    """One connection: turns in, answers and other people's messages out."""

    def __init__(self, websocket: WebSocket, session_id: str, user_id: str | None,
                 limiter: RateLimiter, conversation_id: str = "") -> None:
        self.websocket = websocket
        self.session_id = session_id
        self.conversation_id = conversation_id
        self.user_id = user_id
        self.limiter = limiter
        self.sent: set[str] = set()  # message ids the client has
        self.busy = False  # a turn is running: its own messages come with its answer
        self._send_lock = asyncio.Lock()

    async def send(self, payload: dict[str, Any]) -> None:
        async with self._send_lock:
            await self.websocket.send_json(payload)

    def _user(self, session) -> User | None:  # noqa: ANN001
        return session.get(User, uuid.UUID(self.user_id)) if self.user_id else None

    async def run(self, ready: dict[str, Any]) -> None:
        self.sent = {m["id"] for m in ready["messages"]}
        await self.send({"type": "ready", "conversation": ready})
        poller = asyncio.create_task(self._poll())
        try:
            while True:
                raw = await self.websocket.receive_text()
                if len(raw.encode()) > get_settings().api_max_body_bytes:
                    await self.send(_error(413, "too_large", "The message is too large."))
                    await self.websocket.close(code=1009)
                    return
                await self._handle(raw)
        except WebSocketDisconnect:
            return
        finally:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await poller

    async def _handle(self, raw: str) -> None:
        try:
            data = json.loads(raw)
            if not isinstance(data, dict) or data.get("type", "message") != "message":
                raise ValueError
            turn = MessageIn(session_id=self.session_id,
                             **{k: v for k, v in data.items() if k not in ("type",
                                                                           "session_id")})
        except (ValueError, ValidationError) as error:
            fields = ({".".join(str(p) for p in e["loc"]): e["msg"] for e in error.errors()}
                      if isinstance(error, ValidationError) else {})
            await self.send(_error(422, "invalid_input", 'Send {"type": "message", '
                                   '"text": "..."} as JSON.', fields))
            return
        if self.user_id is None:
            wait = await self.limiter.hit("anon_chat", f"ip:{client_ip(self.websocket.scope)}")
            if wait is not None:
                await self.send(_error(429, "rate_limited",
                                       f"Too many messages; try again in {wait} seconds.")
                                | {"retry_after": wait})
                return
        await self._turn(turn)

    async def _turn(self, turn: MessageIn) -> None:
        loop = asyncio.get_running_loop()
        pieces: asyncio.Queue[str] = asyncio.Queue()

        def on_token(piece: str) -> None:
            loop.call_soon_threadsafe(pieces.put_nowait, piece)

        def work() -> dict[str, Any]:
            with session_scope() as session:
                reply = chat.send_message(session, self.session_id, turn.text,
                                          user=self._user(session),
                                          request_human=turn.request_human,
                                          language=turn.language, on_token=on_token,
                                          client_id=turn.client_id)
                return reply_out(reply).model_dump(mode="json")

        self.busy = True
        try:
            task = asyncio.create_task(asyncio.to_thread(work))
            # Woken by whichever comes first, a piece or the end of the turn: a turn
            # that streams nothing answers as soon as it is done (a timed wait for
            # pieces added up to its timeout to every answer).
            while not task.done():
                piece = asyncio.ensure_future(pieces.get())
                await asyncio.wait((task, piece), return_when=asyncio.FIRST_COMPLETED)
                if piece.done():
                    await self.send({"type": "token", "text": piece.result()})
                else:
                    piece.cancel()  # an unread piece stays queued
            while not pieces.empty():
                await self.send({"type": "token", "text": pieces.get_nowait()})
            try:
                reply = task.result()
            except ServiceError as error:
                await self.send(_error(error.status, error.code, error.message, error.fields))
                return
            except outage_kinds() as error:  # the database or Redis is down: retry soon
                log.warning("chat turn on the WebSocket: 503, %s", type(error).__name__)
                await self.send(_error(UNAVAILABLE.status, UNAVAILABLE.code,
                                       UNAVAILABLE.message))
                return
            except Exception:  # noqa: BLE001 - the client may retry; the log has the cause
                log.exception("chat turn failed on the WebSocket")
                await self.send(_error(500, "error", "The message could not be processed."))
                return
            for key in ("user_message", "bot_message"):
                if reply[key]:
                    self.sent.add(reply[key]["id"])
            await self.send({"type": "answer", "reply": reply})
        finally:
            self.busy = False

    def _recent(self) -> list[dict[str, Any]] | None:
        with session_scope() as session:
            try:
                conversation = chat.get_conversation(session, self.session_id,
                                                     user=self._user(session))
            except NotFound:
                return None
            return [message_out(m).model_dump(mode="json")
                    for m in chat.messages_of(session, conversation, limit=RECENT)]

    async def _poll(self) -> None:
        with live.subscription(self.conversation_id) as changed:
            changed.set()  # one read once subscribed: what was stored since `_open` read
            while True:
                await changed.wait(live.FALLBACK_SECONDS)
                if self.busy:  # the turn's own messages come with its answer
                    await asyncio.sleep(BUSY_RETRY_SECONDS)
                    continue
                changed.clear()
                if not await self._read():
                    return

    async def _read(self) -> bool:
        """Send the messages the client lacks; False when the conversation is gone."""
        try:
            recent = await asyncio.to_thread(self._recent)
        except Exception:  # noqa: BLE001 - a failed read is retried on the next poll
            log.exception("reading the conversation for the WebSocket failed")
            return True
        if recent is None:  # the conversation is gone
            await self.websocket.close(code=4404)
            return False
        for message in recent:
            if message["id"] not in self.sent and not self.busy:
                self.sent.add(message["id"])
                await self.send({"type": "message", "message": message})
        return True


@router.websocket("/ws/chat/{session_id}/")
async def chat_socket(websocket: WebSocket, session_id: str) -> None:
    limiter: RateLimiter = websocket.app.state.rate_limiter
    wait = await limiter.hit("default", f"ip:{client_ip(websocket.scope)}")
    if wait is not None:
        await websocket.close(code=4429, reason=f"rate limited; retry in {wait} s")
        return
    try:
        user_id, conversation_id, ready = await asyncio.to_thread(
            _open, session_id, _bearer(websocket))
    except ServiceError as error:
        await websocket.close(code=4000 + error.status, reason=error.code)
        return
    except outage_kinds() as error:  # the database is down: 4503, connect again soon
        log.warning("chat WebSocket handshake: 503, %s", type(error).__name__)
        await websocket.close(code=4000 + UNAVAILABLE.status, reason=UNAVAILABLE.code)
        return
    await websocket.accept()
    await ChatSocket(websocket, session_id, user_id, limiter, conversation_id).run(ready)
