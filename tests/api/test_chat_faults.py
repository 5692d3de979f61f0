"""`/api/chat/message/` while Redis is stopped and while PostgreSQL restarts or is down:
the bot keeps answering, or the message is refused with a retryable 503 in the one error
shape, and every message the API accepted is stored exactly once. Throw-away servers of
the test's own: tests/servers.py."""

import time

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from sqlmodel import Session, func, select

from supportbot import schema
from supportbot.ai.records import read_articles
from supportbot.api.app import create_api
from supportbot.db import engine_for, session_scope
from supportbot.jobs import queue
from supportbot.jobs.reindex import rebuild_index
from supportbot.models import Message, NotificationDelivery
from supportbot.services import knowledge
from supportbot.services.permissions import SYSTEM
from tests.ai.conftest import KB_SMALL
from tests.api.conftest import assert_error
from tests.servers import WebhookReceiver

pytestmark = pytest.mark.servers


def new_session(client):
    response = client.post("/api/chat/session/")
    assert response.status_code == 201, response.text
    return response.json()["session_id"]


def ask(client, session_id, text):
    return client.post("/api/chat/message/", json={"session_id": session_id, "text": text})


def stored(url, text):
    """How many user messages with this text the database holds."""
    with Session(engine_for(url)) as session:
        return session.exec(select(func.count()).select_from(Message).where(
            Message.text == text, Message.sender_type == "user")).one()


def test_with_redis_stopped_the_api_answers_and_escalates(kb_index, settings_env, own_redis,
                                                          database):
    with WebhookReceiver() as hook:
        settings_env(REDIS_URL=own_redis.url, WEBHOOK_URLS=hook.url, NOTIFY_RETRY_SECONDS="0")
        own_redis.stop()
        with TestClient(create_api()) as client:  # rate limits on the stopped Redis too
            session_id = new_session(client)
            answer = ask(client, session_id, "my vpn keeps failing")
            assert answer.status_code == 200, answer.text
            assert answer.json()["citations"][0]["title"] == "VPN won't connect"
            handover = ask(client, session_id, "URGENT: payroll is not working")
            assert handover.status_code == 200, handover.text
            assert handover.json()["reason"] == "keyword" and handover.json()["ticket"]
        queue.wait_in_process_jobs()
        assert len(hook.received) == 1  # the ticket's notification was not lost
    with Session(engine_for(database)) as session:
        assert session.exec(select(NotificationDelivery.status)).all() == ["sent"]
    assert stored(database, "my vpn keeps failing") == 1


@pytest.fixture
def served_by_own_postgres(own_postgres, settings_env, tmp_path, embedder):
    """The app on a PostgreSQL cluster of its own, with the small KB published and indexed;
    the cluster."""
    settings_env(DATABASE_URL=own_postgres.url, FAISS_INDEX_PATH=str(tmp_path / "index"),
                 MODELS_PATH=str(tmp_path / "models"))
    schema.upgrade(own_postgres.url)
    with session_scope() as session:
        knowledge.import_articles(session, SYSTEM, read_articles(KB_SMALL))
    assert rebuild_index()["articles"] == 10
    yield own_postgres
    queue.wait_in_process_jobs()
    engine_for(own_postgres.url).dispose()


def test_after_a_postgres_restart_the_next_message_is_answered_and_stored_once(
        served_by_own_postgres):
    postgres = served_by_own_postgres
    with TestClient(create_api()) as client:
        session_id = new_session(client)
        assert ask(client, session_id, "my vpn keeps failing").status_code == 200
        postgres.restart()  # every pooled connection is now dead
        after = ask(client, session_id, "I forgot my password")
        assert after.status_code == 200, after.text  # pool_pre_ping reconnected
        assert after.json()["citations"], after.json()
    assert stored(postgres.url, "my vpn keeps failing") == 1
    assert stored(postgres.url, "I forgot my password") == 1


def test_with_postgres_down_a_message_is_refused_for_retry_then_stored_once(
        served_by_own_postgres):
    postgres = served_by_own_postgres
    with TestClient(create_api()) as client:
        session_id = new_session(client)
        postgres.stop()
        refused = ask(client, session_id, "my vpn keeps failing")
        error = assert_error(refused, 503, "unavailable")
        assert "try again" in error["message"] and refused.headers["Retry-After"] == "5"
        with pytest.raises(WebSocketDisconnect) as closed:  # the live chat: connect again
            with client.websocket_connect(f"/ws/chat/{session_id}/"):
                pass
        assert closed.value.code == 4503
        postgres.start()
        retried = ask(client, session_id, "my vpn keeps failing")
        assert retried.status_code == 200, retried.text
    assert stored(postgres.url, "my vpn keeps failing") == 1


def test_with_postgres_frozen_a_new_connection_gives_up_at_the_connect_timeout(
        served_by_own_postgres):
    """A hung server (SIGSTOP: TCP is accepted, nothing answers) costs a request the
    connect timeout, then a retryable 503, not a wait as long as the TCP timeout. The
    pool is emptied first: a pooled connection to a frozen server waits (docs/reliability.md)."""
    postgres = served_by_own_postgres
    with TestClient(create_api()) as client:
        session_id = new_session(client)
        postgres.freeze()
        try:
            engine_for(postgres.url).dispose()
            started = time.monotonic()
            refused = ask(client, session_id, "my vpn keeps failing")
            waited = time.monotonic() - started
        finally:
            postgres.thaw()
        assert_error(refused, 503, "unavailable")
        assert 4 <= waited < 10, waited  # DATABASE_CONNECT_TIMEOUT_SECONDS is 5
        retried = ask(client, session_id, "my vpn keeps failing")
        assert retried.status_code == 200, retried.text
    assert stored(postgres.url, "my vpn keeps failing") == 1


def test_postgres_restarting_mid_turn_keeps_the_message_and_its_retry_stores_it_once(
        served_by_own_postgres, monkeypatch):
    """The user's message is committed before the bot's turn starts (services.chat): a
    restart during the turn costs the bot's reply (503), not the message; sending it
    again answers the stored message instead of storing a second one."""
    from supportbot.services import retrieval

    postgres = served_by_own_postgres
    search = retrieval.live_search

    def search_while_postgres_restarts(text, k=5):
        postgres.restart()
        return search(text, k=k)

    with TestClient(create_api()) as client:
        session_id = new_session(client)
        monkeypatch.setattr(retrieval, "live_search", search_while_postgres_restarts)
        assert_error(ask(client, session_id, "my vpn keeps failing"), 503, "unavailable")
        monkeypatch.setattr(retrieval, "live_search", search)
        history = client.get(f"/api/chat/conversations/{session_id}/").json()["messages"]
        assert [(m["sender"], m["text"]) for m in history] == [("user", "my vpn keeps failing")]
        retried = ask(client, session_id, "my vpn keeps failing")
        assert retried.status_code == 200 and retried.json()["citations"], retried.text
        assert retried.json()["user_message"]["id"] == history[0]["id"]
        again = ask(client, session_id, "my vpn keeps failing")  # answered: a new message
        assert again.json()["user_message"]["id"] != history[0]["id"]
    assert stored(postgres.url, "my vpn keeps failing") == 2
