"""`/api/chat/`: the chat for other sites and tools (REST; live updates on the WebSocket
of `api.chat_socket`).

A chat session id is a capability: whoever holds it reads and continues that anonymous
conversation, so it is random and never listed. A session opened with a Bearer token
belongs to that account and answers to nobody else (404, as for an unknown id).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, status
from pydantic import BaseModel, Field
from sqlmodel import Session, select

from supportbot.api.deps import DbSession, OptionalUser
from supportbot.api.schemas import UtcDatetime, error_responses
from supportbot.models import Conversation, ConversationStatus, Feedback, Message
from supportbot.services import chat, tickets
from supportbot.services.chat import Reply

router = APIRouter(prefix="/api/chat", tags=["chat"],
                   responses=error_responses(401, 404, 413, 422, 429))

HISTORY = 500  # messages a conversation read returns at most
SessionId = Annotated[str, Field(min_length=1, max_length=64)]


class SessionIn(BaseModel):
    locale: Literal["en", "es"] = "en"


class SessionOut(BaseModel):
    session_id: str = Field(description="Keep it secret: it is the key to the conversation.")
    locale: str
    owned: bool = Field(description="Tied to the account of the Bearer token.")
    created_at: UtcDatetime


class Citation(BaseModel):
    id: str
    title: str
    version: int | None = None


class ChatMessageOut(BaseModel):
    id: uuid.UUID
    sender: str = Field(description="user, bot, agent or system.")
    text: str
    citations: list[Citation]
    confidence: float | None
    rateable: bool = Field(description="A bot answer that takes feedback.")
    rating: int = Field(default=0, description="1, -1, or 0 when not rated.")
    created_at: UtcDatetime


class TicketRef(BaseModel):
    id: uuid.UUID
    reference: str


class MessageIn(BaseModel):
    session_id: SessionId
    text: str = Field(default="", max_length=4000)
    request_human: bool = Field(default=False, description='The "talk to a person" action.')
    language: Literal["en", "es"] | None = Field(
        default=None, description="Reply language (default: the message's).")
    client_id: str | None = Field(
        default=None, pattern=f"^{chat.CLIENT_ID.pattern}$",
        description="Your id for this message (e.g. a UUID's hex), unique in the "
                    "conversation. Send it again with the same message after an error "
                    "or a timeout: it is stored once and answered once (`replayed`); 409 "
                    "`duplicate_message` while its first send is still being answered.")


class ChatReplyOut(BaseModel):
    session_id: str
    answer: str | None = Field(description="The bot's reply; null while people own the "
                                            "conversation (the bot stays silent).")
    citations: list[Citation]
    confidence: float | None
    escalated: bool
    reason: str | None = Field(description="Why it went to people (escalation reason).")
    ticket: TicketRef | None
    language: str
    generated: bool
    human: bool = Field(description="People own the conversation now.")
    user_message: ChatMessageOut | None
    bot_message: ChatMessageOut | None
    replayed: bool = Field(default=False, description="The reply of an earlier send of this "
                                                      "`client_id`: nothing new was stored.")


class ConversationOut(BaseModel):
    session_id: str
    status: ConversationStatus
    locale: str
    ticket: TicketRef | None = Field(description="The open ticket, if any.")
    messages: list[ChatMessageOut]


class FeedbackIn(BaseModel):
    session_id: SessionId
    message_id: uuid.UUID
    rating: Literal[1, -1] = Field(description="1 helpful, -1 not helpful.")
    comment: str = Field(default="", max_length=2000)


class FeedbackOut(BaseModel):
    recorded: bool
    escalated: bool = Field(description="This rating handed the conversation to people.")
    ticket: TicketRef | None
    bot_message: ChatMessageOut | None


def message_out(message: Message, rating: int = 0) -> ChatMessageOut:
    return ChatMessageOut(
        id=message.id, sender=message.sender_type, text=message.text,
        citations=[Citation(id=str(c.get("id")), title=str(c.get("title", "")),
                            version=c.get("version")) for c in message.citations],
        confidence=message.confidence,
        rateable=message.is_bot and message.meta.get("decision") == "answer",
        rating=rating, created_at=message.created_at)


def ticket_ref(ticket) -> TicketRef | None:  # noqa: ANN001
    return TicketRef(id=ticket.id, reference=ticket.reference) if ticket else None


def reply_out(reply: Reply) -> ChatReplyOut:
    bot = reply.bot_message
    return ChatReplyOut(
        session_id=reply.conversation.session_id, answer=bot.text if bot else None,
        citations=[Citation(**c) for c in reply.citations],
        confidence=(round(reply.result.confidence, 4) if reply.result
                    else round(bot.confidence, 4) if reply.replayed and bot
                    and bot.confidence is not None else None),
        escalated=reply.escalated,
        reason=reply.escalation.reason.value if reply.escalation else None,
        ticket=ticket_ref(reply.ticket), language=reply.language, generated=reply.generated,
        human=reply.conversation.status == ConversationStatus.human.value,
        user_message=message_out(reply.user_message) if reply.user_message else None,
        bot_message=message_out(bot) if bot else None, replayed=reply.replayed)


def conversation_out(session: Session, conversation: Conversation) -> ConversationOut:
    ratings = dict(session.exec(select(Feedback.message_id, Feedback.rating).where(
        Feedback.conversation_id == conversation.id)).all())
    messages = chat.messages_of(session, conversation, limit=HISTORY)
    return ConversationOut(
        session_id=conversation.session_id, status=conversation.status,
        locale=conversation.locale,
        ticket=ticket_ref(tickets.open_ticket_of(session, conversation)),
        messages=[message_out(m, ratings.get(m.id, 0)) for m in messages])


@router.post("/session/", status_code=status.HTTP_201_CREATED, response_model=SessionOut)
def open_session(user: OptionalUser, session: DbSession,
                 body: SessionIn | None = None) -> SessionOut:
    """Start a conversation: anonymous, or the Bearer token's account's."""
    conversation = chat.start_conversation(session, user=user,
                                           locale=(body or SessionIn()).locale)
    return SessionOut(session_id=conversation.session_id, locale=conversation.locale,
                      owned=conversation.user_id is not None,
                      created_at=conversation.created_at)


@router.post("/message/", response_model=ChatReplyOut, responses=error_responses(409))
def send_message(body: MessageIn, user: OptionalUser, session: DbSession) -> ChatReplyOut:
    """One user turn: the bot's answer with its sources, or the hand-over to people and
    the ticket. While people own the conversation the message waits for them
    (`answer` null); their replies come on the WebSocket or the conversation read.
    With a `client_id`, a message sent again is stored and answered once."""
    reply = chat.send_message(session, body.session_id, body.text, user=user,
                              request_human=body.request_human, language=body.language,
                              client_id=body.client_id)
    return reply_out(reply)


@router.get("/conversations/{session_id}/", response_model=ConversationOut)
def read_conversation(session_id: str, user: OptionalUser,
                      session: DbSession) -> ConversationOut:
    """The conversation of a session (never internal notes)."""
    conversation = chat.get_conversation(session, session_id, user=user)
    return conversation_out(session, conversation)


@router.post("/feedback/", response_model=FeedbackOut)
def give_feedback(body: FeedbackIn, user: OptionalUser, session: DbSession) -> FeedbackOut:
    """Rate a bot answer. Enough unhelpful answers hand the conversation to people."""
    outcome = chat.give_feedback(session, body.session_id, body.message_id, body.rating,
                                 comment=body.comment, user=user)
    if outcome is None:
        return FeedbackOut(recorded=True, escalated=False, ticket=None, bot_message=None)
    return FeedbackOut(recorded=True, escalated=outcome.escalated,
                       ticket=ticket_ref(outcome.ticket),
                       bot_message=message_out(outcome.bot_message)
                       if outcome.bot_message else None)
