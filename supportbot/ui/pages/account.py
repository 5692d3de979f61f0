"""`/account`: who I am, change my password, log out."""

from __future__ import annotations

import reflex as rx

from supportbot.db import session_scope
from supportbot.errors import NotAuthenticated, ServiceError
from supportbot.services import accounts
from supportbot.ui.components.layout import logout_button, notice, page_frame
from supportbot.ui.i18n import t
from supportbot.ui.state import SessionState
from supportbot.ui.translate import service_message


class AccountState(rx.State):
    error: str = ""

    @rx.event
    async def change_password(self, form: dict[str, str]):  # noqa: ANN201
        session_state = await self.get_state(SessionState)
        try:
            user = session_state.current_user()
            if user is None:
                raise NotAuthenticated("Please log in.")
            with session_scope() as session:
                user = session.merge(user)
                accounts.change_password(session, user, form.get("current_password") or "",
                                         form.get("new_password") or "")
        except NotAuthenticated:
            return rx.redirect("/login?error=session_expired&next=/account")
        except ServiceError as error:
            self.error = service_message(error.message, session_state.lang)
            return None
        self.error = ""
        # Every session of the account just ended, this one too: log in again.
        return rx.redirect("/login?info=password_changed")


def _row(label_key: str, value: rx.Var) -> rx.Component:
    return rx.data_list.item(rx.data_list.label(t(label_key)), rx.data_list.value(value))


def account_view() -> rx.Component:
    return page_frame(
        rx.vstack(
            rx.heading(t("account.title"), size="7", as_="h1"),
            rx.card(
                rx.data_list.root(
                    _row("account.username", SessionState.username),
                    _row("account.email", SessionState.email),
                    _row("account.role", rx.match(SessionState.role,
                                                  ("admin", t("role.admin")),
                                                  ("agent", t("role.agent")),
                                                  t("role.user"))),
                ),
                width="100%",
            ),
            rx.card(
                rx.form(
                    rx.vstack(
                        rx.heading(t("account.change_password"), size="4", as_="h2"),
                        rx.cond(AccountState.error != "", notice(AccountState.error)),
                        rx.el.label(t("account.current_password"), html_for="current-password"),
                        rx.input(id="current-password", name="current_password", type="password",
                                 auto_complete="current-password", required=True, width="100%"),
                        rx.el.label(t("account.new_password"), html_for="new-password"),
                        rx.input(id="new-password", name="new_password", type="password",
                                 auto_complete="new-password", required=True, max_length=128,
                                 width="100%"),
                        rx.text(t("register.password_hint"), size="1", color_scheme="gray"),
                        rx.button(t("account.save_password"), type="submit"),
                        spacing="2",
                        width="100%",
                    ),
                    on_submit=AccountState.change_password,
                ),
                width="100%",
            ),
            logout_button(),
            spacing="4",
            max_width="32rem",
            width="100%",
        )
    )
