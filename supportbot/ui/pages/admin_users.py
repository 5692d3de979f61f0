"""`/admin/users`: accounts and roles; `/admin/audit`: who did what. Admins only."""

from __future__ import annotations

import json
import uuid
from typing import Any

import reflex as rx
from sqlmodel import col, select

from supportbot.db import session_scope
from supportbot.errors import NotAuthenticated, ServiceError
from supportbot.models import KnowledgeEntry, Role, Ticket, User
from supportbot.services import accounts, audit
from supportbot.ui.components.layout import notice, page_frame
from supportbot.ui.i18n import t
from supportbot.ui.state import SessionState, acting_user
from supportbot.ui.translate import service_message


TARGET_TYPES = ("user", "ticket", "knowledge_entry", "feedback", "app_setting",
                "embedding_model", "kb_suggestion")


class _AdminState(rx.State):
    error: str = ""

    async def _admin(self):  # noqa: ANN202
        return await acting_user(self, Role.admin)

    async def _fail(self, error: ServiceError) -> None:
        self.error = service_message(error.message, (await self.get_state(SessionState)).lang)


class UsersState(_AdminState):
    rows: list[dict[str, str]] = []
    field_errors: dict[str, str] = {}
    created: str = ""

    async def _list(self) -> None:
        admin = await self._admin()
        with session_scope() as session:
            self.rows = [{"id": str(u.id), "username": u.username, "email": u.email,
                          "role": u.role, "active": "yes" if u.is_active else "no",
                          "last_login": u.last_login_at.strftime("%Y-%m-%d %H:%M")
                          if u.last_login_at else ""}
                         for u in accounts.list_users(session, admin, limit=500)]

    @rx.event
    async def load(self) -> None:
        self.error, self.created, self.field_errors = "", "", {}
        try:
            await self._list()
        except (ServiceError, NotAuthenticated):
            self.rows = []

    @rx.event
    async def create(self, form: dict[str, Any]):  # noqa: ANN201
        lang = (await self.get_state(SessionState)).lang
        try:
            admin = await self._admin()
            with session_scope() as session:
                user = accounts.create_user(
                    session, admin, username=str(form.get("username", "")),
                    email=str(form.get("email", "")), password=str(form.get("password", "")),
                    role=str(form.get("role", "user")))
                self.created = user.username
            self.error, self.field_errors = "", {}
            await self._list()
        except ServiceError as error:
            self.created = ""
            self.error = service_message(error.message, lang)
            self.field_errors = {k: service_message(v, lang) for k, v in error.fields.items()}
            return None
        return rx.set_value("new-password", "")

    @rx.event
    async def change_role(self, user_id: str, role: str) -> None:
        try:
            admin = await self._admin()
            with session_scope() as session:
                accounts.set_role(session, admin, user_id, role)
            self.error = ""
        except ServiceError as error:
            await self._fail(error)
        try:
            await self._list()
        except ServiceError:
            self.rows = []

    @rx.event
    async def toggle_active(self, user_id: str, active: str) -> None:
        try:
            admin = await self._admin()
            with session_scope() as session:
                accounts.set_active(session, admin, user_id, active != "yes")
            self.error = ""
        except ServiceError as error:
            await self._fail(error)
        try:
            await self._list()
        except ServiceError:
            self.rows = []


def _by_id(session, model, column, ids) -> dict[str, str]:  # noqa: ANN001
    """`column` of the `model` rows whose ids are in `ids` (strings), by id string."""
    wanted = set()
    for value in ids:
        try:
            wanted.add(uuid.UUID(str(value)))
        except ValueError:
            continue
    if not wanted:
        return {}
    rows = session.exec(select(model.id, column).where(col(model.id).in_(wanted))).all()
    return {str(row_id): str(value) for row_id, value in rows}


def audit_names(session, rows) -> tuple[dict[str, str], dict[str, str]]:  # noqa: ANN001
    """Who (username) and what (username, ticket reference, article title) each audit row
    names, so the log shows names instead of ids."""
    actors = _by_id(session, User, User.username, [r.actor_id for r in rows if r.actor_id])
    ids = {kind: [r.target_id for r in rows if r.target_type == kind]
           for kind in ("user", "ticket", "knowledge_entry")}
    targets = {**_by_id(session, User, User.username, ids["user"]),
               **_by_id(session, Ticket, Ticket.reference, ids["ticket"]),
               **_by_id(session, KnowledgeEntry, KnowledgeEntry.title, ids["knowledge_entry"])}
    for row in rows:  # a deleted article: its title is in the change itself
        if row.target_id not in targets:
            title = (row.before or {}).get("title") or (row.after or {}).get("title")
            if title:
                targets[row.target_id] = str(title)
    return actors, targets


class AuditState(_AdminState):
    rows: list[dict[str, str]] = []

    @rx.event
    async def load(self) -> None:
        try:
            admin = await self._admin()
            with session_scope() as session:
                found = audit.recent(session, admin, limit=200)
                actors, targets = audit_names(session, found)
                self.rows = [{"when": r.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                              "actor": actors.get(str(r.actor_id), "") if r.actor_id else "",
                              "action": r.action, "type": r.target_type,
                              "target": targets.get(r.target_id, ""),
                              "change": json.dumps({"before": r.before, "after": r.after},
                                                   ensure_ascii=False)[:300]}
                             for r in found]
        except (ServiceError, NotAuthenticated):
            self.rows = []


def _role_menu(row: rx.Var) -> rx.Component:
    return rx.el.select(
        *[rx.el.option(t(f"role.{role.value}"), value=role.value) for role in Role],
        value=row["role"], aria_label=t("account.role"),
        on_change=lambda value: UsersState.change_role(row["id"].to(str), value),
    )


def _user_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["username"]),
        rx.table.cell(row["email"]),
        rx.table.cell(_role_menu(row)),
        rx.table.cell(rx.cond(row["active"] == "yes", t("users.active"), t("users.inactive"))),
        rx.table.cell(row["last_login"]),
        rx.table.cell(rx.button(
            rx.cond(row["active"] == "yes", t("users.deactivate"), t("users.reactivate")),
            variant="soft", size="1",
            on_click=UsersState.toggle_active(row["id"].to(str), row["active"].to(str)))),
        class_name="user-row", data_username=row["username"],
    )


def _field(name: str, label_key: str, kind: str = "text") -> rx.Component:
    return rx.vstack(
        rx.el.label(t(label_key), html_for=f"new-{name}", font_weight="bold", font_size="0.85em"),
        rx.input(name=name, id=f"new-{name}", type=kind),
        rx.cond(UsersState.field_errors.contains(name),
                rx.text(UsersState.field_errors[name], color_scheme="red", size="1",
                        class_name="field-error")),
        spacing="1",
    )


def users_view() -> rx.Component:
    return page_frame(rx.vstack(
        rx.heading(t("users.title"), size="7", as_="h1"),
        rx.cond(UsersState.error != "", notice(UsersState.error)),
        rx.cond(UsersState.created != "", notice(t("users.created"), kind="info")),
        rx.card(rx.form(rx.hstack(
            _field("username", "account.username"),
            _field("email", "account.email", "email"),
            _field("password", "users.password", "password"),
            rx.vstack(
                rx.el.label(t("account.role"), html_for="new-role", font_weight="bold",
                            font_size="0.85em"),
                rx.el.select(*[rx.el.option(t(f"role.{r.value}"), value=r.value) for r in Role],
                             name="role", id="new-role", default_value="user"),
                spacing="1",
            ),
            rx.button(t("users.create"), type="submit"),
            align="end", wrap="wrap", spacing="3",
        ), on_submit=UsersState.create, reset_on_submit=False), width="100%"),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(t(k)) for k in (
                "account.username", "account.email", "account.role", "users.status",
                "users.last_login", "users.action")])),
            rx.table.body(rx.foreach(UsersState.rows, _user_row)),
            width="100%",
        ),
        spacing="4", width="100%",
    ))


def audit_view() -> rx.Component:
    def row(item: rx.Var) -> rx.Component:
        actor = rx.cond(item["actor"] != "", item["actor"], t("audit.system"))
        kind = rx.match(item["type"], *[(kind, t(f"audit.type_{kind}")) for kind in TARGET_TYPES],
                        item["type"])
        return rx.table.row(
            rx.table.cell(rx.text(item["when"], size="1")),
            rx.table.cell(rx.text(actor, size="1")),
            rx.table.cell(rx.text(item["action"], size="1")),
            rx.table.cell(rx.text(kind, rx.cond(item["target"] != "", ": " + item["target"], ""),
                                  size="1")),
            rx.table.cell(rx.text(item["change"], size="1")),
            class_name="audit-row",
        )

    return page_frame(rx.vstack(
        rx.heading(t("audit.title"), size="7", as_="h1"),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(t(f"audit.{k}")) for k in
                                           ("when", "actor", "action", "target", "change")])),
            rx.table.body(rx.foreach(AuditState.rows, row)),
            width="100%",
        ),
        spacing="4", width="100%",
    ))


USERS_ON_LOAD = [SessionState.require_admin, UsersState.load]
AUDIT_ON_LOAD = [SessionState.require_admin, AuditState.load]
