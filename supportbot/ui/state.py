"""Who is using the page and in which language. Shared by every page; imports no page.

The user comes from the HttpOnly `sb_access` cookie that the login route sets; the
browser sends it on the Reflex WebSocket, so it is read from the connection's headers
and checked by the same service the REST API uses. Page scripts never see the token.
"""

from __future__ import annotations

import json
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlencode

import reflex as rx

from supportbot.api.browser_session import ACCESS_COOKIE, REFRESH_PATH, safe_next
from supportbot.db import session_scope
from supportbot.errors import NotAuthenticated, SessionExpired
from supportbot.models import Role, User
from supportbot.services import auth_tokens
from supportbot.services.permissions import require_role, role_at_least
from supportbot.ui.i18n import LANGUAGES, browser_language


class SessionState(rx.State):
    lang_choice: str = rx.LocalStorage("", name="sb_lang", sync=True)
    browser_lang: str = "en"
    username: str = ""
    email: str = ""
    role: str = ""
    checked: bool = False  # load_session has run for this page

    @rx.var
    def lang(self) -> str:
        return self.lang_choice if self.lang_choice in LANGUAGES else self.browser_lang

    @rx.var
    def is_authenticated(self) -> bool:
        return self.username != ""

    @rx.event
    def set_language(self, lang: str) -> None:
        if lang in LANGUAGES:
            self.lang_choice = lang

    def _access_token(self) -> str:
        try:
            cookies = SimpleCookie(self.router.headers.cookie or "")
        except CookieError:
            return ""
        morsel = cookies.get(ACCESS_COOKIE)
        return morsel.value if morsel else ""

    def _backend_url(self, path: str) -> str:
        """An absolute URL of a backend route, as the browser reaches the backend."""
        origin = self.router.headers.origin or ""
        scheme = "https" if origin.startswith("https") else "http"
        host = self.router.headers.host or ""
        return f"{scheme}://{host}{path}" if host else path

    def _navigate_to_backend(self, path: str) -> rx.event.EventSpec:
        # A full navigation (not the client router): the backend route sets cookies.
        return rx.call_script(f"window.location.assign({json.dumps(self._backend_url(path))})")

    def _forget_user(self) -> None:
        self.username = self.email = self.role = ""

    def current_user(self) -> User | None:
        """The logged-in user, checked now (call it in every handler that changes data)."""
        token = self._access_token()
        if not token:
            return None
        with session_scope() as session:
            return auth_tokens.user_from_access_token(session, token)

    @rx.event
    def load_session(self):  # noqa: ANN201
        """On every page load: language from the address (`?lang=es`, as the embedded
        widget asks) or the browser, user from the cookie. A language picked in the
        switch wins over both."""
        asked = self.router.url.query_parameters.get("lang", "")
        self.browser_lang = (asked if asked in LANGUAGES
                             else browser_language(self.router.headers.accept_language))
        self.checked = True
        try:
            user = self.current_user()
        except SessionExpired:
            self._forget_user()
            here = safe_next(self.router.url.path + (f"?{self.router.url.query}"
                                                       if self.router.url.query else ""))
            query = urlencode({"next": here, "required": "0"})
            return self._navigate_to_backend(f"{REFRESH_PATH}/refresh/?{query}")
        except NotAuthenticated:
            user = None
        if user is None:
            self._forget_user()
            return None
        self.username, self.email, self.role = user.username, user.email, user.role
        return None

    def _require(self, minimum: Role):  # noqa: ANN202
        redirect = self.load_session()
        if redirect is not None:
            return redirect
        if not self.username:
            here = self.router.url.path
            return rx.redirect(f"/login?{urlencode({'next': here, 'error': 'not_authenticated'})}")
        if not role_at_least(self.role, minimum):
            return rx.redirect("/?error=permission_denied")
        return None

    @rx.event
    def require_login(self):  # noqa: ANN201
        return self._require(Role.user)

    @rx.event
    def require_agent(self):  # noqa: ANN201
        return self._require(Role.agent)

    @rx.event
    def require_admin(self):  # noqa: ANN201
        return self._require(Role.admin)


async def acting_user(state: rx.State, minimum: Role = Role.user) -> User:
    """The user behind the event `state` is handling, holding at least `minimum`; raises
    NotAuthenticated or PermissionDenied (every page handler that changes data calls it)."""
    user = (await state.get_state(SessionState)).current_user()
    if user is None:
        raise NotAuthenticated("Please log in.")
    require_role(user, minimum)
    return user
