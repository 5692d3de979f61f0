"""Conversation signals: "a message of conversation C was stored", to whoever waits for it.

A chat page or WebSocket that waits for agents' replies used to read its conversation
every half second or two: at 100 open sockets, 200 reads a second, most of the database
work of a loaded server (docs/reliability.md, "Load"). Now it holds a `subscription(C)`
and reads when a message of C was committed, and every `FALLBACK_SECONDS` in case a
signal was lost.

- Every commit that stored a `Message` signals its conversation (SQLAlchemy session
  events, installed when `supportbot.services` is imported), from any code path: chat
  turns, agents' replies on the desk or the API, jobs.
- In this process the signal wakes the subscribers at once (thread-safe: services commit
  in worker threads, subscribers live on an event loop).
- With REDIS_URL set, the signal is also published on Redis (channel `CHANNEL`, the
  conversation id as the payload), and each process's event loop runs one subscriber
  that wakes its own waiters: a reply stored by one app worker, or by the RQ worker,
  reaches a socket held by another. A failing Redis costs only speed: publishing is
  skipped for a few seconds with a warning, the subscriber reconnects with a back-off,
  and waiters fall back to reading every `FALLBACK_SECONDS`.

A signal carries no data and promises nothing but "read again": the reader still reads
through the services, with their access checks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator

from sqlalchemy import event
from sqlalchemy.orm import Session

from supportbot.models import Message

log = logging.getLogger(__name__)

CHANNEL = "supportbot:conversation-messages"
FALLBACK_SECONDS = 5.0  # a waiter reads at least this often, signal or not
REDIS_TIMEOUT_SECONDS = 1.0
RETRY_SECONDS = (0.5, 1, 2, 5)  # subscriber reconnect back-off; publishing pauses the last
_PENDING = "supportbot.live.conversations"  # session.info key


class Subscription:
    """Set when a message of the conversation was committed since the last `clear`."""

    def __init__(self, flag: asyncio.Event) -> None:
        self._flag = flag

    async def wait(self, timeout: float = FALLBACK_SECONDS) -> bool:
        """Until set (True) or `timeout` seconds (False). Does not clear."""
        try:
            await asyncio.wait_for(self._flag.wait(), timeout)
            return True
        except TimeoutError:
            return False

    def clear(self) -> None:
        """Call before reading: a commit during the read sets it again."""
        self._flag.clear()

    def set(self) -> None:
        """As a signal would: the next `wait` returns at once."""
        self._flag.set()


class Hub:
    """Subscribers by conversation id, in one process."""

    def __init__(self, redis_url: str = "") -> None:
        self.redis_url = redis_url
        self._lock = threading.Lock()
        self._waiters: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = (
            defaultdict(set))
        self._publisher = None
        self._publish_failed_at = -float("inf")
        self._listeners: dict[asyncio.AbstractEventLoop, asyncio.Task] = {}
        self._ready: dict[asyncio.AbstractEventLoop, asyncio.Event] = {}

    # -- signals --------------------------------------------------------------------
    def signal(self, conversation_ids: set[str]) -> None:
        """Messages of these conversations were committed: wake this process's
        subscribers and tell the other processes. Never raises."""
        if not conversation_ids:
            return
        self.wake(conversation_ids)
        if self.redis_url:
            self._publish(conversation_ids)

    def wake(self, conversation_ids: set[str]) -> None:
        with self._lock:
            targets = [w for c in conversation_ids for w in self._waiters.get(c, ())]
        for loop, flag in targets:
            with contextlib.suppress(RuntimeError):  # that loop is closed: its waiter is gone
                loop.call_soon_threadsafe(flag.set)

    def _publish(self, conversation_ids: set[str]) -> None:
        # After a failure, leave Redis alone for a few seconds: a turn must not wait on it.
        if time.monotonic() - self._publish_failed_at < RETRY_SECONDS[-1]:
            return
        try:
            if self._publisher is None:
                from redis import Redis

                self._publisher = Redis.from_url(
                    self.redis_url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                    socket_timeout=REDIS_TIMEOUT_SECONDS)
            with self._publisher.pipeline(transaction=False) as pipe:
                for conversation_id in conversation_ids:
                    pipe.publish(CHANNEL, conversation_id)
                pipe.execute()
        except Exception as error:  # noqa: BLE001 - waiters fall back to reading
            self._publish_failed_at = time.monotonic()
            log.warning("conversation signal not published on Redis (%s: %s); other "
                        "processes read within %g s", type(error).__name__, error,
                        FALLBACK_SECONDS)

    # -- subscribing ----------------------------------------------------------------
    @contextlib.contextmanager
    def subscription(self, conversation_id: uuid.UUID | str) -> Iterator[Subscription]:
        """Registered for the block: every commit of a message of the conversation sets
        it, also while its holder is busy reading, so nothing is missed between reads.
        Call from a running event loop."""
        loop = asyncio.get_running_loop()
        if self.redis_url:
            self._listen_on(loop)
        key = str(conversation_id)
        waiter = (loop, asyncio.Event())
        with self._lock:
            self._waiters[key].add(waiter)
        try:
            yield Subscription(waiter[1])
        finally:
            with self._lock:
                waiters = self._waiters.get(key)
                if waiters is not None:
                    waiters.discard(waiter)
                    if not waiters:
                        del self._waiters[key]

    def listening(self, loop: asyncio.AbstractEventLoop) -> asyncio.Event:
        """Set while this loop's Redis subscriber is subscribed (for tests)."""
        return self._ready.setdefault(loop, asyncio.Event())

    def _listen_on(self, loop: asyncio.AbstractEventLoop) -> None:
        task = self._listeners.get(loop)
        if task is None or task.done():
            self._listeners[loop] = loop.create_task(self._listen(loop))

    async def _listen(self, loop: asyncio.AbstractEventLoop) -> None:
        from redis.asyncio import Redis

        ready = self.listening(loop)
        failures = 0
        while True:
            client = Redis.from_url(self.redis_url,
                                    socket_connect_timeout=REDIS_TIMEOUT_SECONDS)
            try:
                async with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    ready.set()
                    failures = 0
                    async for message in pubsub.listen():
                        data = message.get("data")
                        if isinstance(data, bytes):
                            self.wake({data.decode(errors="replace")})
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - reconnect; waiters keep reading
                ready.clear()
                if failures == 0:
                    log.warning("conversation signals: Redis subscriber lost (%s: %s); "
                                "reconnecting", type(error).__name__, error)
                await asyncio.sleep(RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)])
                failures += 1
            finally:
                ready.clear()
                with contextlib.suppress(Exception):
                    await client.aclose()


_hub: Hub | None = None
_hub_pid = 0


def hub() -> Hub:
    """This process's hub for the configured REDIS_URL (a forked worker, or changed
    settings, get a new one)."""
    global _hub, _hub_pid
    from supportbot.config import get_settings

    redis_url = get_settings().redis_url
    if _hub is None or _hub_pid != os.getpid() or _hub.redis_url != redis_url:
        _hub, _hub_pid = Hub(redis_url), os.getpid()
    return _hub


def subscription(conversation_id: uuid.UUID | str):  # noqa: ANN201
    """`Hub.subscription` on this process's hub."""
    return hub().subscription(conversation_id)


# -- session events: which conversations a commit stored messages in ----------------
def _after_flush(session: Session, _context) -> None:  # noqa: ANN001
    stored = {str(obj.conversation_id) for obj in session.new
              if isinstance(obj, Message) and obj.conversation_id is not None}
    if stored:
        session.info.setdefault(_PENDING, set()).update(stored)


def _after_commit(session: Session) -> None:
    stored = session.info.pop(_PENDING, None)
    if stored:
        hub().signal(stored)


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


# Every session of the process, whoever opens it (installed on import, as input_guard).
event.listen(Session, "after_flush", _after_flush)
event.listen(Session, "after_commit", _after_commit)
event.listen(Session, "after_rollback", _after_rollback)
