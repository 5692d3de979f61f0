"""The FastAPI application that Reflex mounts its own routes inside (`api_transformer`)."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.trustedhost import TrustedHostMiddleware

from supportbot import __version__
from supportbot.api import auth, browser_session
from supportbot.api.errors import install_error_handlers
from supportbot.config import get_settings


def create_api() -> FastAPI:
    settings = get_settings()
    api = FastAPI(
        title="SupportBot API",
        version=__version__,
        description="REST API of SupportBot, the self-hosted AI-assisted support desk.",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    install_error_handlers(api)
    api.include_router(auth.router)
    api.include_router(browser_session.router)
    if "*" not in settings.allowed_hosts:
        api.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)
    return api
