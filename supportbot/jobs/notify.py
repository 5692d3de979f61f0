"""Background job: send one notification delivery, with retries (services.notifications)."""

from __future__ import annotations

import time
import uuid

from supportbot.config import get_settings
from supportbot.db import session_scope
from supportbot.models import DeliveryChannel, DeliveryStatus, NotificationDelivery, Ticket, utcnow
from supportbot.services import notifications


def deliver(delivery_id: str) -> dict[str, object]:
    """Try the delivery once per entry of NOTIFY_RETRY_SECONDS + 1, waiting between
    attempts; record each outcome. Never raises for a failed send: the failure is data."""
    settings = get_settings()
    waits = [*settings.notify_retry_seconds, None]
    with session_scope() as session:
        delivery = session.get(NotificationDelivery, uuid.UUID(delivery_id))
        if delivery is None or delivery.status == DeliveryStatus.sent.value:
            return {"skipped": "already sent or gone"}
        ticket = session.get(Ticket, delivery.ticket_id) if delivery.ticket_id else None
        if ticket is None:
            delivery.status = DeliveryStatus.failed.value
            delivery.last_error = "the ticket no longer exists"
            return {"status": delivery.status}
        data = notifications.payload(ticket, settings)
        channel, target = delivery.channel, delivery.target
    for wait in waits:
        error = ""
        try:
            if channel == DeliveryChannel.email.value:
                notifications.send_email(target, data, settings)
            else:
                notifications.send_webhook(target, data, settings)
        except Exception as failure:  # noqa: BLE001 - any failure is recorded and retried
            error = f"{type(failure).__name__}: {failure}"[:2000]
        with session_scope() as session:
            delivery = session.get(NotificationDelivery, uuid.UUID(delivery_id))
            if delivery is None:
                return {"skipped": "gone"}
            delivery.attempts += 1
            delivery.last_error = error
            if not error:
                delivery.status = DeliveryStatus.sent.value
                delivery.sent_at = utcnow()
            elif wait is None:
                delivery.status = DeliveryStatus.failed.value
            session.add(delivery)
            status, attempts = delivery.status, delivery.attempts
        if not error or wait is None:
            return {"status": status, "attempts": attempts, "error": error}
        time.sleep(wait)
    return {"status": "failed"}
