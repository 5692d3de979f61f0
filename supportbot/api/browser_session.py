"""`/api/auth/session/`: log a browser in and out with HttpOnly cookies.

The web app's login form posts here directly (no token is ever readable by page scripts).
On success the browser gets two cookies and is redirected to the page it came from:

- `sb_access`: the access JWT, HttpOnly, SameSite=Lax, path `/` (sent on the Reflex
  WebSocket, where the UI states read it);
- `sb_refresh`: the refresh JWT, HttpOnly, SameSite=Strict, path `/api/auth/session`
  (sent only to these routes).

Cross-site form posts are refused by checking Origin/Referer against the allowed hosts.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from supportbot.api.deps import DbSession
from supportbot.config import get_settings
from supportbot.errors import PermissionDenied, ServiceError
from supportbot.services import accounts, auth_tokens
from supportbot.services.auth_tokens import TokenPair

ACCESS_COOKIE = "sb_access"
REFRESH_COOKIE = "sb_refresh"
REFRESH_PATH = "/api/auth/session"

router = APIRouter(prefix=REFRESH_PATH, tags=["browser session"], include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Only same-site paths: never `//evil.example` or `https://...` (open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _source_origin(request: Request) -> str | None:
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source or source == "null":
        return None
    parts = urlsplit(source)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def _is_listed(origin: str) -> bool:
    """The origin's host is named in ALLOWED_HOSTS or PUBLIC_URL (a "*" does not count)."""
    settings = get_settings()
    allowed = {*settings.allowed_hosts, urlsplit(settings.public_url).hostname or ""}
    return (urlsplit(origin).hostname or "") in allowed


def _is_allowed(origin: str) -> bool:
    return "*" in get_settings().allowed_hosts or _is_listed(origin)


def _frontend(request: Request, path: str, **query: str) -> str:
    """An absolute URL on the page's own origin (the dev server's port differs from ours).

    Only a listed origin is trusted as the base; with ALLOWED_HOSTS=* an unknown origin
    gets PUBLIC_URL, so the redirect never leaves the site.
    """
    origin = _source_origin(request)
    base = origin if origin and _is_listed(origin) else get_settings().public_url.rstrip("/")
    query = {key: value for key, value in query.items() if value}
    suffix = f"?{urlencode(query)}" if query else ""
    return base + path + suffix


def _check_same_site(request: Request) -> None:
    origin = _source_origin(request)
    if origin and not _is_allowed(origin):
        raise PermissionDenied("Cross-site request refused.")


def _set_cookies(response: RedirectResponse, tokens: TokenPair) -> None:
    secure = get_settings().is_production
    response.set_cookie(ACCESS_COOKIE, tokens.access_token, httponly=True, secure=secure,
                        samesite="lax", path="/",
                        max_age=get_settings().refresh_token_days * 86400)
    response.set_cookie(REFRESH_COOKIE, tokens.refresh_token, httponly=True, secure=secure,
                        samesite="strict", path=REFRESH_PATH,
                        max_age=get_settings().refresh_token_days * 86400)


def _clear_cookies(response: RedirectResponse) -> None:
    response.delete_cookie(ACCESS_COOKIE, path="/")
    response.delete_cookie(REFRESH_COOKIE, path=REFRESH_PATH)


@router.post("/")
def login_form(
    request: Request,
    session: DbSession,
    username: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    next: Annotated[str, Form(max_length=2048)] = "/",  # noqa: A002
) -> RedirectResponse:
    target = safe_next(next)
    try:
        _check_same_site(request)
        user = accounts.authenticate(session, username, password)
        tokens = auth_tokens.issue_tokens(session, user)
    except ServiceError as error:
        # Back to the form with a code (never free text: the page picks the message).
        return RedirectResponse(
            _frontend(request, "/login", error=error.code, login=username[:254], next=target),
            status_code=303,
        )
    response = RedirectResponse(_frontend(request, target), status_code=303)
    _set_cookies(response, tokens)
    return response


@router.get("/refresh/")
def refresh(
    request: Request, session: DbSession, next: str = "/", required: bool = True,  # noqa: A002
) -> RedirectResponse:
    """Swap the refresh cookie for new cookies, then go back to `next`.

    If the refresh fails, the cookies are cleared and the browser goes to the login page,
    or straight back to `next` as an anonymous visitor when `required` is false.
    """
    target = safe_next(next)
    try:
        tokens = auth_tokens.refresh_tokens(session, request.cookies.get(REFRESH_COOKIE, ""))
    except ServiceError as error:
        fallback = (_frontend(request, "/login", error=error.code, next=target) if required
                    else _frontend(request, target))
        response = RedirectResponse(fallback, status_code=303)
        _clear_cookies(response)
        return response
    response = RedirectResponse(_frontend(request, target), status_code=303)
    _set_cookies(response, tokens)
    return response


@router.post("/logout/")
def logout(request: Request, session: DbSession) -> RedirectResponse:
    _check_same_site(request)
    auth_tokens.logout(session, request.cookies.get(REFRESH_COOKIE))
    response = RedirectResponse(_frontend(request, "/"), status_code=303)
    _clear_cookies(response)
    return response
