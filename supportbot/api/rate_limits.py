"""Rate limits of the REST API (the `limits` library), answered with 429 and Retry-After.

Every `/api/` request counts against RATE_LIMIT_DEFAULT per client IP, and per account
when it carries a valid Bearer token. Log-in, sign-up and token refresh also count
against RATE_LIMIT_LOGIN per IP; chat without a Bearer token (new sessions, messages,
WebSocket messages) against RATE_LIMIT_ANON_CHAT per IP. Counters live in Redis when
REDIS_URL is set (shared by every process), in this process's memory otherwise.
"""

from __future__ import annotations

import logging
import math
import time

from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.aio.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Receive, Scope, Send

from supportbot.api.errors import error_response
from supportbot.config import Settings
from supportbot.services.auth_tokens import access_subject

log = logging.getLogger(__name__)

LOGIN_PATHS = frozenset({"/api/auth/login/", "/api/auth/register/", "/api/auth/token/refresh/",
                         "/api/auth/session/", "/api/auth/session/refresh/"})
CHAT_PREFIX = "/api/chat/"


class RateLimiter:
    """Named limits ("default", "login", "anon_chat") over one storage."""

    def __init__(self, settings: Settings) -> None:
        if settings.redis_url:
            storage = storage_from_string(f"async+{settings.redis_url}",
                                          implementation="redispy",
                                          key_prefix="supportbot-api")
        else:
            storage = storage_from_string("async+memory://")
        self._strategy = MovingWindowRateLimiter(storage)
        self._limits: dict[str, list[RateLimitItem]] = {
            "default": parse_many(settings.rate_limit_default),
            "login": parse_many(settings.rate_limit_login),
            "anon_chat": parse_many(settings.rate_limit_anon_chat),
        }

    async def hit(self, kind: str, key: str) -> int | None:
        """Count one request of `key` against the `kind` limits: None when allowed, else
        the seconds to wait. A storage failure lets the request through (and is logged):
        an unreachable Redis must not take the API down."""
        try:
            for item in self._limits[kind]:
                if not await self._strategy.hit(item, kind, key):
                    stats = await self._strategy.get_window_stats(item, kind, key)
                    return max(1, math.ceil(stats.reset_time - time.time()))
        except Exception:  # noqa: BLE001
            log.exception("rate limit storage failed; request allowed")
        return None


def client_ip(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


def bearer_subject(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return access_subject(token.strip()) if scheme.lower() == "bearer" else None
    return None


def too_many(wait: int):  # noqa: ANN201
    return error_response(429, "rate_limited",
                          f"Too many requests; try again in {wait} seconds.",
                          headers={"Retry-After": str(wait)})


class RateLimitMiddleware:
    """Applies the limits to HTTP requests under /api/ (the WebSocket checks its own)."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/api/"):
            await self.app(scope, receive, send)
            return
        ip, user_id = client_ip(scope), bearer_subject(scope.get("headers", []))
        checks = [("default", f"ip:{ip}")]
        if user_id:
            checks.append(("default", f"user:{user_id}"))
        if scope.get("method") == "POST":
            if path in LOGIN_PATHS:
                checks.append(("login", f"ip:{ip}"))
            elif path.startswith(CHAT_PREFIX) and not user_id:
                checks.append(("anon_chat", f"ip:{ip}"))
        for kind, key in checks:
            wait = await self.limiter.hit(kind, key)
            if wait is not None:
                await too_many(wait)(scope, receive, send)
                return
        await self.app(scope, receive, send)
