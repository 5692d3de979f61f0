"""The Reflex app: creates `rx.App` with the REST API mounted, and registers the pages."""

from __future__ import annotations

import reflex as rx

from supportbot.api.app import create_api
from supportbot.services.startup import forking_workers, preload_before_fork, warm_up
from supportbot.ui.errors import backend_exception
from supportbot.ui.i18n import text_for
from supportbot.ui.pages import (
    account,
    admin_embed,
    admin_feedback,
    admin_kb,
    admin_metrics,
    admin_models,
    admin_rules,
    admin_suggestions,
    admin_users,
    auth,
    chat,
    desk,
    help_center,
    my_tickets,
)
from supportbot.ui.state import SessionState

app = rx.App(
    api_transformer=create_api(),
    backend_exception_handler=backend_exception,  # Redis down: say so (ui/errors.py)
    head_components=[
        rx.el.link(rel="icon", href="/favicon.svg", type="image/svg+xml"),
        # Before the app's modules: memory storage where the browser refuses localStorage
        # (the chat embedded on another site with third-party cookies blocked).
        rx.el.script(src="/storage-fallback.js"),
    ],
)
app.register_lifespan_task(warm_up)  # index, embedding model (and generator) at start-up
if forking_workers():  # production backend: load the models once, before the fork
    preload_before_fork()

app.add_page(chat.chat_page, route="/", title="SupportBot", on_load=chat.ON_LOAD)
app.add_page(chat.widget_page, route="/widget", title="SupportBot", on_load=chat.ON_LOAD)
app.add_page(help_center.help_center_view, route="/kb", title="SupportBot · " +
             text_for("kb.title", "en"), on_load=help_center.ON_LOAD_LIST)
app.add_page(help_center.article_view, route="/kb/[article_id]", title="SupportBot",
             on_load=help_center.ON_LOAD_ARTICLE)
app.add_page(auth.login_view, route="/login", title="SupportBot · Log in",
             on_load=[SessionState.load_session, auth.LoginState.load])
app.add_page(auth.register_view, route="/register", title="SupportBot · Sign up",
             on_load=SessionState.load_session)
app.add_page(account.account_view, route="/account", title="SupportBot · My account",
             on_load=SessionState.require_login)
app.add_page(desk.desk_view, route="/desk", title="SupportBot · Desk", on_load=desk.DESK_ON_LOAD)
app.add_page(desk.ticket_view, route="/desk/[ticket_id]", title="SupportBot · Ticket",
             on_load=desk.TICKET_ON_LOAD)
app.add_page(my_tickets.my_tickets_view, route="/tickets", title="SupportBot · My tickets",
             on_load=my_tickets.ON_LOAD)
app.add_page(admin_rules.rules_view, route="/admin/rules", title="SupportBot · Rules",
             on_load=admin_rules.RULES_ON_LOAD)
app.add_page(admin_rules.deliveries_view, route="/admin/notifications",
             title="SupportBot · Notifications", on_load=admin_rules.DELIVERIES_ON_LOAD)
app.add_page(admin_kb.kb_admin_view, route="/admin/kb", title="SupportBot · Knowledge base",
             on_load=admin_kb.ON_LOAD)
app.add_page(admin_feedback.feedback_view, route="/admin/feedback",
             title="SupportBot · Feedback", on_load=admin_feedback.ON_LOAD)
app.add_page(admin_suggestions.suggestions_view, route="/admin/suggestions",
             title="SupportBot · KB suggestions", on_load=admin_suggestions.ON_LOAD)
app.add_page(admin_users.users_view, route="/admin/users", title="SupportBot · Users",
             on_load=admin_users.USERS_ON_LOAD)
app.add_page(admin_users.audit_view, route="/admin/audit", title="SupportBot · Audit log",
             on_load=admin_users.AUDIT_ON_LOAD)
app.add_page(admin_metrics.metrics_view, route="/admin/metrics", title="SupportBot · Metrics",
             on_load=admin_metrics.ON_LOAD)
app.add_page(admin_embed.embed_view, route="/admin/embed", title="SupportBot · Widget",
             on_load=admin_embed.ON_LOAD)
app.add_page(admin_models.models_view, route="/admin/models",
             title="SupportBot · Search model", on_load=admin_models.ON_LOAD)
