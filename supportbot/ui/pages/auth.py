"""Log in, sign up and the account page (`/login`, `/register`, `/account`).

Logging in is a plain HTML form posted to the backend route that sets the HttpOnly
cookies; it works the same with or without this page's state.
"""

from __future__ import annotations

import reflex as rx

from supportbot.api.browser_session import safe_next
from supportbot.db import session_scope
from supportbot.errors import ServiceError
from supportbot.services import accounts
from supportbot.ui.components.backend import backend_url
from supportbot.ui.components.layout import notice, page_frame
from supportbot.ui.components.post_form import post_form
from supportbot.ui.i18n import MESSAGES, t
from supportbot.ui.state import SessionState
from supportbot.ui.translate import service_message

# Codes the login page may be sent back with; anything else shows the generic message.
_ERROR_CODES = ("invalid_credentials", "account_deactivated", "session_expired",
                "not_authenticated", "permission_denied")
_INFO_CODES = {"registered": "login.registered", "password_changed": "login.password_changed"}


class LoginState(rx.State):
    error_key: str = ""
    info_key: str = ""
    login: str = ""
    next_path: str = "/"

    @rx.event
    def load(self) -> None:
        params = self.router.url.query_parameters
        error = params.get("error", "")
        self.error_key = (f"error.{error}" if error in _ERROR_CODES
                          else "error.generic" if error else "")
        self.info_key = _INFO_CODES.get(params.get("info", ""), "")
        self.login = params.get("login", "")[:254]
        self.next_path = safe_next(params.get("next"))


def _message_for(key_var: rx.Var) -> rx.Component:
    """Show the message whose key is in `key_var` (keys come from a fixed list)."""
    keys = [*(f"error.{code}" for code in _ERROR_CODES), "error.generic", *_INFO_CODES.values()]
    return rx.match(key_var, *[(key, t(key)) for key in keys if key in MESSAGES], "")


def login_view() -> rx.Component:
    return page_frame(
        rx.center(
            rx.card(
                post_form(
                    rx.vstack(
                        rx.heading(t("login.title"), size="6", as_="h1"),
                        rx.cond(LoginState.error_key != "",
                                notice(_message_for(LoginState.error_key))),
                        rx.cond(LoginState.info_key != "",
                                notice(_message_for(LoginState.info_key), kind="info")),
                        rx.el.label(t("login.username"), html_for="login-username"),
                        rx.input(id="login-username", name="username",
                                 default_value=LoginState.login, auto_complete="username",
                                 required=True, max_length=254, width="100%", size="3",
                                 auto_focus=True),
                        rx.el.label(t("login.password"), html_for="login-password"),
                        rx.input(id="login-password", name="password", type="password",
                                 auto_complete="current-password", required=True,
                                 max_length=256, width="100%", size="3"),
                        rx.el.input(type="hidden", name="next", value=LoginState.next_path),
                        rx.button(t("login.submit"), type="submit", width="100%", size="3"),
                        rx.hstack(rx.text(t("login.no_account"), size="2"),
                                  rx.link(t("nav.register"), href="/register", size="2")),
                        spacing="3",
                        width="100%",
                    ),
                    action=backend_url("/api/auth/session/"),
                    method="post",
                ),
                width="100%",
                max_width="26rem",
            ),
            padding_top="2rem",
        )
    )


class RegisterState(rx.State):
    username: str = ""
    email: str = ""
    error: str = ""
    field_errors: dict[str, str] = {}

    @rx.event
    async def submit(self, form: dict[str, str]):  # noqa: ANN201
        # Keep what was typed (never the password) so nothing is lost on an error.
        self.username = (form.get("username") or "")[:64]
        self.email = (form.get("email") or "")[:254]
        lang = (await self.get_state(SessionState)).lang
        try:
            with session_scope() as session:
                user = accounts.register(session, username=self.username, email=self.email,
                                         password=form.get("password") or "")
        except ServiceError as error:
            self.error = service_message(error.message, lang)
            self.field_errors = {name: service_message(text, lang)
                                 for name, text in error.fields.items()}
            return None
        self.error, self.field_errors = "", {}
        return rx.redirect(f"/login?info=registered&login={user.username}")

    @rx.var
    def username_error(self) -> str:
        return self.field_errors.get("username", "")

    @rx.var
    def email_error(self) -> str:
        return self.field_errors.get("email", "")

    @rx.var
    def password_error(self) -> str:
        return self.field_errors.get("password", "")


def _field(label_key: str, field_id: str, name: str, error: rx.Var, **props) -> rx.Component:
    return rx.vstack(
        rx.el.label(t(label_key), html_for=field_id),
        rx.input(id=field_id, name=name, width="100%", size="3", **props),
        rx.cond(error != "", rx.text(error, color_scheme="red", size="2", role="alert")),
        spacing="1",
        width="100%",
    )


def register_view() -> rx.Component:
    return page_frame(
        rx.center(
            rx.card(
                rx.form(
                    rx.vstack(
                        rx.heading(t("register.title"), size="6", as_="h1"),
                        rx.cond(RegisterState.error != "", notice(RegisterState.error)),
                        _field("register.username", "reg-username", "username",
                               RegisterState.username_error, default_value=RegisterState.username,
                               auto_complete="username", required=True, max_length=64),
                        _field("register.email", "reg-email", "email", RegisterState.email_error,
                               default_value=RegisterState.email, type="email",
                               auto_complete="email", required=True, max_length=254),
                        _field("register.password", "reg-password", "password",
                               RegisterState.password_error, type="password",
                               auto_complete="new-password", required=True, max_length=128),
                        rx.text(t("register.password_hint"), size="1", color_scheme="gray"),
                        rx.button(t("register.submit"), type="submit", width="100%", size="3"),
                        rx.hstack(rx.text(t("register.have_account"), size="2"),
                                  rx.link(t("nav.login"), href="/login", size="2")),
                        spacing="3",
                        width="100%",
                    ),
                    on_submit=RegisterState.submit,
                    reset_on_submit=False,
                ),
                width="100%",
                max_width="26rem",
            ),
            padding_top="2rem",
        )
    )
