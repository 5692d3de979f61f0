"""Help center, sign-up, log-in, account and log-out, driven in headless Chromium."""

import re

import pytest
from playwright.sync_api import expect

from tests.ui.conftest import DEMO_PASSWORDS

pytestmark = [pytest.mark.app, pytest.mark.browser]


def test_help_center_lists_searches_and_opens_articles(live_app, page):
    page.goto(f"{live_app}/kb")
    expect(page.get_by_text(re.compile(r"^4\d articles$"))).to_be_visible()
    page.get_by_placeholder("Search articles…").fill("VPN")
    page.get_by_role("button", name="Search").click()
    # Fewer than the 4x articles of the whole demo KB, and at least one.
    expect(page.get_by_text(re.compile(r"^([1-9]|[1-3]\d) articles$"))).to_be_visible()
    page.get_by_role("link", name=re.compile("VPN", re.I)).first.click()
    expect(page.get_by_role("heading", name="Solution")).to_be_visible()
    expect(page.get_by_text("Version 1")).to_be_visible()


def test_help_center_filters_by_topic(live_app, page):
    page.goto(f"{live_app}/kb?tag=vpn")
    cards = page.locator("a[href^='/kb/']")
    expect(page.get_by_role("button", name="vpn", exact=True)).to_have_attribute(
        "aria-pressed", "true")
    expect(cards.first).to_be_visible()
    count = cards.count()
    assert 0 < count < 40
    for title in cards.all_inner_texts():
        assert "vpn" in title.lower()  # each card lists its tags
    page.get_by_role("button", name="All", exact=True).click()
    expect(page.get_by_text(re.compile(r"^4\d articles$"))).to_be_visible()
    page.get_by_role("button", name="vpn", exact=True).click()  # and back to one topic
    expect(page.get_by_text(f"{count} articles", exact=True)).to_be_visible()
    cards.first.click()
    expect(page.get_by_role("heading", name="Solution")).to_be_visible()
    page.get_by_role("link", name="Articles about vpn").click()  # the article's own tags
    expect(page).to_have_url(re.compile(r"/kb\?tag=vpn$"))
    expect(page.get_by_text(f"{count} articles", exact=True)).to_be_visible()


def test_language_switch_is_remembered(live_app, page):
    page.goto(f"{live_app}/kb")
    expect(page.get_by_role("heading", name="Help center")).to_be_visible()
    page.get_by_role("combobox", name="Language / Idioma").click()
    page.get_by_role("option", name="Español").click()
    expect(page.get_by_role("heading", name="Centro de ayuda")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Centro de ayuda")).to_be_visible()


def test_spanish_browser_gets_spanish_pages(live_app, browser):
    context = browser.new_context(locale="es-ES")
    page = context.new_page()
    page.goto(f"{live_app}/login")
    expect(page.get_by_role("heading", name="Iniciar sesión")).to_be_visible()
    context.close()


def test_login_errors_then_account_then_logout(live_app, page):
    page.goto(f"{live_app}/account")
    expect(page).to_have_url(re.compile(r"/login"))  # anonymous: sent to log in
    expect(page.get_by_text("Please log in to continue.")).to_be_visible()
    page.fill("#login-username", "user")
    page.fill("#login-password", "not my password")
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_text("Invalid username or password.")).to_be_visible()
    expect(page.locator("#login-username")).to_have_value("user")  # nothing typed is lost
    page.fill("#login-password", DEMO_PASSWORDS["user"])
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page).to_have_url(re.compile(r"/account"))
    expect(page.get_by_text("user@example.com")).to_be_visible()
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["sb_access"]["httpOnly"] and cookies["sb_refresh"]["httpOnly"]
    assert page.evaluate("document.cookie").find("sb_access") == -1  # scripts cannot read it
    page.reload()
    expect(page.get_by_text("user@example.com")).to_be_visible()
    page.get_by_role("button", name="Log out").first.click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    page.goto(f"{live_app}/account")
    expect(page).to_have_url(re.compile(r"/login"))


def test_sign_up_keeps_input_on_error_then_logs_in(live_app, page):
    page.goto(f"{live_app}/register")
    page.fill("#reg-username", "newcomer")
    page.fill("#reg-email", "newcomer@example.org")
    page.fill("#reg-password", "short")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Password must be at least 10 characters long.").first).to_be_visible()
    expect(page.locator("#reg-username")).to_have_value("newcomer")
    page.fill("#reg-password", "a perfectly fine passphrase")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Account created. You can log in now.")).to_be_visible()
    expect(page.locator("#login-username")).to_have_value("newcomer")
    page.fill("#login-password", "a perfectly fine passphrase")
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page).to_have_url(re.compile(rf"{live_app}/?$"))
    expect(page.get_by_role("link", name="newcomer")).to_be_visible()
