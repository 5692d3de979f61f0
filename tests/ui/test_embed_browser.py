"""The website widget: an admin copies the snippet, another site pastes it, a visitor there
opens the launcher and chats with the bot in the iframe."""

import functools
import re
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from tests.ui.test_desk_browser import log_in

pytestmark = [pytest.mark.app, pytest.mark.browser]


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # noqa: ANN002
        pass


@pytest.fixture
def other_site(tmp_path):
    """A plain static site on its own port: (folder, base URL)."""
    handler = functools.partial(QuietHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield tmp_path, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_a_website_embeds_the_chat_with_the_admins_snippet(live_app, browser, other_site):
    context = browser.new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_app)
    admin = context.new_page()
    log_in(admin, live_app, "admin", "/admin/kb")
    admin.get_by_role("button", name="Admin", exact=True).click()  # the admin pages' menu
    admin.get_by_role("menuitem", name="Widget").click()
    expect(admin).to_have_url(re.compile(r"/admin/embed/?$"))
    code = admin.locator("#embed-snippet")
    expect(code).to_have_text(f'<script src="{live_app}/embed.js" defer></script>')
    admin.get_by_label("Language", exact=True).select_option("es")
    expect(code).to_have_text(f'<script src="{live_app}/embed.js" data-lang="es" defer></script>')
    admin.get_by_role("button", name="Copy").click()
    expect(admin.get_by_text("Copied.")).to_be_visible()
    snippet = admin.evaluate("navigator.clipboard.readText()")
    assert snippet == code.inner_text()
    context.close()

    folder, site_url = other_site
    (folder / "index.html").write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>ACME intranet</title></head>"
        f"<body><h1>ACME intranet</h1><p>Welcome.</p>{snippet}</body></html>")
    # Chromium refuses storage to the third-party iframe here, as privacy settings do:
    # the widget must work anyway (assets/storage-fallback.js).
    visitor = browser.new_context(locale="en-US").new_page()
    visitor.context.set_default_timeout(20_000)
    visitor.goto(f"{site_url}/index.html")
    launcher = visitor.get_by_role("button", name="Ayuda")  # data-lang="es" wins
    expect(launcher).to_have_attribute("aria-expanded", "false")
    expect(visitor.locator("#supportbot-frame")).to_be_hidden()
    launcher.click()
    expect(visitor.locator("#supportbot-frame")).to_be_visible()
    expect(visitor.locator("#supportbot-frame")).to_have_attribute(
        "src", f"{live_app}/widget?lang=es")
    chat = visitor.frame_locator("#supportbot-frame")
    expect(chat.get_by_text("Cuéntame tu problema")).to_be_visible()
    expect(chat.get_by_role("link", name="Centro de ayuda")).to_have_count(0)  # no site frame
    chat.locator("#chat-input").fill("la VPN no conecta desde casa")
    chat.get_by_role("button", name="Enviar").click()
    answer = chat.locator(".chat-message[data-sender='bot']").last
    expect(answer).to_contain_text("Esto debería ayudarte", timeout=30_000)
    expect(answer.get_by_role("link").first).to_have_attribute("href", re.compile(r"^/kb/"))
    close = visitor.get_by_role("button", name="Cerrar")
    close.click()
    expect(visitor.locator("#supportbot-frame")).to_be_hidden()
    expect(visitor.get_by_role("heading", name="ACME intranet")).to_be_visible()
    visitor.context.close()


def test_the_script_is_served_and_ignores_a_second_copy(live_app, browser, other_site):
    folder, site_url = other_site
    tag = (f'<script src="{live_app}/embed.js" data-position="left" '
           'data-label="Need help?"></script>')
    (folder / "twice.html").write_text(f"<!doctype html><html><body>{tag}{tag}</body></html>")
    page = browser.new_context(locale="es-ES").new_page()
    page.context.set_default_timeout(20_000)
    page.goto(f"{site_url}/twice.html")
    launcher = page.get_by_role("button", name="Need help?")
    expect(launcher).to_have_count(1)
    assert page.evaluate("getComputedStyle(document.getElementById('supportbot-launcher')).left") \
        == "16px"
    launcher.click()
    expect(page.locator("#supportbot-frame")).to_have_attribute(
        "src", f"{live_app}/widget?lang=es")  # the visitor's browser language
    expect(page.frame_locator("#supportbot-frame").get_by_text(
        "Cuéntame tu problema")).to_be_visible()
    page.context.close()
