import pytest

from supportbot.errors import InvalidInput, PermissionDenied
from supportbot.models import EscalationReason, Role
from supportbot.services import escalation
from supportbot.services.permissions import SYSTEM


@pytest.fixture
def rules():
    return escalation.default_rules()


def decide(text, rules, confidence=0.9, has_answer=True, **kwargs):
    return escalation.evaluate(text, rules=rules, confidence=confidence,
                               confident=has_answer and confidence >= rules.threshold, **kwargs)


def test_a_confident_answer_is_not_escalated(rules):
    assert decide("how do I reset my password", rules) is None


def test_low_confidence_escalates(rules):
    outcome = decide("what is the meaning of life", rules, confidence=0.2)
    assert outcome.reason == EscalationReason.low_confidence and outcome.priority == "normal"
    assert decide("anything", rules, has_answer=False).reason == EscalationReason.low_confidence


@pytest.mark.parametrize(("text", "priority"), [
    ("URGENTE: el servidor no funciona", "urgent"),
    ("La impresora no funciona desde ayer", "high"),
    ("My laptop is NOT WORKING", "high"),
    ("Error crítico en la base de datos", "urgent"),
    ("error critico en la base de datos", "urgent"),  # without the accent
])
def test_keywords_escalate_even_when_the_bot_is_sure(rules, text, priority):
    outcome = decide(text, rules, confidence=0.99)
    assert outcome.reason == EscalationReason.keyword and outcome.priority == priority
    assert outcome.keywords


def test_keywords_match_whole_words_only(rules):
    assert decide("the urgently needed report is ready", rules) is None


@pytest.mark.parametrize("text", ["Quiero hablar con una persona", "can I talk to a human?",
                                  "Necesito un AGENTE HUMANO"])
def test_asking_for_a_person_escalates_first(rules, text):
    assert decide(text, rules).reason == EscalationReason.user_request


def test_the_explicit_action_escalates_whatever_the_text(rules):
    assert decide("", rules, request_human=True).reason == EscalationReason.user_request


def test_going_round_in_circles_escalates(rules):
    assert decide("still the same", rules, unresolved_turns=1) is None
    outcome = decide("still the same", rules, unresolved_turns=rules.unresolved_turns)
    assert outcome.reason == EscalationReason.unresolved_turns


def test_negative_feedback_counts_toward_the_limit(rules):
    assert escalation.after_negative_feedback(1, rules) is None
    outcome = escalation.after_negative_feedback(rules.unresolved_turns, rules)
    assert outcome.reason == EscalationReason.negative_feedback


def test_routing_by_tag_then_keyword(rules):
    assert escalation.route(["VPN", "x"], (), rules) == "network"
    assert escalation.route(["misc"], ("hacked",), rules) == "security"
    assert escalation.route([], (), rules) == "general"


def test_environment_sets_the_defaults(settings_env):
    settings_env(ESCALATION_KEYWORDS="caída total:urgent,lento", ESCALATION_UNRESOLVED_TURNS="4",
                 CONFIDENCE_THRESHOLD="0.7")
    rules = escalation.default_rules()
    assert [(k.phrase, k.priority) for k in rules.keywords] == [("caída total", "urgent"),
                                                               ("lento", "high")]
    assert rules.unresolved_turns == 4 and rules.threshold == 0.7


def test_admins_store_rules_in_the_database(session, make_user):
    admin = make_user("admin1", role=Role.admin)
    saved = escalation.save_rules(session, admin, {
        "threshold": 0.8, "keywords": [{"phrase": "servidor caído", "priority": "urgent"}],
        "person_phrases": ["un humano por favor"], "unresolved_turns": 3,
        "routing": {"Servidor": "infra"}})
    session.commit()
    loaded = escalation.load_rules(session)
    assert loaded == saved and loaded.threshold == 0.8
    assert decide("EL SERVIDOR CAÍDO otra vez", loaded).priority == "urgent"
    assert decide("un humano por favor", loaded).reason == EscalationReason.user_request
    assert escalation.route(["servidor"], (), loaded) == "infra"


def test_bad_rules_name_their_fields_and_change_nothing(session, make_user):
    admin = make_user("admin1", role=Role.admin)
    with pytest.raises(InvalidInput) as caught:
        escalation.save_rules(session, admin, {
            "threshold": 2, "keywords": [{"phrase": " ", "priority": "high"}],
            "unresolved_turns": 0, "routing": {"x": ""}})
    assert set(caught.value.fields) == {"threshold", "keywords", "unresolved_turns", "routing"}
    assert escalation.load_rules(session) == escalation.default_rules()


def test_only_admins_change_rules(session, make_user):
    agent = make_user("agent1", role=Role.agent)
    with pytest.raises(PermissionDenied):
        escalation.save_rules(session, agent, {"threshold": 0.5})
    escalation.save_rules(session, SYSTEM, {"threshold": 0.5})
