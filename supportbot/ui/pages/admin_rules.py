"""`/admin/rules`: escalation rules and threshold; `/admin/notifications`: deliveries.

Admins only (checked on load and, through the services, in every handler).
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import col, select

from supportbot.db import session_scope
from supportbot.errors import NotAuthenticated, ServiceError
from supportbot.models import Role, Ticket
from supportbot.services import escalation, notifications
from supportbot.ui.components.layout import notice, page_frame
from supportbot.ui.i18n import t
from supportbot.ui.state import SessionState, acting_user
from supportbot.ui.translate import service_message


def _pairs(text: str) -> list[tuple[str, str]]:
    """Lines of "left: right" (the right side may be empty)."""
    pairs = []
    for line in text.splitlines():
        if line.strip():
            left, _, right = line.rpartition(":") if ":" in line else (line, "", "")
            pairs.append((left.strip(), right.strip()))
    return pairs


def rules_to_form(rules: escalation.Rules) -> dict[str, str]:
    return {
        "threshold": f"{rules.threshold:g}",
        "keywords": "\n".join(f"{k.phrase}: {k.priority}" for k in rules.keywords),
        "person_phrases": "\n".join(rules.person_phrases),
        "unresolved_turns": str(rules.unresolved_turns),
        "routing": "\n".join(f"{tag}: {queue}" for tag, queue in rules.routing.items()),
    }


def form_to_rules(form: dict[str, Any]) -> dict[str, object]:
    """The service's input from the form; malformed numbers are left for it to refuse."""
    def number(value: object, kind: type) -> object:
        try:
            return kind(str(value).strip().replace(",", "."))
        except ValueError:
            return str(value)

    return {
        "threshold": number(form.get("threshold", ""), float),
        "keywords": [{"phrase": phrase, "priority": priority or "high"}
                     for phrase, priority in _pairs(str(form.get("keywords", "")))],
        "person_phrases": [line.strip() for line in str(form.get("person_phrases", ""))
                           .splitlines() if line.strip()],
        "unresolved_turns": number(form.get("unresolved_turns", ""), int),
        "routing": dict(_pairs(str(form.get("routing", "")))),
    }


class RulesState(rx.State):
    values: dict[str, str] = {}
    field_errors: dict[str, str] = {}
    error: str = ""
    saved: bool = False

    async def _admin(self):  # noqa: ANN202
        return await acting_user(self, Role.admin)

    @rx.event
    async def load(self) -> None:
        self.field_errors, self.error, self.saved = {}, "", False
        try:
            await self._admin()
        except (ServiceError, NotAuthenticated):
            return
        with session_scope() as session:
            self.values = rules_to_form(escalation.load_rules(session))

    @rx.event
    async def save(self, form: dict[str, Any]) -> None:
        lang = (await self.get_state(SessionState)).lang
        self.values = {key: str(form.get(key, "")) for key in
                       ("threshold", "keywords", "person_phrases", "unresolved_turns",
                        "routing")}  # what was typed stays on the page
        try:
            admin = await self._admin()
            with session_scope() as session:
                rules = escalation.save_rules(session, admin, form_to_rules(form))
            self.values = rules_to_form(rules)
            self.field_errors, self.error, self.saved = {}, "", True
        except ServiceError as error:
            self.saved = False
            self.error = service_message(error.message, lang)
            self.field_errors = {k: service_message(v, lang) for k, v in error.fields.items()}
        except NotAuthenticated:
            self.saved, self.error = False, service_message("Please log in.", lang)


def _references(session, ticket_ids) -> dict[Any, str]:  # noqa: ANN001
    """Ticket references by id, to say which ticket a delivery was about."""
    wanted = {i for i in ticket_ids if i}
    if not wanted:
        return {}
    return dict(session.exec(select(Ticket.id, Ticket.reference)
                             .where(col(Ticket.id).in_(wanted))).all())


class DeliveriesState(rx.State):
    rows: list[dict[str, str]] = []
    only_failed: bool = False

    @rx.event
    async def load(self) -> None:
        try:
            admin = await acting_user(self, Role.admin)
            with session_scope() as session:
                found = notifications.list_deliveries(
                    session, admin, status="failed" if self.only_failed else None)
                references = _references(session, [d.ticket_id for d in found])
                self.rows = [{"created": d.created_at.strftime("%Y-%m-%d %H:%M"),
                              "ticket": references.get(d.ticket_id, ""),
                              "channel": d.channel, "target": d.target, "status": d.status,
                              "attempts": str(d.attempts), "error": d.last_error[:300]}
                             for d in found]
        except ServiceError:
            self.rows = []

    @rx.event
    async def toggle_failed(self, value: bool) -> None:
        self.only_failed = bool(value)
        await self.load()


def _field(name: str, label_key: str, help_key: str, *, area: bool = False) -> rx.Component:
    control = (rx.text_area(name=name, id=f"rules-{name}", default_value=RulesState.values[name],
                            rows="8", width="100%")
               if area else rx.input(name=name, id=f"rules-{name}",
                                     default_value=RulesState.values[name]))
    return rx.vstack(
        rx.el.label(t(label_key), html_for=f"rules-{name}", font_weight="bold"),
        rx.text(t(help_key), size="1", color_scheme="gray"),
        control,
        rx.cond(RulesState.field_errors.contains(name),
                rx.text(RulesState.field_errors[name], color_scheme="red", size="2",
                        class_name="field-error")),
        width="100%", spacing="1",
    )


def rules_view() -> rx.Component:
    return page_frame(rx.vstack(
        rx.heading(t("rules.title"), size="7", as_="h1"),
        rx.cond(RulesState.error != "", notice(RulesState.error)),
        rx.cond(RulesState.saved, notice(t("rules.saved"), kind="info")),
        rx.form(
            rx.vstack(
                _field("threshold", "rules.threshold", "rules.threshold_help"),
                _field("unresolved_turns", "rules.turns", "rules.turns_help"),
                _field("keywords", "rules.keywords", "rules.keywords_help", area=True),
                _field("person_phrases", "rules.person", "rules.person_help", area=True),
                _field("routing", "rules.routing", "rules.routing_help", area=True),
                rx.button(t("rules.save"), type="submit"),
                spacing="4", width="100%",
            ),
            on_submit=RulesState.save, reset_on_submit=False, width="100%",
            key=RulesState.values.to_string(),  # re-render the fields when values change
        ),
        spacing="4", width="100%", max_width="48rem",
    ))


def deliveries_view() -> rx.Component:
    def row(item: rx.Var) -> rx.Component:
        return rx.table.row(
            rx.table.cell(item["created"]),
            rx.table.cell(item["ticket"]),
            rx.table.cell(rx.match(item["channel"], ("email", t("deliveries.email")),
                                   t("deliveries.webhook"))),
            rx.table.cell(rx.text(item["target"], word_break="break-all")),
            rx.table.cell(rx.badge(
                rx.match(item["status"], ("sent", t("deliveries.sent")),
                         ("failed", t("deliveries.failed")), t("deliveries.pending")),
                color_scheme=rx.match(item["status"], ("sent", "green"), ("failed", "red"),
                                      "gray"))),
            rx.table.cell(item["attempts"]),
            rx.table.cell(rx.text(item["error"], size="1")),
            class_name="delivery-row", data_status=item["status"],
        )

    return page_frame(rx.vstack(
        rx.heading(t("deliveries.title"), size="7", as_="h1"),
        rx.checkbox(t("deliveries.only_failed"), checked=DeliveriesState.only_failed,
                    on_change=DeliveriesState.toggle_failed),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(t(f"deliveries.{c}"))
                                           for c in ("created", "ticket", "channel", "target",
                                                     "status", "attempts", "error")])),
            rx.table.body(rx.foreach(DeliveriesState.rows, row)),
            width="100%",
        ),
        rx.cond(DeliveriesState.rows.length() == 0,
                rx.text(t("deliveries.empty"), color_scheme="gray")),
        spacing="4", width="100%",
    ))


RULES_ON_LOAD = [SessionState.require_admin, RulesState.load]
DELIVERIES_ON_LOAD = [SessionState.require_admin, DeliveriesState.load]
