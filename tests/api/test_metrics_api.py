"""`GET /metrics` after a scripted conversation: what the services recorded and what the
collector reads from the database, the job queue and the search index."""

import os
import subprocess
import sys
from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import select

from supportbot.models import Message, SenderType
from supportbot.services import telemetry
from tests.api.conftest import assert_error
from tests.api.test_chat_api import ask, new_session
from tests.docker.test_compose import monitored_metrics


def scrape(client, headers=None) -> dict[tuple[str, tuple], float]:
    """Every sample of /metrics as {(name, sorted labels): value}."""
    response = client.get("/metrics", headers=headers or {})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples}


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def grew(before, after, name, **labels) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def test_metrics_after_a_scripted_conversation(client, kb_index, callers, session):
    before = scrape(client)
    answered = new_session(client)
    reply = ask(client, answered, "my vpn keeps failing").json()
    assert reply["escalated"] is False
    feedback = client.post("/api/chat/feedback/", json={
        "session_id": answered, "message_id": reply["bot_message"]["id"], "rating": 1})
    assert feedback.status_code == 200, feedback.text
    escalated = new_session(client)
    handed = ask(client, escalated, "what is the capital of peru").json()
    assert handed["escalated"] and handed["reason"] == "low_confidence"
    ticket_url = f"/api/tickets/{handed['ticket']['id']}/"
    agent = callers["agent"].headers
    assert client.post(ticket_url + "messages/", headers=agent,
                       json={"text": "Lima. Anything else?"}).status_code == 201
    assert client.post(ticket_url + "messages/", headers=agent,  # not a first response
                       json={"text": "Closing this."}).status_code == 201
    assert client.post(ticket_url + "close/", headers=agent).status_code == 200
    after = scrape(client)

    assert grew(before, after, "supportbot_conversations_started_total") == 2
    assert grew(before, after, "supportbot_messages_total", sender="user") == 2
    assert grew(before, after, "supportbot_messages_total", sender="bot") == 2
    assert grew(before, after, "supportbot_messages_total", sender="agent") == 2
    assert grew(before, after, "supportbot_bot_answers_total", band="high", kind="cited") == 1
    assert grew(before, after, "supportbot_escalations_total", reason="low_confidence") == 1
    assert grew(before, after, "supportbot_escalations_total", reason="keyword") == 0
    assert grew(before, after, "supportbot_tickets_opened_total", origin="escalation") == 1
    assert grew(before, after, "supportbot_tickets_closed_total") == 1
    assert grew(before, after, "supportbot_feedback_total", rating="helpful") == 1
    assert grew(before, after, "supportbot_agent_first_response_seconds_count") == 1
    # Both turns searched; neither generated (the generator is off in tests).
    assert grew(before, after, "supportbot_answer_latency_seconds_count",
                stage="retrieval") == 2
    assert grew(before, after, "supportbot_answer_latency_seconds_count",
                stage="generation") == 0
    assert grew(before, after, "supportbot_answer_latency_seconds_sum", stage="retrieval") > 0

    # State read from the database: exact whichever process answers.
    assert value(after, "supportbot_tickets", status="closed") == 1
    assert value(after, "supportbot_tickets", status="open") == 0
    assert value(after, "supportbot_feedback_ratings", rating="helpful") == 1
    assert value(after, "supportbot_feedback_positive_share") == 1.0
    assert value(after, "supportbot_deflection_conversations", outcome="resolved_confirmed") == 1
    assert value(after, "supportbot_deflection_conversations", outcome="escalated") == 0
    # The job queue (in-process here) and the served index.
    assert ("supportbot_job_queue_depth", (("state", "queued"),)) in after
    assert value(after, "supportbot_index_available") == 1
    assert value(after, "supportbot_index_articles") == 10
    assert value(after, "supportbot_index_passages") >= 10
    assert value(after, "supportbot_index_bytes") > 0
    assert 0 <= value(after, "supportbot_index_age_seconds") < 600
    [(_, info)] = [key for key in after if key[0] == "supportbot_index_info"]
    assert dict(info)["model"] == "all-MiniLM-L6-v2" and dict(info)["version"].startswith("v")
    assert all(value(after, "supportbot_metrics_errors", part=part) == 0
               for part in ("database", "queue", "index"))
    # The Grafana dashboard and the alert rules (docker/) query only series that exist.
    assert monitored_metrics() - {name for name, _ in after} == set()


def test_deflection_outcomes_are_counted_honestly(client, kb_index, session):
    """Resolved (assumed) only after the quiet time; a user who comes back after it has
    reopened; an escalation wins over an earlier answer."""
    assumed, reopened, pending, escalated = (new_session(client) for _ in range(4))
    for session_id in (assumed, reopened, pending, escalated):
        assert ask(client, session_id, "my vpn keeps failing").json()["escalated"] is False
    hour_ago = timedelta(minutes=61)
    for session_id in (assumed, reopened):  # their answers are older than the quiet time
        for message in _messages(session, session_id):
            message.created_at = message.created_at - hour_ago
            session.add(message)
    session.commit()
    ask(client, reopened, "it broke again, my vpn keeps failing")
    ask(client, escalated, "talk to a person")
    samples = scrape(client)
    outcomes = {outcome: value(samples, "supportbot_deflection_conversations", outcome=outcome)
                for outcome in telemetry.OUTCOMES}
    assert outcomes == {"resolved_confirmed": 0, "resolved_assumed": 1, "reopened": 1,
                        "escalated": 1, "unresolved": 0, "pending": 1}


def _messages(session, session_id):
    from supportbot.models import Conversation

    conversation = session.exec(select(Conversation).where(
        Conversation.session_id == session_id)).one()
    return session.exec(select(Message).where(Message.conversation_id == conversation.id,
                                              Message.sender_type != SenderType.agent.value))


def test_a_rolled_back_turn_counts_nothing(session):
    from supportbot.models import Conversation

    before = telemetry.CONVERSATIONS._value.get()
    session.add(Conversation(session_id="rolled-back"))
    telemetry.conversation_started(session)
    session.flush()
    session.rollback()
    session.commit()
    assert telemetry.CONVERSATIONS._value.get() == before
    telemetry.conversation_started(session)
    session.commit()
    assert telemetry.CONVERSATIONS._value.get() == before + 1


def test_metrics_token(client, settings_env):
    settings_env(METRICS_TOKEN="s3cret-scraper-token")
    assert_error(client.get("/metrics"), 401, "not_authenticated")
    assert_error(client.get("/metrics", headers={"Authorization": "Bearer wrong"}), 401)
    samples = scrape(client, {"Authorization": "Bearer s3cret-scraper-token"})
    assert value(samples, "supportbot_index_available") == 0  # no index in this test
    assert "/metrics" not in client.get("/api/openapi.json").json()["paths"]


def test_a_broken_part_is_reported_and_the_rest_still_served(client, monkeypatch):
    def broken():
        raise RuntimeError("redis is down")

    monkeypatch.setitem(telemetry.StateCollector.PARTS, "queue", broken)
    samples = scrape(client)
    assert value(samples, "supportbot_metrics_errors", part="queue") == 1
    assert value(samples, "supportbot_metrics_errors", part="database") == 0
    assert ("supportbot_tickets", (("status", "open"),)) in samples


WORKER = """
import sys
from supportbot.services import telemetry
for _ in range(int(sys.argv[1])):
    telemetry.CONVERSATIONS.inc()
    telemetry.ESCALATIONS.labels("keyword").inc()
"""
SCRAPER = """
from supportbot.services import telemetry
print(telemetry.render()[0].decode())
"""


def test_several_worker_processes_add_up(database, tmp_path):
    """PROMETHEUS_MULTIPROC_DIR: each process writes its counters there; a scrape by any
    process reports the sum."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "DATABASE_URL": database}
    for count in ("2", "3"):
        subprocess.run([sys.executable, "-c", WORKER, count], env=env, check=True, timeout=120)
    text = subprocess.run([sys.executable, "-c", SCRAPER], env=env, check=True, timeout=120,
                          capture_output=True, text=True).stdout
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}
    assert value(samples, "supportbot_conversations_started_total") == 5
    assert value(samples, "supportbot_escalations_total", reason="keyword") == 5
    assert ("supportbot_tickets", (("status", "open"),)) in samples  # the collector too
