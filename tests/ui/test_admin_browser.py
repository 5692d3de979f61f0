"""Admin pages: escalation rules that change the bot at once; notification deliveries."""

import re
import time

import pytest
from playwright.sync_api import expect

from tests.ui.conftest import LIVE
from tests.ui.test_desk_browser import log_in

pytestmark = [pytest.mark.app, pytest.mark.browser]


def test_only_admins_open_the_admin_pages(live_app, browser):
    page = browser.new_context().new_page()
    log_in(page, live_app, "agent", "/desk")
    expect(page.get_by_role("link", name="Desk")).to_be_visible()
    expect(page.get_by_role("button", name="Admin", exact=True)).to_have_count(0)  # no admin menu
    for path in ("/admin/rules", "/admin/notifications", "/admin/kb", "/admin/feedback",
                 "/admin/users", "/admin/audit", "/admin/metrics", "/admin/models",
                 "/admin/suggestions"):
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


def test_an_admin_writes_publishes_and_deletes_an_article_the_bot_then_cites(live_app,
                                                                             browser):
    admin = browser.new_context().new_page()
    log_in(admin, live_app, "admin", "/admin/kb")
    expect(admin.locator(".kb-row").first).to_be_visible()
    admin.get_by_role("button", name="New article").click()
    admin.get_by_role("button", name="Save").click()  # empty: refused per field
    expect(admin.locator(".field-error").first).to_have_text("A title is required.")
    admin.fill("#kb-title", "Coffee machine shows error E42")
    admin.fill("#kb-solution", "Empty the drip tray, then hold the descale button for 5 s.")
    admin.fill("#kb-phrasings", "coffee machine error e42\nthe coffee maker says E42")
    admin.fill("#kb-tags", "Kitchen, coffee")
    admin.locator("#kb-status").select_option("published")
    admin.get_by_role("button", name="Save").click()
    expect(admin.get_by_text("Saved. The search index is being updated.")).to_be_visible()
    expect(admin.locator("#kb-version")).to_have_text("Version 1")
    admin.fill("#kb-title", "Coffee machine shows error E42 or E43")
    admin.get_by_role("button", name="Save").click()
    expect(admin.locator("#kb-version")).to_have_text("Version 2")
    expect(admin.locator(".kb-history")).to_have_count(2)

    user = browser.new_context().new_page()  # the index follows the edit by itself
    user.goto(f"{live_app}/")
    expect(user.get_by_text("Describe your problem")).to_be_visible()
    for _ in range(20):
        user.get_by_role("button", name="New conversation").click()
        user.fill("#chat-input", "the coffee maker says E42")
        user.get_by_role("button", name="Send").click()
        answer = user.locator(".chat-message[data-sender='bot']").last
        expect(answer).to_be_visible(timeout=30_000)
        if "descale button" in answer.inner_text():
            break
        user.wait_for_timeout(1000)
    expect(answer.get_by_role("link", name="Coffee machine shows error E42 or E43")).to_be_visible()

    admin.get_by_role("button", name="Delete", exact=True).click()
    admin.get_by_role("alertdialog").get_by_role("button", name="Delete", exact=True).click()
    expect(admin.get_by_text("Article deleted.")).to_be_visible()
    admin.get_by_role("button", name="Rebuild index").click()
    expect(admin.locator("#kb-job")).to_contain_text("finished", timeout=60_000)
    admin.context.close()
    user.context.close()


def test_unhelpful_feedback_becomes_a_draft_article(live_app, browser):
    user = browser.new_context().new_page()
    user.goto(f"{live_app}/")
    expect(user.get_by_text("Describe your problem")).to_be_visible()
    user.get_by_role("button", name="New conversation").click()
    user.fill("#chat-input", "I forgot my password and the reset page is blank")
    user.get_by_role("button", name="Send").click()
    answer = user.locator(".chat-message[data-sender='bot']").last
    expect(answer).to_contain_text("Reset a forgotten password", timeout=30_000)
    answer.get_by_role("button", name="Not helpful").click()
    expect(answer.get_by_text("Thanks for your feedback.")).to_be_visible()

    admin = browser.new_context().new_page()
    log_in(admin, live_app, "admin", "/admin/feedback")
    item = admin.locator(".feedback-item", has_text="the reset page is blank")
    expect(item).to_be_visible()
    item.get_by_role("button", name="Turn into KB article").click()
    expect(admin).to_have_url(re.compile(r"/admin/kb/?\?edit="))
    expect(admin.locator("#kb-title")).to_have_value(
        "I forgot my password and the reset page is blank")
    expect(admin.locator("#kb-status")).to_have_value("draft")
    admin.goto(f"{live_app}/admin/feedback")
    expect(admin.get_by_role("heading", name="Unhelpful answers to review")).to_be_visible()
    expect(admin.locator(".feedback-item", has_text="reset page is blank")).to_have_count(0)
    admin.context.close()
    user.context.close()


def test_an_admin_creates_promotes_and_deactivates_an_account(live_app, browser):
    admin = browser.new_context().new_page()
    log_in(admin, live_app, "admin", "/admin/users")
    admin.fill("#new-username", "carla")
    admin.fill("#new-email", "carla@example.com")
    admin.fill("#new-password", "short")
    admin.get_by_role("button", name="Create account").click()
    expect(admin.locator(".field-error")).to_contain_text("at least")
    expect(admin.locator("#new-username")).to_have_value("carla")  # nothing typed is lost
    admin.fill("#new-password", "a long enough passphrase 9")
    admin.get_by_role("button", name="Create account").click()
    expect(admin.get_by_text("Account created.")).to_be_visible()
    row = admin.locator(".user-row[data-username='carla']")
    row.get_by_role("combobox").select_option("agent")
    expect(row.get_by_role("combobox")).to_have_value("agent")
    row.get_by_role("button", name="Deactivate").click()
    expect(row).to_contain_text("Deactivated")
    admin.goto(f"{live_app}/admin/audit")
    role_change = admin.locator(".audit-row", has_text="user.role").first
    expect(role_change).to_contain_text("Account: carla")  # names, not ids
    expect(role_change.locator("td").nth(1)).to_have_text("admin")
    admin.context.close()


def test_the_metrics_page_shows_the_periods_figures_and_charts(live_app, browser):
    user = browser.new_context().new_page()
    user.goto(f"{live_app}/")
    expect(user.get_by_text("Describe your problem")).to_be_visible()
    user.get_by_role("button", name="New conversation").click()
    user.fill("#chat-input", "I forgot my password")
    user.get_by_role("button", name="Send").click()
    expect(user.locator(".chat-message[data-sender='bot']").last).to_contain_text(
        "Reset a forgotten password", timeout=30_000)
    user.get_by_role("button", name="Talk to a person").click()
    expect(user.locator("#chat-ticket")).to_have_text(re.compile(r"^SB-"), timeout=30_000)
    user.context.close()
    admin = browser.new_context().new_page()
    log_in(admin, live_app, "admin", "/admin/metrics")
    expect(admin.locator("#metric-conversations")).to_have_text(re.compile(r"^[1-9]\d*$"))
    expect(admin.locator("#metric-escalation_rate")).to_have_text(re.compile(r"%$"))
    expect(admin.locator("#metric-latency")).to_contain_text("ms")
    expect(admin.locator(".recharts-bar-rectangle").first).to_be_visible()
    admin.get_by_label("Period").select_option("30")
    expect(admin.locator("#metric-conversations")).to_have_text(re.compile(r"^[1-9]\d*$"))
    admin.context.close()


def test_the_notifications_page_shows_the_deliveries_of_an_escalation(live_app, browser,
                                                                      webhooks):
    user = browser.new_context().new_page()
    user.goto(f"{live_app}/")
    expect(user.get_by_text("Describe your problem")).to_be_visible()
    user.fill("#chat-input", "the projector in room 4 is broken, talk to a human please")
    user.get_by_role("button", name="Send").click()
    expect(user.locator("#chat-ticket")).to_have_text(re.compile(r"^SB-"), timeout=30_000)
    reference = user.locator("#chat-ticket").inner_text()
    user.context.close()
    deadline = time.monotonic() + 20
    while not any(hook["ticket"]["reference"] == reference for hook in webhooks):
        assert time.monotonic() < deadline, "the webhook never arrived"
        time.sleep(0.2)

    admin = browser.new_context().new_page()
    log_in(admin, live_app, "admin", "/admin/notifications")
    rows = admin.locator(".delivery-row", has_text=reference)
    for _ in range(20):  # the page shows what is recorded when it loads
        if rows.count() == 2 and admin.locator(".delivery-row[data-status='pending']",
                                               has_text=reference).count() == 0:
            break
        admin.wait_for_timeout(500)
        admin.reload()
    sent = admin.locator(".delivery-row[data-status='sent']", has_text=reference)
    expect(sent).to_contain_text(LIVE["webhook_url"])
    expect(sent).to_contain_text("Webhook")
    expect(sent.get_by_text("Sent", exact=True)).to_be_visible()
    failed = admin.locator(".delivery-row[data-status='failed']", has_text=reference)
    expect(failed).to_contain_text(LIVE["dead_webhook_url"])
    expect(failed.get_by_text("Failed", exact=True)).to_be_visible()
    expect(failed).to_contain_text("ConnectError")
    expect(failed.locator("td").nth(5)).to_have_text("2")  # attempts: one retry
    admin.get_by_text("Only failed ones").click()
    expect(rows).to_have_count(1)
    expect(rows).to_have_attribute("data-status", "failed")
    admin.context.close()


def test_an_admin_fine_tunes_the_search_model_and_sees_the_outcome(live_app, browser):
    admin = browser.new_context().new_page()
    log_in(admin, live_app, "admin", "/admin/models")
    expect(admin.get_by_role("heading", name="Search model")).to_be_visible()
    expect(admin.locator(".model-row")).to_have_count(1)  # the shipped model, in use
    expect(admin.locator(".model-row").first).to_contain_text("In use")
    admin.get_by_role("button", name="Fine-tune now").click()
    expect(admin.locator("#finetune-job")).to_contain_text(re.compile("waiting|running"))
    # Demo KB: about a minute on two cores; the page follows the job on its own.
    expect(admin.locator("#finetune-job")).to_contain_text("finished", timeout=300_000)
    expect(admin.get_by_text(re.compile(
        "it is in use now|the model in use stays"))).to_be_visible()
    expect(admin.locator(".model-row")).to_have_count(2)
    if admin.locator(".model-row").first.get_by_text("In use").count():
        admin.get_by_role("button", name="Roll back").click()  # leave the shipped model on
        expect(admin.get_by_text("Model changed.")).to_be_visible()
    expect(admin.locator(".model-row").last).to_contain_text("In use")
    admin.context.close()
