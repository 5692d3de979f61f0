"""The conversation engine: every user message gets a sourced answer or reaches people.

`send_message()`:
1. stores the user's message and commits it, so nothing after this can lose it (a retry
   of a turn that failed after that commit, e.g. a database restart mid-turn, reuses the
   stored message instead of storing it twice: exactly by the client's message id when it
   sends one, `_sent_again`; by `_failed_turn`'s heuristic when it does not);
2. if people own the conversation (open ticket), stops: the bot stays silent;
3. searches the KB with the message (and, when that is not conclusive, with the message
   read after the previous ones: the context window of `CHAT_CONTEXT_MESSAGES`);
4. applies the escalation rules (`services.escalation`);
5. answers from the first article, citing it (id, title, version), in the user's language,
   or opens the ticket (one per conversation) and tells the user its number;
6. records the decision and its inputs on the bot message: the articles and scores, the
   confidence and its features, the rule that fired, the retrieval time.

A message sent with a `client_id` (idempotency key, unique per conversation) is stored
once: sent again, it gets its first turn's reply back (`Reply.replayed`), or, if that turn
failed, its turn now. While a turn runs, its transaction holds a row lock on the user's
message (PostgreSQL): the same id sent meanwhile gets `DuplicateMessage` (409) instead of
a second turn, and the lock ends with the turn, also when its connection dies.

Anonymous conversations are reached by their `session_id` alone: a capability, random
and unguessable. A conversation that belongs to an account is only reached by that account.
"""

from __future__ import annotations

import re
import secrets
import time
import uuid
from datetime import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy.exc
from sqlmodel import Session, col, select

from supportbot.ai.answer import compose, compose_outro, reply_language
from supportbot.ai.decision import confident_enough
from supportbot.ai.generator import Generator, GeneratorUnavailable, get_generator
from supportbot.ai.grounding import check as check_grounding
from supportbot.ai.retriever import SearchResult
from supportbot.ai.store import IndexUnavailable
from supportbot.ai.text import detect_language
from supportbot.config import get_settings
from supportbot.errors import ClientIdReused, DuplicateMessage, InvalidInput, NotFound
from supportbot.models import (
    Conversation,
    ConversationStatus,
    EscalationReason,
    EntryStatus,
    Feedback,
    KnowledgeEntry,
    Message,
    Role,
    SenderType,
    Ticket,
    User,
    utcnow,
)
from supportbot.models.base import as_utc
from supportbot.services import escalation as rules_service
from supportbot.services import pii, telemetry, tickets
from supportbot.services.input_guard import require_storable, storable
from supportbot.services.escalation import Escalation
from supportbot.services.lookup import get_or_404
from supportbot.services.permissions import Actor, require_role

Searcher = Callable[[str], SearchResult]
TokenCallback = Callable[[str], None]
GENERATED_SOURCES = 3  # articles the generator reads
MAX_MESSAGE_CHARS = tickets.MAX_MESSAGE_CHARS
FOLLOW_UP_WORDS = 6  # messages this short are also read with the previous user message
RETRY_WINDOW_SECONDS = 600  # a message sent again this soon after its turn failed is a retry
CLIENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")  # a client's message id (idempotency key)
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for FOR UPDATE NOWAIT on a locked row

HANDOFF_TEXT = {
    "en": "I'm passing you to a person from the support team. Your ticket number is "
          "{reference}. They will answer here; you can keep writing meanwhile.",
    "es": "Te paso con una persona del equipo de soporte. Tu número de ticket es "
          "{reference}. Te responderán aquí; mientras tanto puedes seguir escribiendo.",
}
REASON_TEXT = {
    "en": {
        EscalationReason.low_confidence: "I couldn't find an answer I'm sure of.",
        EscalationReason.keyword: "This sounds urgent.",
        EscalationReason.user_request: "Of course.",
        EscalationReason.unresolved_turns: "It looks like my answers aren't solving this.",
        EscalationReason.negative_feedback: "Sorry my answers didn't help.",
        EscalationReason.manual: "A member of the support team has taken over.",
    },
    "es": {
        EscalationReason.low_confidence: "No he encontrado una respuesta de la que esté seguro.",
        EscalationReason.keyword: "Parece urgente.",
        EscalationReason.user_request: "Por supuesto.",
        EscalationReason.unresolved_turns: "Parece que mis respuestas no lo están resolviendo.",
        EscalationReason.negative_feedback: "Siento que mis respuestas no te hayan ayudado.",
        EscalationReason.manual: "Una persona del equipo de soporte se ha hecho cargo.",
    },
}
STILL_WITH_PEOPLE = {
    "en": "Your ticket {reference} is with the support team; they will answer here.",
    "es": "Tu ticket {reference} está con el equipo de soporte; te responderán aquí.",
}


@dataclass
class Reply:
    conversation: Conversation
    user_message: Message | None
    bot_message: Message | None  # None: people own the conversation, the bot is silent
    language: str
    ticket: Ticket | None = None
    escalation: Escalation | None = None
    result: SearchResult | None = None
    generated: bool = False
    citations: list[dict[str, object]] = field(default_factory=list)
    first_token_ms: float | None = None
    replayed: bool = False  # the reply of an earlier send of this client id; nothing stored

    @property
    def escalated(self) -> bool:
        return self.escalation is not None


# -- conversations ---------------------------------------------------------------------

def start_conversation(session: Session, *, user: User | None = None,
                       locale: str = "en") -> Conversation:
    conversation = Conversation(session_id=secrets.token_urlsafe(32),
                                user_id=user.id if user else None,
                                locale=reply_language(locale))
    session.add(conversation)
    telemetry.conversation_started(session)
    session.commit()
    return conversation


def get_conversation(session: Session, session_id: str, *,
                     user: User | None = None) -> Conversation:
    """The conversation of a session id; NotFound (never "forbidden": no hints) when it
    does not exist or belongs to another account."""
    if not session_id or len(session_id) > 64 or not storable(session_id):
        raise NotFound("No such conversation.")
    conversation = session.exec(
        select(Conversation).where(Conversation.session_id == session_id)).first()
    if conversation is None:
        raise NotFound("No such conversation.")
    if conversation.user_id is not None and (user is None or user.id != conversation.user_id):
        raise NotFound("No such conversation.")
    return conversation


def messages_of(session: Session, conversation: Conversation, *,
                include_internal: bool = False, limit: int | None = None) -> list[Message]:
    """Messages oldest first (the last `limit` when given)."""
    query = select(Message).where(Message.conversation_id == conversation.id)
    if not include_internal:
        query = query.where(col(Message.is_internal).is_(False))
    query = query.order_by(col(Message.created_at).desc(), col(Message.id).desc())
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query))[::-1]


def clean_message(text: str, *, allow_empty: bool = False) -> str:
    """The message as it will be stored (trimmed), or InvalidInput (field `text`): empty,
    too long, or holding a character no database stores."""
    text = require_storable((text or "").strip(), "text", "message")
    if not text and not allow_empty:
        raise InvalidInput("Write a message first.", fields={"text": "Write a message first."})
    if len(text) > MAX_MESSAGE_CHARS:
        message = f"Messages are limited to {MAX_MESSAGE_CHARS} characters."
        raise InvalidInput(message, fields={"text": message})
    return text


def clean_client_id(client_id: object) -> str | None:
    """The client's message id as given (None: none), or InvalidInput (field `client_id`):
    1 to 64 letters, digits, `.`, `_`, `:` or `-` (a UUID's hex fits)."""
    if client_id is None:
        return None
    if not isinstance(client_id, str) or not CLIENT_ID.fullmatch(client_id):
        message = "A client message id is 1 to 64 letters, digits, '.', '_', ':' or '-'."
        raise InvalidInput(message, fields={"client_id": message})
    return client_id


# -- sent again with its client id -------------------------------------------------------

def _by_client_id(session: Session, conversation: Conversation,
                  client_id: str) -> Message | None:
    return session.exec(select(Message).where(Message.conversation_id == conversation.id,
                                              Message.client_id == client_id)).first()


def _same_message(sent: Message, text: str, request_human: bool) -> bool:
    if text:
        return sent.text == text
    return request_human and bool(sent.meta.get("request_human"))


def _turn_of(session: Session, user_message: Message) -> Message | None:
    """The bot's reply to `user_message` (its `reply_to`), if its turn completed."""
    bots = session.exec(select(Message).where(
        Message.conversation_id == user_message.conversation_id,
        Message.sender_type == SenderType.bot.value,
    ).order_by(col(Message.created_at), col(Message.id)))
    return next((m for m in bots if m.meta.get("reply_to") == str(user_message.id)), None)


def _hold(session: Session, user_message: Message) -> bool:
    """Lock the user message's row until this transaction ends: its turn is running here.
    False (and the transaction rolled back) when another transaction holds it: another
    send of the same message is being answered. PostgreSQL only: SQLite has no row locks
    (its FOR UPDATE is nothing), so there this always holds."""
    try:
        session.exec(select(Message.id).where(Message.id == user_message.id)
                     .with_for_update(nowait=True)).first()
    except sqlalchemy.exc.OperationalError as error:
        if getattr(error.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise
        session.rollback()
        return False
    return True


def _used_for_another() -> ClientIdReused:
    message = "This client message id was already used for another message."
    return ClientIdReused(message, fields={"client_id": message})


def _still_running() -> DuplicateMessage:
    return DuplicateMessage("This message is already being answered; send it again in a "
                            "few seconds to get the answer.",
                            fields={"client_id": "Already being answered."})


def _replay(session: Session, conversation: Conversation, user_message: Message,
            bot: Message | None) -> Reply:
    """The reply a send of `user_message` got, again (nothing is stored)."""
    ticket_id = bot.ticket_id if bot is not None else None
    ticket_id = ticket_id or user_message.ticket_id
    ticket = session.get(Ticket, ticket_id) if ticket_id else None
    if bot is None:  # written to people: the bot stayed silent
        ticket = ticket or tickets.open_ticket_of(session, conversation)
        return Reply(conversation, user_message, None, reply_language(conversation.locale),
                     ticket=ticket, replayed=True)
    escalation = None
    if bot.meta.get("decision") == "escalate" and bot.meta.get("rule"):
        escalation = Escalation(EscalationReason(bot.meta["rule"]),
                                str(bot.meta.get("priority") or "normal"),
                                tuple(bot.meta.get("keywords") or ()))
    return Reply(conversation, user_message, bot,
                 reply_language(str(bot.meta.get("language") or conversation.locale)),
                 ticket=ticket, escalation=escalation,
                 generated=bool(bot.meta.get("generated")),
                 citations=list(bot.citations) if escalation is None else [],
                 replayed=True)


def _replay_if_done(session: Session, conversation: Conversation,
                    sent: Message) -> Reply | None:
    """The reply of `sent`'s turn when that turn is over: answered, handed over, or
    written to people (the bot silent); None when it has no outcome yet."""
    bot = _turn_of(session, sent)
    if bot is not None or sent.ticket_id is not None or (
            conversation.status == ConversationStatus.human.value):
        return _replay(session, conversation, sent, bot)
    return None


def _sent_again(session: Session, conversation: Conversation, sent: Message, text: str,
                request_human: bool, context: list[Message]) -> Reply | None:
    """A send of a client id this conversation already has: its reply again, or None when
    its turn failed (it is still the conversation's last message, unanswered, the bot's):
    then its turn runs now, this transaction holding the message's row lock."""
    if not _same_message(sent, text, request_human):
        raise _used_for_another()
    if (done := _replay_if_done(session, conversation, sent)) is not None:
        return done
    if not context or context[-1].id != sent.id:
        message = ("This message was not answered and others were sent after it; send it "
                   "as a new message, with a new client message id.")
        raise ClientIdReused(message, fields={"client_id": message})
    if not _hold(session, sent):
        raise _still_running()
    bot = _turn_of(session, sent)  # answered since it was read above
    return _replay(session, conversation, sent, bot) if bot is not None else None


# -- the bot's turn ----------------------------------------------------------------------

def _failed_turn(conversation: Conversation, context: list[Message],
                 text: str) -> Message | None:
    """The user's message of a turn that failed after storing it, when `text` is that
    message sent again: the conversation is the bot's, the message is its last, has no
    reply, was not written to people (no ticket), and is recent. Such a message is
    answered now instead of stored again."""
    last = context[-1] if context else None
    if (not text or last is None or last.sender_type != SenderType.user.value
            or last.text != text or last.ticket_id is not None
            or conversation.status != ConversationStatus.bot.value):
        return None
    age = (utcnow() - as_utc(last.created_at)).total_seconds()
    return last if age <= RETRY_WINDOW_SECONDS else None


def _search(searcher: Searcher, text: str, context: list[Message]) -> tuple[SearchResult | None, str]:
    """The better of the message alone and, for short follow-ups, the message read after
    the previous user message. (None, reason) when no index is available."""
    try:
        result = searcher(text)
    except IndexUnavailable as error:
        return None, str(error)
    previous = [m.text for m in context if m.sender_type == SenderType.user.value]
    if previous and len(text.split()) <= FOLLOW_UP_WORDS:
        combined = searcher(f"{previous[-1]} {text}")
        if combined.confidence > result.confidence:
            return combined, "with context"
    return result, "message"


def _bot_stretch(messages: list[Message], conversation: Conversation) -> list[Message]:
    """Bot answers since people last handed the conversation back (or from the start)."""
    since = conversation.meta.get("resolved_from")
    start = datetime.fromisoformat(since) if since else None
    return [m for m in messages if m.sender_type == SenderType.bot.value
            and m.meta.get("decision") == "answer"
            and (start is None or as_utc(m.created_at) >= start)]


def _unresolved(session: Session, answers: list[Message]) -> int:
    if not answers:
        return 0
    negative = set(session.exec(select(Feedback.message_id).where(
        col(Feedback.message_id).in_([m.id for m in answers]), Feedback.rating == -1)))
    return sum(1 for m in answers if m.meta.get("unresolved") or m.id in negative)


def _citation(session: Session, article_id: str) -> dict[str, object] | None:
    """The cited entry as it is now; None if it was unpublished or deleted meanwhile."""
    try:
        entry = session.get(KnowledgeEntry, uuid.UUID(article_id))
    except ValueError:
        entry = None
    if entry is None or entry.status != EntryStatus.published.value:
        return None
    return {"id": str(entry.id), "title": entry.title, "version": entry.version}


def _hits_meta(result: SearchResult | None) -> list[dict[str, object]]:
    if result is None:
        return []
    return [{"id": h.article.id, "title": h.article.title, "score": round(h.score, 4),
             "dense": round(h.dense, 4), "bm25": round(h.bm25, 4)} for h in result.hits[:5]]


def _handoff(session: Session, conversation: Conversation, escalation: Escalation, *,
             language: str, wants: str, result: SearchResult | None,
             meta: dict[str, object], rules: rules_service.Rules,
             actor: Actor | None = None) -> tuple[Message, Ticket]:
    tried = ([{"title": h.article.title, "confidence": result.confidence}
              for h in result.hits[:1]] if result and result.hits else [])
    tags = list(result.hits[0].article.tags) if result and result.hits else []
    ticket, created = tickets.escalate(session, conversation, escalation, rules=rules,
                                       wants=wants, tried=tried, tags=tags, language=language,
                                       actor=actor)
    text = f"{REASON_TEXT[language][escalation.reason]} " + HANDOFF_TEXT[language].format(
        reference=ticket.reference)
    bot = Message(conversation_id=conversation.id, ticket_id=ticket.id,
                  sender_type=SenderType.bot.value, text=text, is_bot=True,
                  confidence=result.confidence if result else None,
                  meta={**meta, "decision": "escalate", "rule": escalation.reason.value,
                        "priority": escalation.priority, "keywords": list(escalation.keywords),
                        "ticket": ticket.reference, "new_ticket": created})
    session.add(bot)
    timings = meta.get("timings_ms") or {}
    telemetry.bot_turn(session, retrieval_ms=timings.get("retrieval"),
                       generation_ms=timings.get("generation"))
    return bot, ticket


@dataclass
class Generated:
    text: str
    citations: list[dict[str, object]]
    grounded: bool
    meta: dict[str, object]
    first_token_ms: float | None


def _generate(session: Session, generator: Generator, text: str, result: SearchResult,
              language: str, on_token: TokenCallback | None) -> Generated:
    """Phrase an answer from the top articles; the caller shows it only if grounded.
    Tokens go to `on_token` as they come (the chat shows them while they stream)."""
    settings = get_settings()
    sources, citations = [], []
    for hit in result.hits[:GENERATED_SOURCES]:
        citation = _citation(session, hit.article.id)
        if citation is not None:
            citations.append(citation)
            sources.append((hit.article.title, hit.article.solution or hit.article.problem))
    started = time.perf_counter()
    first: float | None = None
    pieces: list[str] = []
    for piece in generator.stream(pii.mask(text, settings.pii_mask), sources, language,
                                  max_new_tokens=settings.generator_max_new_tokens,
                                  max_seconds=settings.generator_timeout_seconds):
        if first is None and piece:
            first = round((time.perf_counter() - started) * 1000, 1)
        pieces.append(piece)
        if on_token is not None and piece:
            on_token(piece)
    answer = "".join(pieces).strip()
    grounding = check_grounding(answer, [f"{title}\n{body}" for title, body in sources])
    elapsed = round((time.perf_counter() - started) * 1000, 1)
    meta = {"generation_ms": elapsed, "first_token_ms": first, "model": generator.name,
            "grounding": {"grounded": grounding.grounded, "support": grounding.support,
                          "unsupported": list(grounding.unsupported)[:20],
                          "missing_numbers": list(grounding.missing_numbers)},
            "draft": answer if not grounding.grounded else None}
    return Generated(answer, citations, grounding.grounded and bool(citations), meta, first)


def configured_generator() -> Generator | None:
    """The process's generator as configured (GENERATOR_MODEL_NAME, _CONCURRENCY,
    _QUEUE_SECONDS); None when turned off. GeneratorUnavailable when it cannot be found."""
    settings = get_settings()
    return get_generator(settings.generator_model_name, settings.generator_concurrency,
                         settings.generator_queue_seconds)


def _configured_generator() -> Generator | None:
    try:
        return configured_generator()
    except GeneratorUnavailable:
        return None


def send_message(session: Session, session_id: str, text: str, *, user: User | None = None,
                 request_human: bool = False, language: str | None = None,
                 searcher: Searcher | None = None, generator: Generator | None | bool = True,
                 on_token: TokenCallback | None = None, client_id: str | None = None) -> Reply:
    """One user turn. `request_human` is the "talk to a person" action; `language`
    forces the reply language (otherwise detected from the message). `generator`: the
    configured one (True), none (None/False), or a given one; `on_token` receives the
    generated answer's pieces as they are produced. `client_id`: the client's id for
    this message; sent again, the message is not stored again (module docstring)."""
    from supportbot.services.retrieval import live_search

    conversation = get_conversation(session, session_id, user=user)
    client_id = clean_client_id(client_id)
    text = clean_message(text, allow_empty=request_human)
    language = reply_language(language or detect_language(text, default=conversation.locale)
                              if text else conversation.locale)
    context = messages_of(session, conversation, limit=get_settings().chat_context_messages)
    user_message = None
    if client_id is not None:
        sent = _by_client_id(session, conversation, client_id)
        if sent is not None:
            replayed = _sent_again(session, conversation, sent, text, request_human, context)
            if replayed is not None:
                return replayed
            user_message = sent  # its turn failed: answered now, stored once
    else:
        user_message = _failed_turn(conversation, context, text)
    if user_message is not None:  # sent again after its turn failed: stored once
        context = context[:-1]
        user_message.meta = {**user_message.meta,
                             "retries": int(user_message.meta.get("retries", 0)) + 1}
    else:
        user_message = Message(
            conversation_id=conversation.id, sender_type=SenderType.user.value,
            sender_id=user.id if user else None,
            text=text or ("(asked for a person)" if language == "en"
                          else "(pidió hablar con una persona)"),
            client_id=client_id,
            meta={"request_human": request_human} if request_human else {})
        telemetry.message_stored(session, SenderType.user.value)
    conversation.locale = language
    conversation.updated_at = utcnow()
    if conversation.status == ConversationStatus.closed.value:
        conversation.status = ConversationStatus.bot.value
    session.add(user_message)
    session.add(conversation)
    try:
        session.commit()  # the user's words are safe before anything else can fail
    except sqlalchemy.exc.IntegrityError as error:
        if client_id is None:
            raise
        return _stored_meanwhile(session, conversation, client_id, text, request_human, error)

    if conversation.status == ConversationStatus.human.value:
        ticket = tickets.open_ticket_of(session, conversation)
        if ticket is not None:
            user_message.ticket_id = ticket.id
            session.add(user_message)
            session.commit()
            return Reply(conversation, user_message, None, language, ticket=ticket)
        conversation.status = ConversationStatus.bot.value  # no open ticket: bot again

    if client_id is not None:  # this turn holds the message until it commits
        if not _hold(session, user_message):
            raise _still_running()
        if (answered := _turn_of(session, user_message)) is not None:
            return _replay(session, conversation, user_message, answered)
    rules = rules_service.load_rules(session)
    started = time.perf_counter()
    result, query_used = (None, "action") if (request_human and not text) else _search(
        searcher or live_search, text, context)
    retrieval_ms = round((time.perf_counter() - started) * 1000, 2)
    top = result.top if result else None
    citation = _citation(session, top.article.id) if top else None

    answers = _bot_stretch(context, conversation)
    if answers and top and answers[-1].meta.get("article_id") == top.article.id:
        answers[-1].meta = {**answers[-1].meta, "unresolved": True}  # asked again
        session.add(answers[-1])
    unresolved = _unresolved(session, answers)
    confident = (result is not None and citation is not None
                 and confident_enough(result, rules.threshold))
    decision = rules_service.evaluate(
        text, rules=rules, confident=confident, confidence=result.confidence if result else 0.0,
        unresolved_turns=unresolved, request_human=request_human)
    meta: dict[str, object] = {
        "query": query_used, "hits": _hits_meta(result),
        "confidence": round(result.confidence, 4) if result else None,
        "features": [round(f, 4) for f in result.features] if result else [],
        "threshold": rules.threshold, "unresolved_turns": unresolved,
        "timings_ms": {"retrieval": retrieval_ms, "generation": None},
        "article_id": top.article.id if top else None,
        "reply_to": str(user_message.id), "language": language,
    }
    if result is None and query_used not in ("action",):
        meta["index"] = query_used  # why there was no search
    generated: Generated | None = None
    if (decision is not None and decision.reason == EscalationReason.low_confidence
            and result is not None and result.hits
            and result.confidence >= get_settings().generator_min_confidence):
        model = _configured_generator() if generator is True else (generator or None)
        if model is not None:
            try:
                generated = _generate(session, model, text, result, language, on_token)
            except Exception as error:  # noqa: BLE001 - a failing generator means "escalate"
                meta["generator_error"] = f"{type(error).__name__}: {error}"[:500]
            else:
                meta["timings_ms"] = {"retrieval": retrieval_ms,
                                      "generation": generated.meta["generation_ms"]}
                meta["generation"] = generated.meta
                if generated.grounded:
                    decision = None
    if decision is None and generated is not None:
        outro = compose_outro(language)
        bot = Message(conversation_id=conversation.id, sender_type=SenderType.bot.value,
                      text=f"{generated.text}\n\n{outro}", is_bot=True,
                      citations=generated.citations, confidence=result.confidence,
                      meta={**meta, "decision": "answer", "rule": None, "generated": True,
                            "language": language})
        session.add(bot)
        telemetry.bot_turn(session, retrieval_ms=retrieval_ms,
                           generation_ms=generated.meta["generation_ms"], answered=True,
                           confidence=result.confidence, threshold=rules.threshold,
                           generated=True)
        session.commit()
        return Reply(conversation, user_message, bot, language, result=result, generated=True,
                     citations=generated.citations, first_token_ms=generated.first_token_ms)
    if decision is None and citation is not None and top is not None:
        bot = Message(conversation_id=conversation.id, sender_type=SenderType.bot.value,
                      text=compose(top.article, language), is_bot=True,
                      citations=[citation], confidence=result.confidence if result else None,
                      meta={**meta, "decision": "answer", "rule": None, "language": language})
        session.add(bot)
        telemetry.bot_turn(session, retrieval_ms=retrieval_ms, generation_ms=None,
                           answered=True, confidence=result.confidence if result else None,
                           threshold=rules.threshold)
        session.commit()
        return Reply(conversation, user_message, bot, language, result=result,
                     citations=[citation])
    assert decision is not None
    bot, ticket = _handoff(session, conversation, decision, language=language, wants=text,
                           result=result, meta=meta, rules=rules)
    user_message.ticket_id = ticket.id
    session.add(user_message)
    session.commit()
    return Reply(conversation, user_message, bot, language, ticket=ticket, escalation=decision,
                 result=result)


def _stored_meanwhile(session: Session, conversation: Conversation, client_id: str,
                      text: str, request_human: bool,
                      error: sqlalchemy.exc.IntegrityError) -> Reply:
    """The unique index refused this send's message: another send of the same client id
    stored it since this one looked. Its reply if it has one; DuplicateMessage while it
    is being answered (never a second message, nor a second turn)."""
    session.rollback()
    sent = _by_client_id(session, conversation, client_id)
    if sent is None:  # another integrity error
        raise error
    if not _same_message(sent, text, request_human):
        raise _used_for_another()
    if (done := _replay_if_done(session, conversation, sent)) is not None:
        return done
    raise _still_running()


def give_feedback(session: Session, session_id: str, message_id: object, rating: int, *,
                  comment: str = "", user: User | None = None) -> Reply | None:
    """Helpful (+1) or not (-1) on a bot answer. Unhelpful answers count toward the
    unresolved-turns limit; reaching it hands the conversation to people (returned)."""
    conversation = get_conversation(session, session_id, user=user)
    if rating not in (1, -1):
        raise InvalidInput("Rating is 1 (helpful) or -1 (not helpful).",
                           fields={"rating": "Use 1 or -1."})
    message = get_or_404(session, Message, message_id, "No such message.")
    if message.conversation_id != conversation.id or not message.is_bot:
        raise NotFound("No such message.")
    comment = require_storable((comment or "").strip()[:2000], "comment")
    existing = session.exec(select(Feedback).where(Feedback.message_id == message.id)).first()
    if existing is None:
        existing = Feedback(conversation_id=conversation.id, message_id=message.id,
                            user_id=user.id if user else None, rating=rating, comment=comment)
    else:  # changing one's mind replaces the earlier rating
        existing.rating, existing.comment, existing.created_at = rating, comment, utcnow()
    session.add(existing)
    telemetry.feedback_given(session, rating)
    session.commit()
    if rating > 0 or conversation.status != ConversationStatus.bot.value:
        return None
    rules = rules_service.load_rules(session)
    unresolved = _unresolved(session, _bot_stretch(messages_of(session, conversation),
                                                   conversation))
    decision = rules_service.after_negative_feedback(unresolved, rules)
    if decision is None:
        return None
    language = reply_language(conversation.locale)
    wants = next((m.text for m in reversed(messages_of(session, conversation))
                  if m.sender_type == SenderType.user.value), "")
    bot, ticket = _handoff(session, conversation, decision, language=language, wants=wants,
                           result=None, meta={"unresolved_turns": unresolved,
                                              "feedback_on": str(message.id)}, rules=rules)
    session.commit()
    return Reply(conversation, None, bot, language, ticket=ticket, escalation=decision)


def comment_feedback(session: Session, session_id: str, message_id: object, comment: str, *,
                     user: User | None = None) -> Feedback:
    """Add or replace the comment of a rating already given on a bot answer (what was
    missing); the rating itself and its counts stay as they are."""
    conversation = get_conversation(session, session_id, user=user)
    message = get_or_404(session, Message, message_id, "No such message.")
    feedback = session.exec(select(Feedback).where(Feedback.message_id == message.id)).first()
    if message.conversation_id != conversation.id or feedback is None:
        raise NotFound("Rate the answer first.")
    comment = (comment or "").strip()
    if not comment:
        raise InvalidInput("Write a comment first.", fields={"comment": "Write a comment first."})
    if len(comment) > 2000:
        raise InvalidInput("Comments are at most 2,000 characters.",
                           fields={"comment": "At most 2,000 characters."})
    feedback.comment = comment
    session.add(feedback)
    session.commit()
    return feedback


def escalate_manually(session: Session, actor: Actor, conversation_id: object, *,
                      note: str = "") -> Reply:
    """An agent or admin takes a conversation over (reason `manual`)."""
    require_role(actor, Role.agent)
    conversation = get_or_404(session, Conversation, conversation_id, "No such conversation.")
    language = reply_language(conversation.locale)
    note = require_storable((note or "").strip()[:200], "note")
    decision = Escalation(EscalationReason.manual, "normal", detail=note)
    wants = next((m.text for m in reversed(messages_of(session, conversation))
                  if m.sender_type == SenderType.user.value), "")
    bot, ticket = _handoff(session, conversation, decision, language=language, wants=wants,
                           result=None, meta={"by": str(getattr(actor, "id", "system"))},
                           rules=rules_service.load_rules(session), actor=actor)
    session.commit()
    return Reply(conversation, None, bot, language, ticket=ticket, escalation=decision)


def escalate_session(session: Session, actor: Actor, session_id: str, *,
                     note: str = "") -> Reply:
    """`escalate_manually` for the conversation of a chat session id (agents, admins)."""
    require_role(actor, Role.agent)
    conversation = None
    if storable(session_id):
        conversation = session.exec(select(Conversation).where(
            Conversation.session_id == (session_id or "")[:64])).first()
    if conversation is None:
        raise NotFound("No such conversation.")
    return escalate_manually(session, actor, conversation.id, note=note)
