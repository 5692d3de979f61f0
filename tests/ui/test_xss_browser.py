"""HTML and script that people type are shown as text on every page that shows them, and
never run: a chat message, an agent's reply, a KB article (title, problem, solution,
phrasings; published, so the bot quotes it), a ticket's title, description and handoff
note, a feedback comment. Usernames cannot hold HTML at all (refused at sign-up)."""

import re
import time

import httpx
import pytest
from playwright.sync_api import expect

from tests.ui.conftest import DEMO_PASSWORDS
from tests.ui.test_desk_browser import log_in

pytestmark = [pytest.mark.app, pytest.mark.browser]

IMG = '<img src=x onerror="window.__xss=1">'
SCRIPT = "<script>window.__xss=1</script>"
# React drops an inline onerror given as text, but a live iframe's srcdoc runs its script.
IFRAME = '<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>'
HOSTILE = f"{IMG} {SCRIPT}"
QUESTION = "my flux capacitor shows error Q77"


def token(api: httpx.Client, username: str) -> dict[str, str]:
    response = api.post("/api/auth/login/", json={"username": username,
                                                  "password": DEMO_PASSWORDS[username]})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def reindexed(api: httpx.Client, admin: dict[str, str]) -> None:
    job = api.post("/api/kb/reindex/", headers=admin).json()["job_id"]
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        state = api.get(f"/api/kb/reindex/{job}/", headers=admin).json()["state"]
        if state in ("finished", "failed"):
            assert state == "finished"
            return
        time.sleep(1)
    pytest.fail("the reindex did not finish in time")


@pytest.fixture(scope="module")
def hostile(live_app):
    """Everything stored through the API, as people would send it; the ids to open."""
    with httpx.Client(base_url=live_app, timeout=120) as api:
        admin, agent, user = (token(api, name) for name in ("admin", "agent", "user"))
        refused = api.post("/api/auth/register/", json={
            "username": IMG, "email": "x@example.org", "password": "a long passphrase"})
        assert refused.status_code == 422 and "username" in refused.json()["error"]["fields"]
        article = api.post("/api/kb/", headers=admin, json={
            "title": f"Flux capacitor error Q77 {HOSTILE}",
            "problem": f"The flux capacitor shows Q77. {HOSTILE}",
            "solution": f"1. Switch it off and on.\n2. {IMG}\n3. {SCRIPT}\n4. {IFRAME}",
            "phrasings": [QUESTION, f"flux capacitor Q77 {SCRIPT}"], "tags": ["flux"],
            "status": "published"}).json()
        reindexed(api, admin)
        session_id = api.post("/api/chat/session/").json()["session_id"]
        answer = api.post("/api/chat/message/", json={"session_id": session_id,
                                                      "text": QUESTION}).json()
        assert answer["citations"][0]["id"] == article["id"], answer  # the bot quotes it
        api.post("/api/chat/feedback/", json={
            "session_id": session_id, "message_id": answer["bot_message"]["id"],
            "rating": -1, "comment": f"did not help {HOSTILE}"}).raise_for_status()
        handed = api.post("/api/chat/message/", json={
            "session_id": session_id, "text": f"a person please {HOSTILE}",
            "request_human": True}).json()
        ticket_id = handed["ticket"]["id"]
        api.post(f"/api/tickets/{ticket_id}/messages/", headers=agent,
                 json={"text": f"Agent here {HOSTILE} {IFRAME}"}).raise_for_status()
        own = api.post("/api/tickets/", headers=user, json={
            "title": f"My laptop {HOSTILE}", "description": f"It beeps {HOSTILE}"}).json()
        yield {"article": article["id"], "session_id": session_id, "chat_ticket": ticket_id,
               "own_ticket": own["id"], "own_reference": own["reference"]}
        api.delete(f"/api/kb/{article['id']}/", headers=admin)  # leave the demo KB as it was


def assert_inert(page, *shown: str) -> None:
    """Each of `shown` is on the page as text; no element came from it and nothing ran."""
    missing = []
    for text in shown:
        try:
            expect(page.get_by_text(text, exact=False).first).to_be_visible()
        except AssertionError:
            missing.append(text)
    page.wait_for_load_state("networkidle")  # an <img onerror> would have fired by now
    found = {"not shown as text": missing,
             "live <img src=x>": page.locator('img[src="x"]').count(),
             "live <script>": page.locator("script", has_text="__xss").count(),
             "live <iframe>": page.locator("iframe[srcdoc]").count(),
             "window.__xss": page.evaluate("window.__xss")}
    assert found == {"not shown as text": [], "live <img src=x>": 0, "live <script>": 0,
                     "live <iframe>": 0, "window.__xss": None}, page.url


def test_html_and_script_are_shown_as_text_on_every_page(live_app, browser, hostile):
    visitor = browser.new_context().new_page()
    visitor.goto(f"{live_app}/")
    expect(visitor.get_by_text("Describe your problem")).to_be_visible()
    visitor.evaluate("id => localStorage.setItem('sb_chat', id)", hostile["session_id"])
    visitor.reload()
    chat = visitor.locator("#chat-log")
    expect(chat.locator(".chat-message[data-sender='agent']")).to_contain_text("Agent here")
    # The user's words, the bot's answer quoting the article, and the agent's reply.
    assert_inert(visitor, f"a person please {IMG}", f"Agent here {IMG}", IFRAME)
    answer = chat.locator(".chat-message[data-sender='bot']").first  # quotes the article
    for text in (f"Flux capacitor error Q77 {IMG}", IMG, SCRIPT, IFRAME):
        expect(answer).to_contain_text(text)
    visitor.goto(f"{live_app}/kb")
    assert_inert(visitor, f"Flux capacitor error Q77 {HOSTILE}")
    visitor.goto(f"{live_app}/kb/{hostile['article']}")
    assert_inert(visitor, f"The flux capacitor shows Q77. {HOSTILE}", SCRIPT,
                 f"flux capacitor Q77 {SCRIPT}")
    visitor.context.close()

    user = browser.new_context().new_page()
    log_in(user, live_app, "user", "/tickets")
    assert_inert(user, f"My laptop {HOSTILE}")
    user.get_by_role("button", name=hostile["own_reference"]).click()
    assert_inert(user, f"It beeps {HOSTILE}")
    user.context.close()

    agent = browser.new_context().new_page()
    log_in(agent, live_app, "agent", "/desk")
    assert_inert(agent, f"My laptop {HOSTILE}")  # the queue shows open tickets
    agent.goto(f"{live_app}/desk/{hostile['chat_ticket']}")
    expect(agent.locator("#handoff-note")).to_contain_text(f"User wants: a person please {IMG}")
    assert_inert(agent, f"Agent here {HOSTILE}", QUESTION)
    agent.goto(f"{live_app}/desk/{hostile['own_ticket']}")
    expect(agent.locator("#handoff-note")).to_contain_text(f"User wants: My laptop {HOSTILE}")
    assert_inert(agent, f"It beeps {HOSTILE}")
    agent.context.close()

    admin = browser.new_context().new_page()
    log_in(admin, live_app, "admin", "/admin/kb")
    assert_inert(admin, f"Flux capacitor error Q77 {HOSTILE}")
    admin.goto(f"{live_app}/admin/feedback")
    assert_inert(admin, f"did not help {HOSTILE}")
    admin.goto(f"{live_app}/admin/users")
    assert_inert(admin, "agent@example.com")  # usernames cannot hold HTML at all
    admin.goto(f"{live_app}/admin/audit")
    assert_inert(admin, f"Flux capacitor error Q77 {HOSTILE}")
    expect(admin.get_by_text(re.compile(r"kb\.create")).first).to_be_visible()
    admin.context.close()
