"""What the simulated visitors say: demo-KB phrasings in their language, the other kinds
of turn in about their share, unique markers."""

import random
from collections import Counter

from supportbot.loadtest.plan import (
    ASK_PERSON,
    OUT_OF_SCOPE,
    Markers,
    Mix,
    Visitor,
    demo_questions,
    marker_of,
)


def test_markers_are_unique_and_read_back():
    markers = Markers()
    stamped = [markers.stamp("I forgot my password") for _ in range(3)]
    assert [m for _, m in stamped] == ["1", "2", "3"]
    assert [marker_of(text) for text, _ in stamped] == ["1", "2", "3"]
    assert marker_of("I forgot my password") is None
    assert marker_of("(#4) at the start does not count") is None


def test_demo_questions_are_in_both_languages():
    questions = demo_questions()
    assert len(questions["en"]) > 50 and len(questions["es"]) > 50
    assert ("demo-en-password-reset", "I forgot my password") in questions["en"]


def test_a_visitor_mixes_turns_and_never_repeats_an_article_in_a_row():
    questions = demo_questions()
    visitor = Visitor(random.Random(7), "es", questions, Mix(out_of_scope=0.2, person=0.1))
    turns = [visitor.next_turn() for _ in range(2000)]
    share = Counter(t.intent for t in turns)
    assert 300 < share["out_of_scope"] < 500 and 130 < share["person"] < 270
    assert all(t.language == "es" for t in turns)
    spanish = {text for _, text in questions["es"]}
    assert all(t.text in spanish for t in turns if t.intent == "kb")
    assert all(t.text in OUT_OF_SCOPE["es"] for t in turns if t.intent == "out_of_scope")
    assert all(t.text in ASK_PERSON["es"] for t in turns if t.intent == "person")
    assert {t.request_human for t in turns if t.intent == "person"} == {True, False}
    kb = [t.article for t in turns if t.intent == "kb"]
    asked = [t.article for t in turns]
    assert all(a != b for a, b in zip(asked, asked[1:]) if a is not None) and len(kb) > 1000


def test_the_same_seed_says_the_same_things():
    questions = demo_questions()
    first, second = (Visitor(random.Random(3), "en", questions) for _ in range(2))
    assert [first.next_turn() for _ in range(50)] == [second.next_turn() for _ in range(50)]
