"""The chat engine under faults of what it depends on: Redis stopped (jobs), a generator
that fails or hangs. Throw-away servers: tests/servers.py."""

import json
import time

import pytest
from sqlmodel import select

from supportbot.jobs import queue
from supportbot.models import DeliveryStatus, EscalationReason, Message, NotificationDelivery
from supportbot.services import chat
from tests.servers import WebhookReceiver


@pytest.mark.servers
def test_with_redis_stopped_the_bot_answers_escalates_and_the_notification_is_sent(
        session, searcher, settings_env, own_redis):
    with WebhookReceiver() as hook:
        settings_env(REDIS_URL=own_redis.url, WEBHOOK_URLS=hook.url, NOTIFY_RETRY_SECONDS="0")
        own_redis.stop()
        conversation = chat.start_conversation(session)
        answered = chat.send_message(session, conversation.session_id, "my vpn keeps failing",
                                     searcher=searcher)
        assert not answered.escalated and answered.citations
        escalated = chat.send_message(session, conversation.session_id,
                                      "URGENT: the mail server is not working", searcher=searcher)
        assert escalated.escalation.reason == EscalationReason.keyword
        queue.wait_in_process_jobs()  # the delivery ran here, Redis being down
        assert [json.loads(body)["ticket"]["reference"] for _, body in hook.received] == [
            escalated.ticket.reference]
    session.expire_all()
    delivery = session.exec(select(NotificationDelivery)).one()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.sent.value, 1)
    stored = session.exec(select(Message).where(Message.conversation_id == conversation.id)).all()
    assert sorted(m.sender_type for m in stored) == ["bot", "bot", "user", "user"]


def test_a_message_sent_again_after_its_turn_failed_is_answered_not_stored_twice(
        session, searcher):
    conversation = chat.start_conversation(session)

    def broken(text):
        raise RuntimeError("the database went away")  # after the message was committed

    with pytest.raises(RuntimeError):
        chat.send_message(session, conversation.session_id, "my vpn keeps failing",
                          searcher=broken)
    session.rollback()
    retried = chat.send_message(session, conversation.session_id, "my vpn keeps failing",
                                searcher=searcher)
    assert retried.citations and retried.user_message.meta["retries"] == 1
    users = [m for m in chat.messages_of(session, conversation) if m.sender_type == "user"]
    assert [m.id for m in users] == [retried.user_message.id]


def test_the_same_text_twice_to_people_is_two_messages(session, searcher):
    conversation = chat.start_conversation(session)
    chat.send_message(session, conversation.session_id, "", request_human=True,
                      searcher=searcher)
    for _ in range(2):
        assert chat.send_message(session, conversation.session_id, "hello?",
                                 searcher=searcher).bot_message is None
    texts = [m.text for m in chat.messages_of(session, conversation) if m.sender_type == "user"]
    assert texts.count("hello?") == 2


@pytest.mark.timeout(30)
def test_a_generator_that_hangs_hands_over_at_its_timeout(session, searcher, settings_env,
                                                          monkeypatch):
    """Unsure of the articles, the bot asks the generator; its model never finishes a
    step. The user gets the hand-over GENERATOR_TIMEOUT_SECONDS (+ grace) later."""
    from supportbot.ai import generator as generator_module
    from tests.ai.stuck_model import StuckModel, stuck_generator

    settings_env(GENERATOR_MIN_CONFIDENCE="0", CONFIDENCE_THRESHOLD="0.99999",
                 GENERATOR_TIMEOUT_SECONDS="1")
    monkeypatch.setattr(generator_module, "GRACE_SECONDS", 0.5)
    model = StuckModel()
    conversation = chat.start_conversation(session)
    started = time.monotonic()
    reply = chat.send_message(session, conversation.session_id, "vpn problems",
                              searcher=searcher, generator=stuck_generator(model))
    assert time.monotonic() - started < 1 + 0.5 + 3
    assert reply.escalation.reason == EscalationReason.low_confidence and reply.ticket
    assert reply.bot_message.meta["generator_error"].startswith("GenerationTimeout: ")
    assert model.stopped.wait(timeout=2)
