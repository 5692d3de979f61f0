"""Conversation signals (services/live.py): a commit that stored a message of a
conversation wakes whoever holds a subscription to it, in this process at once and in
other processes through Redis; nothing else wakes it, and a broken Redis costs nothing
but speed."""

import asyncio

import pytest
from sqlmodel import Session

from supportbot.db import engine_for
from supportbot.models import Message, SenderType
from supportbot.services import chat, live

WAKE_SECONDS = 10  # generous: a signal arrives in milliseconds; the bound only ends a failure


def store_message(database: str, conversation_id, *, commit: bool = True) -> None:
    """What an agent's reply on another thread (or process) does."""
    with Session(engine_for(database)) as other:
        other.add(Message(conversation_id=conversation_id, sender_type=SenderType.agent.value,
                          text="On it."))
        other.flush()
        if commit:
            other.commit()
        else:
            other.rollback()


@pytest.fixture
def conversation(session):
    return chat.start_conversation(session)


async def test_a_committed_message_wakes_its_conversations_subscribers_only(
        database, session, conversation):
    elsewhere = chat.start_conversation(session)
    with live.subscription(conversation.id) as mine, \
            live.subscription(elsewhere.id) as theirs:
        assert not await mine.wait(0.05)
        await asyncio.to_thread(store_message, database, conversation.id)
        assert await mine.wait(WAKE_SECONDS)
        assert not await theirs.wait(0.2)
        mine.clear()
        assert not await mine.wait(0.05)


async def test_a_rolled_back_message_and_other_commits_wake_no_one(
        database, session, conversation):
    with live.subscription(conversation.id) as changed:
        await asyncio.to_thread(store_message, database, conversation.id, commit=False)
        conversation.locale = "en"  # a commit without a new message
        session.add(conversation)
        session.commit()
        assert not await changed.wait(0.3)


async def test_a_signal_during_a_read_is_kept_for_the_next_wait(database, conversation):
    with live.subscription(conversation.id) as changed:
        await asyncio.to_thread(store_message, database, conversation.id)
        assert await changed.wait(WAKE_SECONDS)
        changed.clear()  # the holder starts reading ...
        await asyncio.to_thread(store_message, database, conversation.id)  # ... meanwhile
        assert await changed.wait(WAKE_SECONDS)  # the next wait sees it


async def test_a_signal_published_by_another_process_arrives_through_redis(
        redis_url, conversation):
    here, there = live.Hub(redis_url), live.Hub(redis_url)  # two processes' hubs
    with here.subscription(conversation.id) as changed:
        await asyncio.wait_for(here.listening(asyncio.get_running_loop()).wait(),
                               WAKE_SECONDS)
        there.signal({str(conversation.id)})  # no local waiter there: only Redis carries it
        assert await changed.wait(WAKE_SECONDS)


async def test_an_unreachable_redis_costs_a_warning_not_a_failed_or_slow_commit(
        caplog, conversation):
    broken = live.Hub("redis://127.0.0.1:1/0")
    with broken.subscription(conversation.id) as changed:
        broken.signal({str(conversation.id)})  # refused connection: logged, not raised
        broken.signal({str(conversation.id)})  # Redis left alone for a while: not tried
        assert await changed.wait(WAKE_SECONDS)  # this process's waiters still woken
    assert caplog.text.count("not published on Redis") == 1
