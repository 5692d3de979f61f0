"""Notifications reach a real SMTP server and a real HTTP server on loopback."""

import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import select

from supportbot.jobs import queue
from supportbot.models import NotificationDelivery, Role, Ticket
from supportbot.services import chat, notifications

SECRET = "webhook-test-secret"


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's API
        self.messages.append((envelope.rcpt_tos, envelope.content.decode()))
        return "250 OK"


@pytest.fixture
def smtp():
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


@pytest.fixture
def webhook():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def escalate(session):
    conversation = chat.start_conversation(session)
    reply = chat.send_message(session, conversation.session_id,
                              "URGENTE: el servidor no funciona, mi correo es ana@example.com",
                              searcher=lambda text: (_ for _ in ()).throw(
                                  chat.IndexUnavailable("no index")))
    return reply.ticket


def test_a_new_ticket_mails_the_staff_and_calls_the_webhook(session, make_user, settings_env,
                                                            smtp, webhook):
    port, inbox = smtp
    url, received = webhook
    make_user("agent1", role=Role.agent)
    make_user("user1")
    settings_env(SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_STARTTLS="false",
                 NOTIFY_EMAILS="oncall@example.com", WEBHOOK_URLS=url, WEBHOOK_SECRET=SECRET,
                 NOTIFY_RETRY_SECONDS="0.1")
    ticket = escalate(session)
    queue.wait_in_process_jobs()
    recipients = sorted(to for tos, _ in inbox.messages for to in tos)
    assert recipients == ["agent1@example.org", "oncall@example.com"]  # not plain users
    content = inbox.messages[0][1]
    assert ticket.reference in content and "urgent" in content and "Reason: keyword" in content
    headers, body = received[0]
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-SupportBot-Signature"] == expected
    data = json.loads(body)
    assert data["ticket"]["reference"] == ticket.reference and data["event"] == "ticket.escalated"
    assert "ana@example.com" not in body.decode() and "[email]" in data["ticket"]["handoff_note"]
    session.expire_all()
    deliveries = session.exec(select(NotificationDelivery)).all()
    assert sorted(d.status for d in deliveries) == ["sent"] * 3
    assert all(d.attempts == 1 and d.sent_at for d in deliveries)


def test_a_dead_smtp_server_is_retried_then_recorded_and_the_ticket_stays(
        session, make_user, settings_env):
    make_user("agent1", role=Role.agent)
    settings_env(SMTP_HOST="127.0.0.1", SMTP_PORT=str(free_port()), SMTP_STARTTLS="false",
                 NOTIFY_RETRY_SECONDS="0.05,0.05")
    ticket = escalate(session)
    queue.wait_in_process_jobs()
    session.expire_all()
    delivery = session.exec(select(NotificationDelivery)).one()
    assert delivery.status == "failed" and delivery.attempts == 3
    assert delivery.last_error  # why it failed, for the admins
    assert session.get(Ticket, ticket.id).status == "open"
    failed = notifications.list_deliveries(session, make_user("admin1", role=Role.admin),
                                           status="failed")
    assert [d.id for d in failed] == [delivery.id]


def test_a_webhook_error_status_is_a_failure(session, settings_env):
    settings_env(WEBHOOK_URLS=f"http://127.0.0.1:{free_port()}/nothing",
                 NOTIFY_RETRY_SECONDS="0")
    escalate(session)
    queue.wait_in_process_jobs()
    session.expire_all()
    delivery = session.exec(select(NotificationDelivery)).one()
    assert delivery.status == "failed" and delivery.attempts == 2


def test_nothing_configured_nothing_sent(session):
    escalate(session)
    assert session.exec(select(NotificationDelivery)).all() == []


def test_an_rq_worker_delivers(session, make_user, settings_env, database, redis_url, webhook):
    url, received = webhook
    settings_env(REDIS_URL=redis_url, WEBHOOK_URLS=url, WEBHOOK_SECRET=SECRET)
    ticket = escalate(session)
    env = {**os.environ, "DATABASE_URL": database, "REDIS_URL": redis_url,
           "WEBHOOK_URLS": url, "WEBHOOK_SECRET": SECRET}
    worker = subprocess.run(
        [sys.executable, "-m", "rq.cli", "worker", "--burst", "--url", redis_url,
         queue.QUEUE_NAME], env=env, capture_output=True, text=True, timeout=120)
    assert worker.returncode == 0, worker.stderr
    assert json.loads(received[0][1])["ticket"]["id"] == str(ticket.id)
    session.expire_all()
    assert session.exec(select(NotificationDelivery)).one().status == "sent"


@pytest.mark.timeout(20)
@pytest.mark.parametrize("channel", ["email", "webhook"])
def test_a_server_that_accepts_then_hangs_times_out_each_attempt(session, make_user,
                                                                 settings_env, monkeypatch,
                                                                 channel):
    """Connection accepted, not a byte back (a wedged mail relay or web server): every
    attempt ends at the send timeout and the delivery is recorded failed, not stuck."""
    from tests.servers import SilentServer

    monkeypatch.setattr(notifications, "TIMEOUT_SECONDS", 0.5)
    make_user("agent1", role=Role.agent)
    with SilentServer() as silent:
        if channel == "email":
            settings_env(SMTP_HOST="127.0.0.1", SMTP_PORT=str(silent.port),
                         SMTP_STARTTLS="false", NOTIFY_RETRY_SECONDS="0.05")
        else:
            settings_env(WEBHOOK_URLS=f"http://127.0.0.1:{silent.port}/hook",
                         NOTIFY_RETRY_SECONDS="0.05")
        started = time.monotonic()
        escalate(session)
        queue.wait_in_process_jobs()
        elapsed = time.monotonic() - started
        assert silent.connections == 2  # both attempts reached it
    session.expire_all()
    delivery = session.exec(select(NotificationDelivery)).one()
    assert (delivery.status, delivery.attempts) == ("failed", 2)
    assert "timeout" in delivery.last_error.lower() or "timed out" in delivery.last_error.lower()
    assert elapsed < 2 * 0.5 + 0.05 + 3, elapsed
