"""The FastAPI application that Reflex mounts its own routes inside (`api_transformer`)."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from supportbot import __version__
from supportbot.api import (
    admin,
    auth,
    browser_session,
    chat,
    chat_socket,
    kb,
    prometheus,
    suggestions,
    tickets,
)
from supportbot.api.body_size import BodySizeLimitMiddleware
from supportbot.api.errors import install_error_handlers
from supportbot.api.proxy_headers import ProxyHeadersMiddleware
from supportbot.api.rate_limits import RateLimiter, RateLimitMiddleware
from supportbot.config import get_settings

API_PREFIXES = ("/api/", "/ws/")
DESCRIPTION = """REST API of SupportBot, the self-hosted AI-assisted support desk.

- Authenticate with `Authorization: Bearer <access token>` (`POST /api/auth/login/`).
- Every error has one shape: `{"error": {"status", "code", "message", "fields"}}`.
- Lists take `page` and `page_size` and answer `{"items", "total", "page", "page_size"}`.
- Limits: 413 above the configured body size; 429 with `Retry-After` from the rate
  limits (stricter on log-in, sign-up and chat without a token).
- 503 `unavailable` with `Retry-After` while the database or Redis cannot be reached
  (a restart): send the same request again. A chat message sent again after its turn
  failed is answered once, not stored twice.
- Live chat: WebSocket `/ws/chat/{session_id}/` (not described by OpenAPI): send
  `{"type": "message", "text": "..."}`; receive `ready`, `token`, `answer` (as
  `POST /api/chat/message/`), `message` (agents' replies) and `error` messages.
"""


class ApiCORSMiddleware:
    """CORS for the API's paths only, from CORS_ORIGINS (Reflex's routes keep their own)."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(app, allow_origins=origins, allow_credentials=False,
                                   allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                                   allow_headers=["Authorization", "Content-Type"],
                                   expose_headers=["Retry-After"], max_age=600)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path", "").startswith(API_PREFIXES):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def create_api() -> FastAPI:
    settings = get_settings()
    api = FastAPI(
        title="SupportBot API",
        version=__version__,
        description=DESCRIPTION,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    install_error_handlers(api)
    for area in (auth, browser_session, tickets, chat, chat_socket, kb, admin, suggestions,
                 prometheus):
        api.include_router(area.router)
    api.state.rate_limiter = RateLimiter(settings)
    # Added innermost first: a request meets the host check, CORS, the rate limits,
    # then the size limit.
    api.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.api_max_body_bytes)
    api.add_middleware(RateLimitMiddleware, limiter=api.state.rate_limiter)
    if settings.cors_origins:
        api.add_middleware(ApiCORSMiddleware, origins=settings.cors_origins)
    if "*" not in settings.allowed_hosts:
        api.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)
    if settings.trusted_proxies:  # outermost: every check sees the visitor, not nginx
        api.add_middleware(ProxyHeadersMiddleware, trusted=settings.trusted_proxies)
    return api
