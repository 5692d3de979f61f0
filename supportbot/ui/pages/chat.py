"""The end-user chat (`/`, and `/widget` without the site frame for embedding).

The chat session id lives in the browser's localStorage, so a reload shows the history.
Every turn goes through `services.chat.send_message` in a worker thread (never on the
event loop); generated answers stream into the page token by token. While people own the
conversation, a background loop looks for their replies every couple of seconds.

Each message the user sends carries a client message id (`services.chat`'s idempotency
key); a turn that fails (a dropped connection, a database restart) leaves the message in
the input, and sending it again reuses its id, so it is stored and answered once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from typing import Any

import reflex as rx
from sqlmodel import select

from supportbot.db import session_scope
from supportbot.errors import NotAuthenticated, NotFound, ServiceError
from supportbot.models import ConversationStatus, Feedback, Message, User
from supportbot.services import chat, live, tickets
from supportbot.ui.components.layout import notice, page_frame
from supportbot.ui.i18n import t
from supportbot.ui.state import SessionState
from supportbot.ui.translate import service_message

HISTORY = 100  # messages shown
POLL_MINUTES = 30  # a page left open stops polling after this


def message_view(message: Message, rating: int = 0, comment: str = "") -> dict[str, Any]:
    return {
        "id": str(message.id),
        "sender": message.sender_type,
        "text": message.text,
        "citations": [{"id": str(c.get("id")), "title": str(c.get("title", ""))}
                      for c in message.citations],
        "rateable": message.is_bot and message.meta.get("decision") == "answer",
        "rating": rating,
        "commented": bool(comment),
    }


def conversation_view(session, conversation) -> dict[str, Any]:  # noqa: ANN001
    messages = chat.messages_of(session, conversation, limit=HISTORY)
    feedback = {message_id: (rating, comment) for message_id, rating, comment in session.exec(
        select(Feedback.message_id, Feedback.rating, Feedback.comment).where(
            Feedback.conversation_id == conversation.id)).all()}
    ticket = tickets.open_ticket_of(session, conversation)
    return {
        "messages": [message_view(m, *feedback.get(m.id, (0, ""))) for m in messages],
        "ticket": ticket.reference if ticket else "",
        "human": conversation.status == ConversationStatus.human.value,
    }


def _user(user_id: str | None, session) -> User | None:  # noqa: ANN001
    return session.get(User, uuid.UUID(user_id)) if user_id else None


class ChatState(rx.State):
    chat_session: str = rx.LocalStorage("", name="sb_chat")
    messages: list[dict[str, Any]] = []
    sending: bool = False
    streaming: str = ""
    error: str = ""
    ticket: str = ""
    human: bool = False
    _polling: bool = False
    # The message being sent (or whose send failed) and its client id, reused while the
    # same message is sent again; cleared once it is answered.
    _unsent_key: str = ""
    _unsent_id: str = ""

    async def _user_id(self) -> str | None:
        session_state = await self.get_state(SessionState)
        try:
            user = session_state.current_user()
        except NotAuthenticated:
            return None
        return str(user.id) if user else None

    def _apply(self, view: dict[str, Any]) -> None:
        self.messages = view["messages"]
        self.ticket = view["ticket"]
        self.human = view["human"]

    @rx.event
    async def load(self):  # noqa: ANN201
        """Show the stored conversation (if this browser has one this user may read)."""
        self.error = ""
        if not self.chat_session:
            self.messages, self.ticket, self.human = [], "", False
            return None
        user_id = await self._user_id()
        with session_scope() as session:
            try:
                conversation = chat.get_conversation(session, self.chat_session,
                                                     user=_user(user_id, session))
            except NotFound:  # another account's, or gone: start afresh
                self.chat_session = ""
                self.messages, self.ticket, self.human = [], "", False
                return None
            self._apply(conversation_view(session, conversation))
        return ChatState.poll if self.human else None

    @rx.event
    def new_conversation(self) -> None:
        self.chat_session = ""
        self.messages, self.ticket, self.human, self.error, self.streaming = [], "", False, "", ""
        self._unsent_key, self._unsent_id = "", ""

    async def _resume(self, shown: str):  # noqa: ANN202 - what `load` returns
        """The page's state was lost while the browser still shows its conversation (a
        Redis restarted without its data, or the state expired while the tab stayed
        open): the browser's conversation is the one to continue, not a new one. Its id
        comes from the page, as from the browser's storage at load, and is checked the
        same way (`load`: another account's starts afresh)."""
        if shown and not self.chat_session:
            self.chat_session = shown
            return await self.load()  # ChatState.poll while people own it
        return None

    @rx.event
    async def send(self, form: dict[str, Any]):  # noqa: ANN201
        if self.sending:
            return None
        await self._resume(str(form.get("conversation") or ""))
        text = str(form.get("message") or "")
        lang = (await self.get_state(SessionState)).lang
        try:
            text = chat.clean_message(text)
        except ServiceError as error:
            self.error = service_message(error.message, lang)
            return None
        return self._start(text, request_human=False)

    @rx.event
    async def ask_for_person(self, shown: str = ""):  # noqa: ANN201
        """`shown`: the conversation the page shows (`_resume`)."""
        if self.sending:
            return None
        follow = await self._resume(shown)
        if self.human:  # people own it already: keep showing their replies
            return follow
        return self._start("", request_human=True)

    def _client_id_for(self, key: str) -> str:
        """The client message id of this send: a new one (uuid4 hex) for a new message,
        the same one while the user sends the same message again after an error."""
        if key != self._unsent_key or not self._unsent_id:
            self._unsent_key, self._unsent_id = key, uuid.uuid4().hex
        return self._unsent_id

    def _start(self, text: str, *, request_human: bool):  # noqa: ANN202
        self.error = ""
        self.sending = True
        self.streaming = ""
        client_id = self._client_id_for(f"text:{text}" if text else "person")
        if text:  # shown at once; replaced by the stored one when the turn is done
            self.messages = [*self.messages, {"id": "pending", "sender": "user", "text": text,
                                              "citations": [], "rateable": False, "rating": 0}]
        return ChatState.process(text, request_human, client_id)

    def _turn_failed(self, error: Exception, lang: str, started: str = "") -> None:
        """The turn failed: its message stays in the input and keeps its client id for
        the retry. `started`: the conversation the turn opened (kept: the message may
        be stored in it)."""
        self.sending = False
        self.streaming = ""
        self.messages = [m for m in self.messages if m["id"] != "pending"]
        if started:
            self.chat_session = started
        self.error = (service_message(error.message, lang) if isinstance(error, ServiceError)
                      else "")
        self.error = self.error or "send_failed"

    @rx.event(background=True)
    async def process(self, text: str, request_human: bool,  # noqa: ANN201
                      client_id: str = ""):
        async with self:
            session_id = self.chat_session
            user_id = await self._user_id()
            lang = (await self.get_state(SessionState)).lang
        loop = asyncio.get_running_loop()
        pieces: asyncio.Queue[str] = asyncio.Queue()

        def on_token(piece: str) -> None:
            loop.call_soon_threadsafe(pieces.put_nowait, piece)

        started: list[str] = []  # the conversation this turn opened, if it did

        def turn() -> tuple[str, dict[str, Any]]:
            with session_scope() as session:
                user = _user(user_id, session)
                sid = session_id
                if sid:
                    try:
                        chat.get_conversation(session, sid, user=user)
                    except NotFound:
                        sid = ""
                if not sid:
                    sid = chat.start_conversation(session, user=user, locale=lang).session_id
                    started.append(sid)
                chat.send_message(session, sid, text, user=user, request_human=request_human,
                                  on_token=on_token, client_id=client_id or None)
                conversation = chat.get_conversation(session, sid, user=user)
                return sid, conversation_view(session, conversation)

        work = asyncio.create_task(asyncio.to_thread(turn))
        while not work.done():
            with contextlib.suppress(TimeoutError):
                piece = await asyncio.wait_for(pieces.get(), timeout=0.1)
                async with self:
                    self.streaming += piece
        try:
            sid, view = work.result()
        except Exception as error:  # noqa: BLE001 - shown to the user, who can retry
            async with self:
                self._turn_failed(error, lang, started[0] if started else "")
            return
        async with self:
            self.chat_session = sid
            self._apply(view)
            self.sending = False
            self.streaming = ""
            self._unsent_key, self._unsent_id = "", ""
        yield rx.set_value("chat-input", "")
        if view["human"]:
            yield ChatState.poll

    @rx.event(background=True)
    async def poll(self):  # noqa: ANN201
        """While people own the conversation, show their replies as they are stored
        (`services.live` signals; a read at least every `live.FALLBACK_SECONDS`)."""
        async with self:
            if self._polling or not self.chat_session:
                return
            self._polling = True
            session_id, user_id = self.chat_session, await self._user_id()

        def fetch() -> tuple[str, dict[str, Any]] | None:
            with session_scope() as session:
                try:
                    conversation = chat.get_conversation(
                        session, session_id, user=_user(user_id, session))
                except NotFound:
                    return None
                return str(conversation.id), conversation_view(session, conversation)

        try:
            first = await asyncio.to_thread(fetch)
            if first is None:
                return
            deadline = time.monotonic() + POLL_MINUTES * 60
            # Subscribed before each read (the first included), so a reply committed
            # while reading is read next, not at the fallback.
            with live.subscription(first[0]) as changed:
                while time.monotonic() < deadline:
                    changed.clear()
                    fetched = await asyncio.to_thread(fetch)
                    view = fetched[1] if fetched else None
                    async with self:
                        if view is None or self.chat_session != session_id:
                            return
                        if view["messages"] != self.messages and not self.sending:
                            self._apply(view)
                        if not view["human"]:
                            self._apply(view)
                            return
                    await changed.wait(live.FALLBACK_SECONDS)
        finally:
            async with self:
                self._polling = False

    @rx.event
    async def rate(self, message_id: str, rating: int):  # noqa: ANN201
        user_id = await self._user_id()
        lang = (await self.get_state(SessionState)).lang
        with session_scope() as session:
            try:
                outcome = chat.give_feedback(session, self.chat_session, message_id, int(rating),
                                             user=_user(user_id, session))
                conversation = chat.get_conversation(session, self.chat_session,
                                                     user=_user(user_id, session))
                self._apply(conversation_view(session, conversation))
            except ServiceError as error:
                self.error = service_message(error.message, lang)
                return None
        return ChatState.poll if outcome is not None and outcome.escalated else None

    @rx.event
    async def comment(self, form: dict[str, Any]) -> None:
        """The optional comment after "Not helpful": what the answer lacked (the form
        names the message it is about)."""
        message_id = str(form.get("message_id") or "")
        user_id = await self._user_id()
        lang = (await self.get_state(SessionState)).lang
        with session_scope() as session:
            try:
                user = _user(user_id, session)
                chat.comment_feedback(session, self.chat_session, message_id,
                                      str(form.get("comment") or ""), user=user)
                conversation = chat.get_conversation(session, self.chat_session, user=user)
                self._apply(conversation_view(session, conversation))
                self.error = ""
            except ServiceError as error:
                self.error = service_message(error.message, lang)


# -- view ------------------------------------------------------------------------------

def _sender_label(sender: rx.Var) -> rx.Component:
    return rx.match(sender, ("user", t("chat.you")), ("agent", t("chat.agent")),
                    ("bot", t("chat.bot")), t("chat.system"))


def _citations(message: rx.Var) -> rx.Component:
    return rx.cond(
        message["citations"].to(list[dict[str, str]]).length() > 0,
        rx.hstack(
            rx.text(t("chat.sources"), ":", size="1", color_scheme="gray"),
            rx.foreach(message["citations"].to(list[dict[str, str]]), lambda c: rx.link(
                c["title"], href="/kb/" + c["id"], size="1", target="_blank")),
            spacing="2", wrap="wrap", align="center",
        ),
    )


def _rating(message: rx.Var) -> rx.Component:
    rating = message["rating"].to(int)
    return rx.cond(
        message["rateable"].to(bool),
        rx.cond(
            rating != 0,
            rx.vstack(
                rx.text(rx.cond(message["commented"].to(bool), t("chat.commented"),
                                t("chat.thanks")), size="1", color_scheme="gray"),
                rx.cond((rating < 0) & ~message["commented"].to(bool), rx.form(
                    rx.hstack(
                        rx.el.input(type="hidden", name="message_id",
                                    value=message["id"].to(str)),
                        rx.input(name="comment", placeholder=t("chat.comment"),
                                 aria_label=t("chat.comment"), max_length=2000, size="1",
                                 width="16rem", class_name="chat-comment"),
                        rx.button(t("chat.comment_send"), type="submit", size="1",
                                  variant="soft"),
                        spacing="2", align="center", wrap="wrap"),
                    on_submit=ChatState.comment,
                    reset_on_submit=False)),
                spacing="1", align="start"),
            rx.hstack(
                rx.button(rx.icon("thumbs-up", size=14), t("chat.helpful"), size="1",
                          variant="soft", color_scheme="green",
                          on_click=ChatState.rate(message["id"].to(str), 1)),
                rx.button(rx.icon("thumbs-down", size=14), t("chat.not_helpful"), size="1",
                          variant="soft", color_scheme="gray",
                          on_click=ChatState.rate(message["id"].to(str), -1)),
                spacing="2",
            ),
        ),
    )


def _markdown(text: rx.Var) -> rx.Component:
    """Bot and agent messages: Markdown, with any HTML in them shown as text. Answers quote
    KB articles and agents write freely: neither may put live HTML or script in the page
    (Reflex's markdown renders raw HTML unless told not to)."""
    return rx.markdown(text, use_raw=False)


def _bubble(message: rx.Var) -> rx.Component:
    sender = message["sender"].to(str)
    mine = sender == "user"
    return rx.box(
        rx.vstack(
            rx.text(_sender_label(sender), size="1", weight="bold", color_scheme="gray"),
            rx.cond(mine, rx.text(message["text"].to(str), white_space="pre-wrap"),
                    _markdown(message["text"].to(str))),
            _citations(message),
            _rating(message),
            spacing="1",
            align="start",
        ),
        class_name="chat-message",
        data_sender=sender,
        background=rx.cond(mine, "var(--accent-3)", "var(--gray-3)"),
        border_radius="12px",
        padding="0.6rem 0.9rem",
        max_width="85%",
        align_self=rx.cond(mine, "flex-end", "flex-start"),
    )


def chat_panel() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading(t("home.title"), size="6"),
            rx.spacer(),
            rx.button(t("chat.new"), variant="ghost", size="2",
                      on_click=ChatState.new_conversation),
            width="100%", align="center",
        ),
        rx.cond(ChatState.ticket != "", rx.callout(
            rx.text(t("chat.ticket"), " ", rx.text.strong(ChatState.ticket, id="chat-ticket"),
                    ". ", t("chat.with_people")),
            icon="users", color_scheme="blue", width="100%")),
        rx.vstack(
            rx.box(rx.markdown(t("chat.welcome")), background="var(--gray-3)",
                   border_radius="12px", padding="0.6rem 0.9rem", max_width="85%"),
            rx.foreach(ChatState.messages, _bubble),
            rx.cond(ChatState.streaming != "", rx.box(_markdown(ChatState.streaming),
                                                      background="var(--gray-3)",
                                                      border_radius="12px",
                                                      padding="0.6rem 0.9rem",
                                                      max_width="85%")),
            rx.cond(ChatState.sending & (ChatState.streaming == ""),
                    rx.hstack(rx.spinner(size="2"), rx.text(t("chat.typing"), size="2",
                                                            color_scheme="gray"),
                              align="center", role="status")),
            width="100%", spacing="3", align="stretch", id="chat-log",
            aria_live="polite",
        ),
        rx.cond(ChatState.error != "", notice(rx.cond(ChatState.error == "send_failed",
                                                      t("chat.error"), ChatState.error))),
        rx.form(
            rx.hstack(
                rx.input(id="chat-input", name="message", placeholder=t("chat.placeholder"),
                         aria_label=t("chat.placeholder"), max_length=4000, width="100%",
                         size="3", auto_complete="off"),
                rx.button(t("chat.send"), type="submit", size="3", loading=ChatState.sending),
                # the conversation on screen, should the page's state be lost (`_resume`)
                rx.el.input(type="hidden", name="conversation", value=ChatState.chat_session),
                width="100%",
            ),
            on_submit=ChatState.send,
            reset_on_submit=False,  # cleared only once the message is stored
            width="100%",
        ),
        rx.cond(~ChatState.human, rx.button(
            rx.icon("user-round", size=16), t("chat.person"), variant="outline", size="2",
            on_click=ChatState.ask_for_person(ChatState.chat_session),
            disabled=ChatState.sending)),
        width="100%", max_width="48rem", margin_x="auto", spacing="4",
    )


def chat_page() -> rx.Component:
    return page_frame(chat_panel())


def widget_page() -> rx.Component:
    # The frame scrolls with its bottom anchored (column-reverse), so the newest message
    # and the input stay in view in a small iframe as answers arrive.
    return rx.box(rx.box(chat_panel(), padding="0.75rem"), display="flex",
                  flex_direction="column-reverse", height="100vh", overflow_y="auto")


ON_LOAD = [SessionState.load_session, ChatState.load]
