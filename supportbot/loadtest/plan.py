"""What the simulated visitors of `supportbot loadtest` say, and the marker on each text.

A visitor keeps to one language (half Spanish, half English) and mostly asks demo-KB
questions (the articles' own phrasings, never the same article twice in a row, which the
escalation rules would count as unresolved), now and then something the KB does not
cover, or asks for a person (a phrase or the "talk to a person" action). Every text ends
with a marker, `(#N)`, unique in the run, so the database check can find each message.
"""

from __future__ import annotations

import itertools
import random
import re
from dataclasses import dataclass
from pathlib import Path

from supportbot.ai.records import read_articles
from supportbot.services.demo import DEMO_KB

LANGUAGES = ("en", "es")
OUT_OF_SCOPE = {
    "en": ["what will the weather be like in Madrid tomorrow?",
           "can you recommend a good pizza place near the office?",
           "who won the football match last night?",
           "how many vacation days do I have left this year?",
           "write me a poem about the sea"],
    "es": ["¿qué tiempo hará mañana en Sevilla?",
           "¿me recomiendas una receta de paella?",
           "¿quién ganó el partido de ayer?",
           "¿cuántos días de vacaciones me quedan este año?",
           "escríbeme un poema sobre el mar"],
}
ASK_PERSON = {
    "en": ["I want to talk to a person", "can I speak to someone please?",
           "please let me talk to a human"],
    "es": ["quiero hablar con una persona", "¿puedo hablar con un agente?",
           "prefiero hablar con alguien del equipo"],
}
# Sent while people own the conversation: stored, and the bot stays silent.
WAITING = {"en": "ok, I'll wait for them here", "es": "vale, espero aquí"}
AGENT_REPLY = {"en": "Hi, this is the support team: we are looking into it now.",
               "es": "Hola, soy del equipo de soporte: ya lo estamos mirando."}
MARKER = re.compile(r"\(#(\d+)\)\s*$")


@dataclass(frozen=True)
class Mix:
    """Share of each kind of turn; the rest are demo-KB questions."""

    out_of_scope: float = 0.12
    person: float = 0.10


@dataclass(frozen=True)
class Turn:
    intent: str  # "kb", "out_of_scope" or "person"
    text: str  # without its marker
    language: str
    request_human: bool = False
    article: str | None = None  # the demo article a "kb" question comes from


class Markers:
    """Unique markers of one run: `(#1)`, `(#2)`, ..."""

    def __init__(self) -> None:
        self._numbers = itertools.count(1)

    def stamp(self, text: str) -> tuple[str, str]:
        """The text as sent, and its marker."""
        marker = str(next(self._numbers))
        return f"{text} (#{marker})", marker


def marker_of(text: str) -> str | None:
    found = MARKER.search(text or "")
    return found.group(1) if found else None


def demo_questions(path: Path = DEMO_KB) -> dict[str, list[tuple[str, str]]]:
    """(article id, phrasing) pairs of the demo KB, by language."""
    questions: dict[str, list[tuple[str, str]]] = {lang: [] for lang in LANGUAGES}
    for article in read_articles(path):
        if article.lang in questions:
            questions[article.lang].extend((article.id, q) for q in article.examples)
    return questions


class Visitor:
    """The turns of one simulated visitor, reproducible from its random generator."""

    def __init__(self, rng: random.Random, language: str,
                 questions: dict[str, list[tuple[str, str]]], mix: Mix = Mix()) -> None:
        self.rng = rng
        self.language = language
        self.questions = questions[language]
        self.mix = mix
        self._last_article: str | None = None

    def next_turn(self) -> Turn:
        roll = self.rng.random()
        lang = self.language
        if roll < self.mix.person:
            self._last_article = None
            return Turn("person", self.rng.choice(ASK_PERSON[lang]), lang,
                        request_human=self.rng.random() < 0.5)
        if roll < self.mix.person + self.mix.out_of_scope:
            return Turn("out_of_scope", self.rng.choice(OUT_OF_SCOPE[lang]), lang)
        choices = [q for q in self.questions if q[0] != self._last_article]
        article, text = self.rng.choice(choices)
        self._last_article = article
        return Turn("kb", text, lang, article=article)
