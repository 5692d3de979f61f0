"""The agent desk: a user's chat becomes a ticket, an agent works it, the user sees it live."""

import re

import pytest
from playwright.sync_api import expect

from tests.ui.conftest import DEMO_PASSWORDS

pytestmark = [pytest.mark.app, pytest.mark.browser]

# Records (page clock) when an agent's message holding `text` first shows in the chat.
REPLY_WATCH = """text => {
    window.__replyShownAt = null;
    const seen = () => [...document.querySelectorAll(".chat-message[data-sender='agent']")]
        .some(element => element.textContent.includes(text));
    new MutationObserver(() => {
        if (window.__replyShownAt === null && seen()) window.__replyShownAt = Date.now();
    }).observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


def log_in(page, base, username, next_path):
    page.goto(f"{base}/login?next={next_path}")
    # The page's state may still hold an earlier visit's target until its load event ran.
    expect(page.locator("input[name=next]")).to_have_value(next_path)
    page.fill("#login-username", username)
    page.fill("#login-password", DEMO_PASSWORDS[username])
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page).to_have_url(re.compile(re.escape(next_path) + "/?$"))


def test_users_and_anonymous_visitors_cannot_open_the_desk(live_app, page):
    page.goto(f"{live_app}/desk")
    expect(page).to_have_url(re.compile(r"/login"))
    log_in(page, live_app, "user", "/account")
    page.goto(f"{live_app}/desk")
    expect(page).to_have_url(re.compile(r"/\?error=permission_denied$"))
    expect(page.locator(".desk-row")).to_have_count(0)


def test_an_agent_works_a_ticket_and_the_user_sees_the_reply_live(live_app, browser):
    user_context, agent_context = browser.new_context(), browser.new_context()
    user = user_context.new_page()
    user.goto(f"{live_app}/")
    expect(user.get_by_text("Describe your problem")).to_be_visible()
    user.fill("#chat-input", "URGENT: the payroll server is not working")
    user.get_by_role("button", name="Send").click()
    expect(user.locator("#chat-ticket")).to_have_text(re.compile(r"^SB-"), timeout=30_000)
    reference = user.locator("#chat-ticket").inner_text()

    agent = agent_context.new_page()
    log_in(agent, live_app, "agent", "/desk")
    agent.get_by_label("Tag").fill("nope-no-such-tag")
    agent.get_by_role("button", name="Search").click()
    expect(agent.locator(".desk-row", has_text=reference)).to_have_count(0)
    agent.get_by_label("Tag").fill("es")  # wrong language tag: the message was English
    agent.get_by_role("button", name="Search").click()
    expect(agent.locator(".desk-row", has_text=reference)).to_have_count(0)
    agent.get_by_label("Tag").fill("en")
    agent.get_by_role("button", name="Search").click()
    row = agent.locator(".desk-row", has_text=reference)
    expect(row).to_contain_text("Urgent")
    expect(row).to_contain_text("Keyword")
    row.get_by_role("link", name=reference).click()
    expect(agent.locator("#handoff-note")).to_contain_text("Reason: keyword")
    expect(agent.locator("#transcript")).to_contain_text("payroll server")
    agent.get_by_role("button", name="Take it").click()
    expect(agent.locator("#ticket-assignee")).to_contain_text("agent")
    # Both clocks are the browser's: when the agent's form is submitted, and when the reply
    # is first in the user's page (a MutationObserver there, no polling from the test).
    user.evaluate(REPLY_WATCH, "restarting the payroll service")
    agent.evaluate("() => document.addEventListener('submit', () => "
                   "{ window.__sentAt = Date.now(); }, {capture: true, once: true})")
    agent.fill("#reply-input", "We are on it, restarting the payroll service now.")
    agent.get_by_role("button", name="Send").click()
    expect(user.locator(".chat-message[data-sender='agent']")).to_contain_text(
        "restarting the payroll service", timeout=15_000)
    latency_ms = user.evaluate("window.__replyShownAt") - agent.evaluate("window.__sentAt")
    print(f"\nagent reply -> user's chat: {latency_ms} ms")
    assert 0 < latency_ms < 10_000
    expect(agent.locator(".desk-message[data-sender='agent']")).to_contain_text("restarting")
    agent.fill("#reply-input", "Check the disk on payroll-01 first")
    agent.get_by_label("Internal note (agents only)").click()
    agent.get_by_role("button", name="Send").click()
    expect(agent.locator(".desk-message", has_text="payroll-01")).to_contain_text("internal")

    expect(user.get_by_text("payroll-01")).to_have_count(0)  # internal notes stay internal

    agent.get_by_role("combobox", name="Assign to").click()  # to a colleague, and back
    agent.get_by_role("option", name="admin", exact=True).click()
    expect(agent.locator("#ticket-assignee")).to_contain_text("admin")
    agent.get_by_role("combobox", name="Assign to").click()
    agent.get_by_role("option", name="agent", exact=True).click()
    expect(agent.locator("#ticket-assignee")).to_contain_text("agent")
    agent.fill("#ticket-tags", "payroll, Outage")
    agent.get_by_role("button", name="Save tags").click()
    expect(agent.locator("#ticket-tags")).to_have_value("payroll, outage")

    agent.get_by_role("button", name="Close ticket").click()
    expect(agent.get_by_role("combobox", name="Status")).to_contain_text("Closed")
    user.fill("#chat-input", "I forgot my password")  # back with the bot after closing
    user.get_by_role("button", name="Send").click()
    expect(user.locator(".chat-message[data-sender='bot']").last).to_contain_text(
        "Reset a forgotten password", timeout=30_000)
    user_context.close()
    agent_context.close()


def test_a_logged_in_user_finds_their_ticket_under_my_tickets(live_app, browser):
    context = browser.new_context()
    page = context.new_page()
    log_in(page, live_app, "user", "/")
    expect(page.get_by_text("Describe your problem")).to_be_visible()
    page.get_by_role("button", name="New conversation").click()
    page.fill("#chat-input", "my docking station is dead")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".chat-message[data-sender='bot']").last).to_be_visible(timeout=30_000)
    if page.locator("#chat-ticket").count() == 0:
        page.get_by_role("button", name="Talk to a person").click()
    expect(page.locator("#chat-ticket")).to_have_text(re.compile(r"^SB-"), timeout=30_000)
    reference = page.locator("#chat-ticket").inner_text()
    page.get_by_role("link", name="My tickets").click()
    row = page.locator(".my-ticket", has_text=reference)
    expect(row).to_be_visible()
    row.get_by_role("button", name=reference).click()
    expect(page.locator("#my-ticket-transcript")).to_contain_text("my docking station is dead")
    context.close()
    other = browser.new_context().new_page()
    log_in(other, live_app, "agent", "/tickets")  # an agent's own tickets: none
    expect(other.get_by_role("link", name="agent")).to_be_visible()  # logged in
    expect(other.get_by_text("You have no tickets.")).to_be_visible()
    expect(other.locator(".my-ticket")).to_have_count(0)
    other.context.close()
