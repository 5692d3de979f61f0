"""When the bot hands a conversation to people, and why.

The rules live in the database (key `escalation_rules` of `app_settings`), so admins tune
them in the app; whatever they have not set comes from the environment
(`ESCALATION_*`, `CONFIDENCE_THRESHOLD`, see `.env.example`). `evaluate()` is pure: the
chat engine gives it the message and the bot's situation and gets back at most one
escalation, with its reason code, priority and the keywords that matched.

Precedence, first match wins: the user asks for a person (button or phrase) > a keyword >
low confidence > too many unresolved turns. Negative feedback counts as an unresolved
turn and, when it reaches the limit, escalates with its own reason code. A keyword escalates even
when the bot is sure of its answer: "URGENTE: el servidor no funciona" needs a person.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from sqlmodel import Session

from supportbot.ai.text import fold
from supportbot.config import get_settings
from supportbot.errors import InvalidInput
from supportbot.models import AppSetting, EscalationReason, Role, TicketPriority, utcnow
from supportbot.services import audit
from supportbot.services.input_guard import unstorable_message
from supportbot.services.permissions import Actor, require_role

SETTING_KEY = "escalation_rules"
PRIORITY_RANK = {p.value: rank for rank, p in enumerate(TicketPriority)}


@dataclass(frozen=True)
class Keyword:
    phrase: str
    priority: str = TicketPriority.high.value


@dataclass(frozen=True)
class Rules:
    threshold: float
    keywords: tuple[Keyword, ...]
    person_phrases: tuple[str, ...]
    unresolved_turns: int
    # tag or keyword -> queue; tickets go to "general" when nothing matches.
    routing: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["keywords"] = [asdict(k) for k in self.keywords]
        data["person_phrases"] = list(self.person_phrases)
        return data


@dataclass(frozen=True)
class Escalation:
    reason: EscalationReason
    priority: str
    keywords: tuple[str, ...] = ()
    detail: str = ""


DEFAULT_ROUTING = {"network": "network", "vpn": "network", "wifi": "network",
                   "printer": "hardware", "laptop": "hardware", "hardware": "hardware",
                   "account": "accounts", "password": "accounts", "email": "accounts",
                   "security": "security", "hacked": "security", "phishing": "security"}


def _parse_keyword(item: str) -> Keyword:
    phrase, _, priority = item.rpartition(":")
    if not phrase:  # no priority given
        return Keyword(item.strip())
    return Keyword(phrase.strip(), priority.strip() or TicketPriority.high.value)


def default_rules() -> Rules:
    settings = get_settings()
    return Rules(
        threshold=settings.confidence_threshold,
        keywords=tuple(_parse_keyword(item) for item in settings.escalation_keywords),
        person_phrases=tuple(settings.escalation_person_phrases),
        unresolved_turns=settings.escalation_unresolved_turns,
        routing=dict(DEFAULT_ROUTING),
    )


def validate(data: dict[str, object]) -> Rules:
    """Rules from an admin's form or the database; InvalidInput naming bad fields."""
    base = default_rules()
    errors: dict[str, str] = {}
    threshold = data.get("threshold", base.threshold)
    if not isinstance(threshold, int | float) or not 0 <= float(threshold) <= 1:
        errors["threshold"] = "The threshold is a number from 0 to 1."
        threshold = base.threshold
    keywords = []
    for item in data.get("keywords", [asdict(k) for k in base.keywords]) or []:
        keyword = _parse_keyword(item) if isinstance(item, str) else Keyword(
            str(item.get("phrase", "")).strip(),
            str(item.get("priority", TicketPriority.high.value)))
        if not fold(keyword.phrase).strip() or keyword.priority not in PRIORITY_RANK:
            errors["keywords"] = ("Each keyword needs a phrase and a priority "
                                  "(low, normal, high, urgent).")
            continue
        keywords.append(keyword)
    phrases = [str(p).strip() for p in data.get("person_phrases", base.person_phrases) or []]
    phrases = [p for p in phrases if p]
    turns = data.get("unresolved_turns", base.unresolved_turns)
    if not isinstance(turns, int) or not 1 <= turns <= 20:
        errors["unresolved_turns"] = "Unresolved turns is a whole number from 1 to 20."
        turns = base.unresolved_turns
    routing = data.get("routing", base.routing) or {}
    if not isinstance(routing, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and k.strip() and v.strip()
            for k, v in routing.items()):
        errors["routing"] = "Routing maps a tag or keyword to a queue name."
        routing = base.routing
    for name, value in (("keywords", [asdict(k) for k in keywords]),
                        ("person_phrases", phrases), ("routing", routing)):
        message = unstorable_message(value, name.replace("_", " "))
        if message and name not in errors:
            errors[name] = message
    if errors:
        raise InvalidInput("The escalation rules have errors.", fields=errors)
    return Rules(float(threshold), tuple(keywords), tuple(phrases), turns,
                 {fold(k).strip(): v.strip() for k, v in routing.items()})


def load_rules(session: Session) -> Rules:
    row = session.get(AppSetting, SETTING_KEY)
    if row is None or not row.value:
        return default_rules()
    try:
        return validate(dict(row.value))
    except InvalidInput:  # stored before a rule changed meaning: fall back, never break chat
        return default_rules()


def save_rules(session: Session, actor: Actor | None, data: dict[str, object]) -> Rules:
    """Validate and store the rules (admins only); audited with before and after."""
    require_role(actor, Role.admin)
    rules = validate(data)
    row = session.get(AppSetting, SETTING_KEY)
    before = dict(row.value) if row else {}
    if row is None:
        row = AppSetting(key=SETTING_KEY)
    row.value = rules.as_dict()
    row.updated_by_id = getattr(actor, "id", None)
    row.updated_at = utcnow()
    session.add(row)
    audit.record(session, actor, "escalation.rules", "app_setting", SETTING_KEY,
                 before=before, after=row.value)
    return rules


def _contains(folded_text: str, phrase: str) -> bool:
    folded = fold(phrase).strip()
    return bool(folded) and re.search(rf"(?<!\w){re.escape(folded)}(?!\w)", folded_text) is not None


def matched_keywords(text: str, rules: Rules) -> list[Keyword]:
    folded = fold(text)
    return [keyword for keyword in rules.keywords if _contains(folded, keyword.phrase)]


def asks_for_person(text: str, rules: Rules) -> bool:
    folded = fold(text)
    return any(_contains(folded, phrase) for phrase in rules.person_phrases)


def evaluate(text: str, *, rules: Rules, confident: bool, confidence: float,
             unresolved_turns: int = 0, request_human: bool = False) -> Escalation | None:
    """The escalation a new user message calls for, or None when the bot should answer.

    `confident` is `ai.decision.confident_enough` at the rules' threshold (and an article
    still there to cite): the same decision `supportbot eval` measures.

    `unresolved_turns` counts the bot's answers since the last hand-over that did not
    resolve anything: marked unhelpful, or followed by the user asking about the same
    article again (going round in circles), this message included.
    """
    if request_human or asks_for_person(text, rules):
        return Escalation(EscalationReason.user_request, TicketPriority.normal.value)
    keywords = matched_keywords(text, rules)
    if keywords:
        top = max(keywords, key=lambda k: PRIORITY_RANK[k.priority])
        return Escalation(EscalationReason.keyword, top.priority,
                          tuple(k.phrase for k in keywords))
    if not confident:
        return Escalation(EscalationReason.low_confidence, TicketPriority.normal.value,
                          detail=f"confidence {confidence:.2f} < {rules.threshold:.2f}")
    if unresolved_turns >= rules.unresolved_turns:
        return Escalation(EscalationReason.unresolved_turns, TicketPriority.normal.value,
                          detail=f"{unresolved_turns} answers did not resolve it")
    return None


def after_negative_feedback(unresolved_turns: int, rules: Rules) -> Escalation | None:
    """An answer was marked unhelpful; `unresolved_turns` includes it."""
    if unresolved_turns >= rules.unresolved_turns:
        return Escalation(EscalationReason.negative_feedback, TicketPriority.normal.value,
                          detail=f"{unresolved_turns} answers marked or left unhelpful")
    return None


def route(tags: list[str], keywords: tuple[str, ...], rules: Rules) -> str:
    """The queue for a ticket: the first tag or keyword with a routing entry."""
    for label in (*tags, *keywords):
        queue = rules.routing.get(fold(label).strip())
        if queue:
            return queue
    return "general"
