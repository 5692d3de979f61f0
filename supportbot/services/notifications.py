"""Telling agents about new tickets: e-mail (aiosmtplib) and signed webhooks.

`ticket_opened()` records one `NotificationDelivery` per recipient in the ticket's
transaction; once it commits, one background job per delivery sends it
(`jobs.notify.deliver`), retrying with the waits of `NOTIFY_RETRY_SECONDS`. Every attempt
is recorded on the delivery, a delivery that never got through ends `failed` with its
last error (admins list them), and nothing here can roll back or block the ticket.

Webhooks get a JSON POST with `X-SupportBot-Signature: sha256=<hex>`, the HMAC-SHA256 of
the raw body with `WEBHOOK_SECRET`, and `X-SupportBot-Event`. Personal data in the text
is masked (`PII_MASK`) before it leaves the app.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from email.message import EmailMessage

import aiosmtplib
import httpx
import sqlalchemy as sa
from sqlmodel import Session, col, select

from supportbot.config import Settings, get_settings
from supportbot.models import (
    DeliveryChannel,
    DeliveryStatus,
    NotificationDelivery,
    Role,
    Ticket,
    User,
)
from supportbot.services import pii
from supportbot.services.permissions import Actor, require_role

EVENT_OPENED = "ticket.escalated"
SIGNATURE_HEADER = "X-SupportBot-Signature"
EVENT_HEADER = "X-SupportBot-Event"
TIMEOUT_SECONDS = 10.0


def ticket_opened(session: Session, ticket: Ticket) -> list[NotificationDelivery]:
    """Record the deliveries for a new ticket; they are sent after the commit."""
    settings = get_settings()
    deliveries = []
    if settings.smtp_host:
        staff = session.exec(select(User.email).where(
            col(User.role).in_([Role.agent.value, Role.admin.value]), col(User.is_active)))
        for address in dict.fromkeys([*staff, *settings.notify_emails]):
            deliveries.append(NotificationDelivery(ticket_id=ticket.id, event=EVENT_OPENED,
                                                   channel=DeliveryChannel.email.value,
                                                   target=address))
    for url in settings.webhook_urls:
        deliveries.append(NotificationDelivery(ticket_id=ticket.id, event=EVENT_OPENED,
                                               channel=DeliveryChannel.webhook.value,
                                               target=url))
    for delivery in deliveries:
        session.add(delivery)
    session.flush()
    session.info.setdefault("deliveries", []).extend(d.id for d in deliveries)
    return deliveries


@sa.event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    pending = session.info.pop("deliveries", [])
    if pending:
        from supportbot.jobs.notify import deliver
        from supportbot.jobs.queue import enqueue

        for delivery_id in pending:
            enqueue(deliver, str(delivery_id))


@sa.event.listens_for(Session, "after_rollback")
def _forget_deliveries(session: Session) -> None:
    session.info.pop("deliveries", None)


def payload(ticket: Ticket, settings: Settings) -> dict[str, object]:
    kinds = settings.pii_mask
    return {
        "event": EVENT_OPENED,
        "ticket": {
            "id": str(ticket.id), "reference": ticket.reference,
            "title": pii.mask(ticket.title, kinds), "priority": ticket.priority,
            "queue": ticket.queue, "tags": list(ticket.tags), "status": ticket.status,
            "escalation_reason": ticket.escalation_reason,
            "handoff_note": pii.mask(ticket.handoff_note, kinds),
            "created_at": ticket.created_at.isoformat(),
        },
        "url": f"{settings.public_url.rstrip('/')}/desk/{ticket.id}",
    }


def signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send_webhook(url: str, data: dict[str, object], settings: Settings) -> None:
    body = json.dumps(data, ensure_ascii=False, sort_keys=True).encode()
    headers = {"Content-Type": "application/json", EVENT_HEADER: str(data["event"])}
    if settings.webhook_secret:
        headers[SIGNATURE_HEADER] = signature(body, settings.webhook_secret)
    response = httpx.post(url, content=body, headers=headers, timeout=TIMEOUT_SECONDS)
    if response.status_code >= 300:
        raise RuntimeError(f"HTTP {response.status_code} from {url}")


def email_message(address: str, data: dict[str, object], settings: Settings) -> EmailMessage:
    ticket = data["ticket"]
    assert isinstance(ticket, dict)
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = address
    message["Subject"] = (f"[SupportBot] {ticket['reference']} ({ticket['priority']}, "
                          f"{ticket['queue']}): {ticket['title']}")
    message.set_content(f"A conversation was handed to people.\n\n{ticket['handoff_note']}\n\n"
                        f"Open the ticket: {data['url']}\n")
    return message


def send_email(address: str, data: dict[str, object], settings: Settings) -> None:
    asyncio.run(aiosmtplib.send(
        email_message(address, data, settings), hostname=settings.smtp_host,
        port=settings.smtp_port, username=settings.smtp_user or None,
        password=settings.smtp_password or None, start_tls=settings.smtp_starttls,
        timeout=TIMEOUT_SECONDS))


def list_deliveries(session: Session, actor: Actor | None, *, status: str | None = None,
                    limit: int = 100) -> list[NotificationDelivery]:
    """Deliveries, newest first (admins: what failed and why)."""
    require_role(actor, Role.admin)
    query = select(NotificationDelivery).order_by(col(NotificationDelivery.created_at).desc())
    if status:
        query = query.where(NotificationDelivery.status == DeliveryStatus(status).value)
    return list(session.exec(query.limit(limit)))
