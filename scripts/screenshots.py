"""Screenshots of the main pages for the README, taken in Debian's headless Chromium.

    make screenshots                      # starts its own app on a throw-away database
    .venv/bin/python scripts/screenshots.py --base http://localhost:3000   # a running app
        (then DEMO_ADMIN_PASSWORD, DEMO_AGENT_PASSWORD, DEMO_USER_PASSWORD must be the demo
        accounts' passwords)

Writes docs/screenshots/*.png. The pages are driven as a person would: a question answered,
a few conversations handed to people, an agent's reply, so each shot shows real content.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from playwright.sync_api import FrameLocator, Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
DESKTOP = {"width": 1280, "height": 820}
PHONE = {"width": 390, "height": 844}
PASSWORDS = {"admin": "teal comet harbor 4417", "agent": "amber fjord pixel 5528",
             "user": "mossy lantern quay 6639"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def own_app() -> Iterator[str]:
    """The app as `make run` starts it, on a temporary database with the demo data."""
    with tempfile.TemporaryDirectory(prefix="supportbot-shots-") as workdir:
        port = _free_port()
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{workdir}/app.db",
               "DATA_DIR": f"{workdir}/data", "ALLOWED_HOSTS": "localhost,127.0.0.1",
               "PUBLIC_URL": f"http://localhost:{port}", "REDIS_URL": "",
               "DEMO_ADMIN_PASSWORD": PASSWORDS["admin"],
               "DEMO_AGENT_PASSWORD": PASSWORDS["agent"],
               "DEMO_USER_PASSWORD": PASSWORDS["user"]}
        for command in (["migrate"], ["demo-data"], ["reindex"]):
            done = subprocess.run([sys.executable, "-m", "supportbot", *command], cwd=ROOT,
                                  env=env, capture_output=True, text=True)
            if done.returncode:
                sys.exit(f"supportbot {command[0]}: {done.stderr.strip()}")
        log = open(f"{workdir}/reflex.log", "w")  # noqa: SIM115
        app = subprocess.Popen(
            [sys.executable, "-m", "reflex", "run", "--env", "prod", "--single-port",
             "--frontend-port", str(port), "--backend-host", "127.0.0.1"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://localhost:{port}"
        try:
            deadline = time.monotonic() + 600
            while True:
                if app.poll() is not None:
                    sys.exit(f"the app exited:\n{Path(workdir, 'reflex.log').read_text()[-3000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{base}/_health", timeout=2).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    sys.exit("the app did not start in 10 minutes")
                time.sleep(1)
            yield base
        finally:
            os.killpg(app.pid, signal.SIGTERM)
            try:
                app.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(app.pid, signal.SIGKILL)
            log.close()


def log_in(page: Page, base: str, username: str, next_path: str) -> None:
    page.goto(f"{base}/login?next={next_path}")
    expect(page.locator("input[name=next]")).to_have_value(next_path)
    page.fill("#login-username", username)
    page.fill("#login-password", PASSWORDS[username])
    page.get_by_role("button", name=re.compile("^(Log in|Entrar)$")).click()
    expect(page).to_have_url(re.compile(re.escape(next_path) + "/?$"))


def ask(chat: Page | FrameLocator, text: str) -> None:
    """Send `text` in the chat (a page, or the widget's frame) and wait for the bot."""
    chat.locator("#chat-input").fill(text)
    chat.get_by_role("button", name=re.compile("^(Send|Enviar)$")).click()
    expect(chat.locator(".chat-message[data-sender='bot']").last).to_be_visible(timeout=60_000)
    expect(chat.locator("#chat-input")).to_have_value("", timeout=30_000)


def shoot(page: Page, name: str, *, full_page: bool = False) -> None:
    page.wait_for_timeout(600)  # let fonts, charts and transitions settle
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=full_page)
    print(f"docs/screenshots/{name}.png")


def take_all(base: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        def page(locale: str = "en-US", viewport: dict[str, int] = DESKTOP) -> Page:
            context = browser.new_context(locale=locale, viewport=viewport)
            context.set_default_timeout(30_000)
            return context.new_page()

        # Conversations handed to people, so the desk has a queue.
        for text in ("URGENT: the payroll server is not working",
                     "la impresora de la planta 2 no imprime, quiero hablar con una persona",
                     "My laptop battery is swollen, talk to a human please"):
            visitor = page()
            visitor.goto(f"{base}/")
            expect(visitor.locator("#chat-input")).to_be_editable()
            ask(visitor, text)
            expect(visitor.locator("#chat-ticket")).to_have_text(re.compile(r"^SB-"))
            waiting = visitor
        reference = waiting.locator("#chat-ticket").inner_text()

        chat = page()
        chat.goto(f"{base}/")
        expect(chat.locator("#chat-input")).to_be_editable()
        ask(chat, "I forgot my password")
        expect(chat.locator(".chat-message[data-sender='bot']").last.get_by_role("link")
               .first).to_be_visible()
        shoot(chat, "chat")

        phone = page("es-ES", PHONE)
        phone.goto(f"{base}/")
        expect(phone.locator("#chat-input")).to_be_editable()
        ask(phone, "la VPN no conecta desde casa")
        shoot(phone, "chat-phone")
        phone.goto(f"{base}/kb")
        expect(phone.get_by_role("heading", name="Centro de ayuda")).to_be_visible()
        shoot(phone, "help-center-phone")

        help_center = page()
        help_center.goto(f"{base}/kb")
        expect(help_center.get_by_text(re.compile(r"^\d+ articles$"))).to_be_visible()
        shoot(help_center, "help-center")
        spanish = page("es-ES")
        spanish.goto(f"{base}/kb")
        spanish.get_by_role("link", name=re.compile("VPN", re.I)).first.click()
        expect(spanish.get_by_role("heading", name="Solución")).to_be_visible()
        shoot(spanish, "article-es")

        login = page()
        login.goto(f"{base}/login")
        login.fill("#login-username", "user")
        login.fill("#login-password", "not my password")
        login.get_by_role("button", name="Log in", exact=True).click()
        expect(login.get_by_text("Invalid username or password.")).to_be_visible()
        shoot(login, "login-error")
        log_in(login, base, "user", "/account")
        expect(login.get_by_text("user@example.com")).to_be_visible()
        shoot(login, "account")

        agent = page()
        log_in(agent, base, "agent", "/desk")
        expect(agent.locator(".desk-row")).to_have_count(3)
        shoot(agent, "desk-queue")
        agent.locator(".desk-row", has_text=reference).get_by_role("link").click()
        expect(agent.locator("#handoff-note")).to_be_visible()
        agent.get_by_role("button", name="Take it").click()
        agent.fill("#reply-input", "Please stop using it and unplug it. I am bringing you a "
                                   "replacement laptop this afternoon.")
        agent.get_by_role("button", name="Send").click()
        expect(agent.locator(".desk-message[data-sender='agent']")).to_be_visible()
        expect(waiting.locator(".chat-message[data-sender='agent']")).to_be_visible()
        shoot(agent, "desk-ticket", full_page=True)
        shoot(waiting, "chat-agent-reply")

        admin = page()
        log_in(admin, base, "admin", "/admin/kb")
        expect(admin.locator(".kb-row").first).to_be_visible()
        admin.locator(".kb-row").first.get_by_role("button").click()
        expect(admin.locator("#kb-title")).not_to_have_value("")
        shoot(admin, "admin-kb")
        admin.goto(f"{base}/admin/metrics")
        expect(admin.locator(".recharts-bar-rectangle").first).to_be_visible()
        shoot(admin, "admin-metrics")
        admin.goto(f"{base}/admin/embed")
        expect(admin.locator("#embed-snippet")).to_contain_text("embed.js")
        snippet = admin.locator("#embed-snippet").inner_text()

        site = page()
        site.set_content("<!doctype html><html><head><meta charset='utf-8'><title>ACME</title>"
                         "<style>body{font:16px system-ui;margin:0}header{background:#1d2b4f;"
                         "color:#fff;padding:20px 40px}main{padding:20px 40px}</style></head>"
                         "<body><header><h1>ACME intranet</h1></header><main><h2>News</h2>"
                         "<p>The office moves to the new building on Monday.</p></main>"
                         f"{snippet}</body></html>")
        site.locator("#supportbot-launcher").click()
        widget = site.frame_locator("#supportbot-frame")
        expect(widget.locator("#chat-input")).to_be_editable()
        ask(widget, "How do I connect to the office wifi?")
        shoot(site, "widget")
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", help="URL of a running app (default: start one)")
    args = parser.parse_args()
    if args.base:
        for name in PASSWORDS:
            PASSWORDS[name] = os.environ.get(f"DEMO_{name.upper()}_PASSWORD") or sys.exit(
                f"set DEMO_{name.upper()}_PASSWORD to the {name} account's password")
        take_all(args.base.rstrip("/"))
        return
    with own_app() as base:
        take_all(base)


if __name__ == "__main__":
    main()
