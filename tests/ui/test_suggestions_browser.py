"""The feedback loop end to end: an unhelpful answer and an escalation an agent solved
exist; the admin runs the digest from /admin/suggestions, accepts a suggestion as a new
draft article after editing it, and finds the draft in /admin/kb."""

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.ui.conftest import DEMO_PASSWORDS
from tests.ui.test_desk_browser import log_in

pytestmark = [pytest.mark.app, pytest.mark.browser]

COFFEE = "the coffee machine on floor 3 shows error E42 and beeps"
COFFEE_REPLY = "Empty the drip tray, then hold the power button for 5 seconds."
PASSWORD = "I forgot my password and the reset e-mail never arrives"


def chat(api: httpx.Client, session_id: str, text: str = "", **extra) -> dict:
    reply = api.post("/api/chat/message/", json={"session_id": session_id, "text": text,
                                                 **extra})
    assert reply.status_code == 200, reply.text
    return reply.json()


@pytest.fixture
def problem_cases(live_app):
    """Through the REST API, as the chat and the desk would: a thumbs-down on an answer,
    and a conversation handed to people that an agent answered and closed."""
    with httpx.Client(base_url=live_app, timeout=60) as api:
        unhelpful = api.post("/api/chat/session/").json()["session_id"]
        answer = chat(api, unhelpful, PASSWORD)
        assert answer["answer"] and answer["bot_message"], answer
        rated = api.post("/api/chat/feedback/", json={
            "session_id": unhelpful, "message_id": answer["bot_message"]["id"], "rating": -1})
        assert rated.status_code == 200, rated.text
        escalated = api.post("/api/chat/session/").json()["session_id"]
        chat(api, escalated, COFFEE)
        ticket = chat(api, escalated, request_human=True)["ticket"]
        assert ticket, "no ticket"
        token = api.post("/api/auth/login/", json={
            "username": "agent", "password": DEMO_PASSWORDS["agent"]}).json()["access_token"]
        agent = {"Authorization": f"Bearer {token}"}
        for text in ("Looking into it.", COFFEE_REPLY):
            sent = api.post(f"/api/tickets/{ticket['id']}/messages/", headers=agent,
                            json={"text": text})
            assert sent.status_code == 201, sent.text
        closed = api.post(f"/api/tickets/{ticket['id']}/close/", headers=agent)
        assert closed.status_code == 200, closed.text


def test_the_digest_turns_solved_problems_into_a_draft_article(live_app, browser,
                                                               problem_cases):
    admin = browser.new_context().new_page()
    log_in(admin, live_app, "admin", "/admin/feedback")
    admin.get_by_role("link", name="KB suggestions from the feedback digest").click()
    expect(admin.get_by_role("heading", name="Knowledge base suggestions")).to_be_visible()
    admin.get_by_role("button", name="Run the digest now").click()
    job = admin.locator("#digest-job")
    expect(job).to_contain_text(re.compile("waiting|running|finished"))
    expect(job).to_contain_text("finished", timeout=120_000)
    expect(job).to_contain_text(re.compile(r"\d+ problem cases \(\d+ new\) · [1-9]\d* new "
                                           r"suggestions"))

    coffee = admin.locator(".suggestion-item", has_text="floor 3 shows error E42")
    expect(coffee).to_be_visible()  # the list follows the finished job by itself
    expect(coffee).to_contain_text("New article")
    expect(coffee).to_contain_text(COFFEE_REPLY)  # the agent's final reply as the solution
    expect(coffee.locator(".sugg-cases")).to_contain_text("Cases: 1")
    expect(coffee.locator(".sugg-phrasings")).to_contain_text(COFFEE)
    password = admin.locator(".suggestion-item", has_text="reset e-mail never arrives")
    expect(password).to_be_visible()

    password.get_by_role("button", name="Reject").click()
    expect(admin.get_by_text("Suggestion rejected.")).to_be_visible()
    expect(password).to_have_count(0)

    coffee.get_by_role("button", name="Edit, then accept").click()
    admin.fill("#sugg-title", " ")  # refused per field, nothing typed is lost
    admin.fill("#sugg-phrasings", f"{COFFEE}\ncoffee maker error E42")
    coffee.get_by_role("button", name="Accept", exact=True).click()
    expect(coffee.locator(".field-error")).to_have_text("A title is required.")
    expect(admin.locator("#sugg-phrasings")).to_have_value(f"{COFFEE}\ncoffee maker error E42")
    admin.fill("#sugg-title", "Coffee machine shows error E42")
    coffee.get_by_role("button", name="Accept", exact=True).click()
    expect(admin.get_by_text("Accepted: a draft article was made.")).to_be_visible()
    expect(coffee).to_have_count(0)

    admin.locator("#sugg-open-article").click()
    expect(admin).to_have_url(re.compile(r"/admin/kb/?\?edit="))
    expect(admin.locator("#kb-title")).to_have_value("Coffee machine shows error E42")
    expect(admin.locator("#kb-solution")).to_have_value(COFFEE_REPLY)
    expect(admin.locator("#kb-phrasings")).to_have_value(f"{COFFEE}\ncoffee maker error E42")
    expect(admin.locator("#kb-status")).to_have_value("draft")
    row = admin.locator(".kb-row", has_text="Coffee machine shows error E42")
    expect(row).to_contain_text("draft")
    admin.context.close()
