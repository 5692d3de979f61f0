"""One visitor's session over a scripted channel: turns timed and classified, the
hand-over to people (a silent turn, the agent's reply awaited, the ticket closed), and a
closed WebSocket ending the session with one error."""

import asyncio
import random
import time

from supportbot.loadtest.plan import ASK_PERSON, Markers, Mix, Visitor, demo_questions, marker_of
from supportbot.loadtest.tally import Tally
from supportbot.loadtest.visitors import ConnectionLost, Pace, VisitorSession

PACE = Pace(think=(0.0, 0.0), timeout=2.0, delivery=1.0)


class ScriptedLink:
    """Answers like the app: each turn escalates if asked for a person, stays silent
    while people own the chat, otherwise answers from the KB."""

    path = "ws"

    def __init__(self, deliver=True, lose_after=None):
        self.deliver, self.lose_after, self.turns, self.human = deliver, lose_after, 0, False

    async def turn(self, text, request_human):
        self.turns += 1
        if self.lose_after is not None and self.turns > self.lose_after:
            raise ConnectionLost("closed by the server")
        reply = {"user_message": {"text": text}, "escalated": False, "generated": False,
                 "answer": "This should help", "ticket": None, "reason": None}
        if self.human:
            reply["answer"] = None
        elif request_human or any(phrase in text for phrase in ASK_PERSON["en"]):
            self.human = True
            reply.update(escalated=True, ticket={"id": f"t{self.turns}", "reference": "SB-X"},
                         reason="user_request")
        return reply

    def expect(self, marker):
        future = asyncio.get_running_loop().create_future()
        if self.deliver:
            asyncio.get_running_loop().call_later(0.01, future.set_result, time.perf_counter())
        return future

    async def close(self):
        pass


class Desk:
    def __init__(self, tally, link):
        self.tally, self.link, self.closed = tally, link, []

    async def reply(self, ticket_id, text, marker, session_id, path):
        assert marker_of(text) == marker
        self.tally.message(marker, session_id, path, "agent").acknowledged = True
        return time.perf_counter()

    async def close(self, ticket_id):
        self.closed.append(ticket_id)
        self.link.human = False


def session_over(link, seconds=0.3):
    tally = Tally()
    desk = Desk(tally, link)
    visitor = Visitor(random.Random(1), "en", demo_questions(), Mix(person=0.3))
    session = VisitorSession(visitor, link, "s1", tally=tally, markers=Markers(), desk=desk,
                             pace=PACE, rng=random.Random(2))
    asyncio.run(session.run(time.monotonic() + seconds))
    return tally, desk


def test_a_session_answers_escalates_and_gets_the_agents_reply():
    tally, desk = session_over(ScriptedLink())
    assert not tally.errors, tally.error_samples
    assert tally.counts["answer"] > 0 and tally.escalations
    assert tally.counts["silent"] == len(tally.escalations)  # one message while waiting
    assert tally.counts["agent_reply_arrived"] == len(tally.escalations)
    assert desk.closed == [e.ticket_id for e in tally.escalations]
    assert all(m.acknowledged for m in tally.sent.values())


def test_an_agent_reply_that_never_arrives_is_an_error():
    tally, desk = session_over(ScriptedLink(deliver=False), seconds=0.1)
    assert tally.errors["ws_agent_reply_not_delivered"] == len(tally.escalations) > 0
    assert tally.counts["agent_reply_arrived"] == 0
    assert desk.closed  # the ticket is closed anyway, so the session goes on


def test_a_closed_websocket_ends_the_session_with_one_error():
    tally, _ = session_over(ScriptedLink(lose_after=3), seconds=5)
    assert tally.errors == {"ws_closed": 1}
    assert tally.counts["user_messages"] == 4
    assert [m.acknowledged for m in tally.sent.values()][-1] is False


def test_rest_turns_send_a_client_id_of_their_own():
    import json

    import httpx

    from supportbot.loadtest.visitors import RestLink

    bodies = []

    def app(request):
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json={"answer": "ok"})

    async def two_turns():
        async with httpx.AsyncClient(transport=httpx.MockTransport(app),
                                     base_url="http://app") as http:
            link = RestLink(http, "sid", PACE)
            await link.turn("hello", False)
            await link.turn("hello", False)

    asyncio.run(two_turns())
    ids = [body["client_id"] for body in bodies]
    assert len(set(ids)) == 2 and all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
