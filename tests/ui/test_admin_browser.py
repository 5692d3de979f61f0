"""Admin pages: escalation rules that change the bot at once; notification deliveries."""

import re

import pytest
from playwright.sync_api import expect

from tests.ui.test_desk_browser import log_in

pytestmark = [pytest.mark.app, pytest.mark.browser]


def test_only_admins_open_the_admin_pages(live_app, browser):
    page = browser.new_context().new_page()
    log_in(page, live_app, "agent", "/desk")
    for path in ("/admin/rules", "/admin/notifications"):
        page.goto(f"{live_app}{path}")
        expect(page).to_have_url(re.compile(r"/\?error=permission_denied$"))
    page.context.close()


def test_an_admin_adds_a_keyword_and_the_bot_escalates_with_it(live_app, browser):
    admin = browser.new_context().new_page()
    log_in(admin, live_app, "admin", "/admin/rules")
    keywords = admin.locator("#rules-keywords")
    expect(keywords).to_contain_text("urgente: urgent")
    admin.fill("#rules-threshold", "2")  # refused, and nothing typed is lost
    keywords.fill(keywords.input_value() + "\nimpresora en llamas: urgent")
    admin.get_by_role("button", name="Save rules").click()
    expect(admin.locator(".field-error")).to_have_text("The threshold is a number from 0 to 1.")
    expect(keywords).to_contain_text("impresora en llamas: urgent")
    admin.fill("#rules-threshold", "0.66")
    admin.get_by_role("button", name="Save rules").click()
    expect(admin.get_by_text("Rules saved.")).to_be_visible()

    user = browser.new_context().new_page()
    user.goto(f"{live_app}/")
    expect(user.get_by_text("Describe your problem")).to_be_visible()
    user.fill("#chat-input", "Hay una impresora en llamas en la planta 2")
    user.get_by_role("button", name="Send").click()
    expect(user.locator("#chat-ticket")).to_have_text(re.compile(r"^SB-"), timeout=30_000)
    expect(user.locator(".chat-message[data-sender='bot']").last).to_contain_text(
        "Parece urgente")

    admin.goto(f"{live_app}/admin/notifications")
    expect(admin.get_by_role("heading", name="Notification deliveries")).to_be_visible()
    admin.context.close()
    user.context.close()
