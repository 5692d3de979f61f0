"""`/admin/metrics`: the help desk's figures for a chosen period, with charts. Admins only."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import reflex as rx

from supportbot.db import session_scope
from supportbot.errors import NotAuthenticated, ServiceError
from supportbot.models import Role, utcnow
from supportbot.services import metrics
from supportbot.ui.components.layout import page_frame
from supportbot.ui.i18n import MESSAGES, t, text_for
from supportbot.ui.state import SessionState, acting_user

PERIODS = {"7": 7, "30": 30, "90": 90}


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f} %"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


class MetricsState(rx.State):
    period: str = "7"
    per_day: list[dict[str, Any]] = []
    by_reason: list[dict[str, Any]] = []
    cards: dict[str, str] = {}

    @rx.event
    async def load(self) -> None:
        end: date = utcnow().date()
        start = end - timedelta(days=PERIODS.get(self.period, 7) - 1)
        try:
            admin = await acting_user(self, Role.admin)
            with session_scope() as session:
                figures = metrics.summary(session, admin, start, end)
        except (ServiceError, NotAuthenticated):
            self.per_day, self.by_reason, self.cards = [], [], {}
            return
        self.per_day = [{"day": day[5:], "conversations": count}
                        for day, count in figures.conversations_per_day]
        lang = (await self.get_state(SessionState)).lang
        self.by_reason = [{"reason": text_for(f"reason.{reason}", lang)
                           if f"reason.{reason}" in MESSAGES else reason, "escalations": count}
                          for reason, count in figures.escalations_by_reason.items()]
        self.cards = {
            "conversations": str(figures.conversations),
            "escalation_rate": _percent(figures.escalation_rate),
            "positive": _percent(figures.positive_feedback_share),
            "latency": f"{_ms(figures.latency_ms_p50)} / {_ms(figures.latency_ms_p95)}",
            "open_tickets": str(figures.open_tickets),
            "tickets": f"{figures.tickets_opened} / {figures.tickets_closed}",
        }

    @rx.event
    async def set_period(self, value: str) -> None:
        self.period = value if value in PERIODS else "7"
        await self.load()


def _card(key: str) -> rx.Component:
    return rx.card(rx.vstack(
        rx.text(t(f"metrics.{key}"), size="2", color_scheme="gray"),
        rx.text(MetricsState.cards[key], size="6", weight="bold", id=f"metric-{key}"),
        spacing="1",
    ), min_width="12rem")


def metrics_view() -> rx.Component:
    return page_frame(rx.vstack(
        rx.hstack(
            rx.heading(t("metrics.title"), size="7", as_="h1"),
            rx.spacer(),
            rx.el.select(*[rx.el.option(t(f"metrics.last_{days}"), value=days)
                           for days in PERIODS],
                         value=MetricsState.period, on_change=MetricsState.set_period,
                         aria_label=t("metrics.period")),
            width="100%", align="center",
        ),
        rx.hstack(*[_card(key) for key in ("conversations", "escalation_rate", "positive",
                                          "latency", "open_tickets", "tickets")],
                  wrap="wrap", spacing="3"),
        rx.heading(t("metrics.per_day"), size="4"),
        rx.recharts.bar_chart(
            rx.recharts.bar(data_key="conversations", fill="var(--accent-9)"),
            rx.recharts.x_axis(data_key="day"),
            rx.recharts.y_axis(allow_decimals=False),
            rx.recharts.graphing_tooltip(),
            data=MetricsState.per_day, width="100%", height=240,
        ),
        rx.heading(t("metrics.by_reason"), size="4"),
        rx.recharts.bar_chart(
            rx.recharts.bar(data_key="escalations", fill="var(--orange-9)"),
            rx.recharts.x_axis(data_key="reason"),
            rx.recharts.y_axis(allow_decimals=False),
            rx.recharts.graphing_tooltip(),
            data=MetricsState.by_reason, width="100%", height=240,
        ),
        spacing="4", width="100%",
    ))


ON_LOAD = [SessionState.require_admin, MetricsState.load]
