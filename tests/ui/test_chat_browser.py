"""The end-user chat, driven in headless Chromium against the real app and demo KB."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.app, pytest.mark.browser]


def say(page, text):
    page.fill("#chat-input", text)
    page.get_by_role("button", name=re.compile("^(Send|Enviar)$")).click()


def test_a_question_gets_a_cited_answer_and_feedback(live_app, page):
    page.goto(f"{live_app}/")
    expect(page.get_by_text("Describe your problem")).to_be_visible()
    say(page, "I forgot my password")
    answer = page.locator(".chat-message[data-sender='bot']").last
    expect(answer).to_contain_text("Reset a forgotten password", timeout=30_000)
    expect(page.locator("#chat-input")).to_have_value("")  # stored, so the box is cleared
    source = answer.get_by_role("link", name="Reset a forgotten password")
    expect(source).to_have_attribute("href", re.compile(r"^/kb/[0-9a-f-]{36}$"))
    answer.get_by_role("button", name="Helpful", exact=True).click()
    expect(answer.get_by_text("Thanks for your feedback.")).to_be_visible()
    page.reload()  # the session survives a reload, with its history
    expect(page.locator(".chat-message[data-sender='user']").first).to_have_text(
        re.compile("I forgot my password"))
    expect(page.locator(".chat-message[data-sender='bot']").last).to_contain_text(
        "Thanks for your feedback.")


def test_not_helpful_takes_a_comment(live_app, page):
    page.goto(f"{live_app}/")
    expect(page.get_by_text("Describe your problem")).to_be_visible()
    say(page, "outlook keeps asking for password after update")
    answer = page.locator(".chat-message[data-sender='bot']").last
    expect(answer.get_by_role("button", name="Not helpful")).to_be_visible(timeout=30_000)
    answer.get_by_role("button", name="Not helpful").click()
    answer.get_by_label("What was missing? (optional)").fill("it still asks after that")
    answer.get_by_role("button", name="Send comment").click()
    expect(answer).to_contain_text("we will use your comment")
    expect(answer.get_by_label("What was missing? (optional)")).to_have_count(0)


def test_asking_for_a_person_shows_the_ticket_number_in_spanish(live_app, browser):
    context = browser.new_context(locale="es-ES")
    page = context.new_page()
    page.goto(f"{live_app}/")
    expect(page.get_by_text("Cuéntame tu problema")).to_be_visible()
    say(page, "la VPN no conecta desde casa")
    expect(page.locator(".chat-message[data-sender='bot']").last).to_contain_text(
        "Esto debería ayudarte", timeout=30_000)
    page.get_by_role("button", name="Hablar con una persona").click()
    expect(page.locator("#chat-ticket")).to_have_text(re.compile(r"^SB-[0-9A-Z]{6}$"),
                                                    timeout=30_000)
    expect(page.locator(".chat-message[data-sender='bot']").last).to_contain_text(
        "Tu número de ticket es")
    expect(page.get_by_role("button", name="Hablar con una persona")).to_have_count(0)
    context.close()


def test_empty_messages_are_refused_and_html_is_inert(live_app, page):
    page.goto(f"{live_app}/")
    expect(page.get_by_text("Describe your problem")).to_be_visible()
    say(page, "   ")
    expect(page.get_by_role("alert")).to_contain_text("Write a message first.")
    page.evaluate("window.__pwned = false")
    say(page, "<img src=x onerror=\"window.__pwned = true\"> my vpn keeps failing")
    expect(page.locator(".chat-message[data-sender='user']").last).to_contain_text(
        "<img src=x", timeout=30_000)
    expect(page.locator(".chat-message[data-sender='bot']").last).to_be_visible(timeout=30_000)
    assert page.evaluate("window.__pwned") is False


def test_an_agents_reply_reaches_the_chat_live(live_app, page):
    from sqlmodel import Session, select

    from supportbot.db import engine_for
    from supportbot.models import Ticket
    from supportbot.services import accounts, tickets
    from tests.ui.conftest import LIVE

    page.goto(f"{live_app}/")
    expect(page.get_by_text("Describe your problem")).to_be_visible()
    say(page, "my screen is broken, talk to a human please")
    ticket_ref = page.locator("#chat-ticket")
    expect(ticket_ref).to_have_text(re.compile(r"^SB-"), timeout=30_000)
    reference = ticket_ref.inner_text()
    with Session(engine_for(LIVE["database_url"]), expire_on_commit=False) as session:
        agent = accounts.find_user(session, "agent")
        ticket = session.exec(select(Ticket).where(Ticket.reference == reference)).one()
        tickets.reply(session, agent, ticket.id, "Hi, this is Ana from IT. Which model is it?")
        tickets.reply(session, agent, ticket.id, "internal: check warranty", internal=True)
        session.commit()
    agent_message = page.locator(".chat-message[data-sender='agent']")
    expect(agent_message).to_contain_text("Which model is it?", timeout=15_000)  # no reload
    expect(page.get_by_text("internal: check warranty")).to_have_count(0)
    say(page, "A Dell Latitude 5440")  # the bot stays silent while people own it
    expect(page.locator(".chat-message[data-sender='user']").last).to_contain_text(
        "Dell Latitude", timeout=15_000)
    expect(page.locator(".chat-message").last).to_have_attribute("data-sender", "user")
