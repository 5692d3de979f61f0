"""Is a generated answer supported by the articles it was generated from?

A small model can invent steps, names and numbers. Before a generated answer is shown,
`check()` requires:
- most of its content words (Snowball stems, stop words left out, accents folded) to
  occur in the retrieved text: `support >= MIN_SUPPORT`;
- every number in it (versions, ports, phone extensions, counts) to occur there;
- some substance: at least MIN_CONTENT_WORDS content words;
- no loops: at least MIN_DISTINCT_TRIGRAMS of its word trigrams distinct (small models
  repeat themselves);
- no letters outside the Latin script (English and Spanish answers; a small model's
  Spanish sometimes drifts into look-alike Cyrillic letters).
How well this separates faithful from invented answers is measured by
`supportbot generator-bench` (docs/generator.md).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from supportbot.ai.text import STOPWORDS, query_stems, stems, words

MIN_SUPPORT = 0.8
MIN_CONTENT_WORDS = 3
MIN_DISTINCT_TRIGRAMS = 0.6
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_LIST_MARKER = re.compile(r"^\s*\d{1,2}[.)](?=\s)", re.MULTILINE)  # "1. ", "2) "


@dataclass(frozen=True)
class Grounding:
    grounded: bool
    support: float  # share of the answer's content words found in the sources
    unsupported: tuple[str, ...]  # content words not in the sources
    missing_numbers: tuple[str, ...]
    repetitive: bool = False
    foreign_script: bool = False


def _repetitive(text: str) -> bool:
    tokens = text.lower().split()
    trigrams = [tuple(tokens[i:i + 3]) for i in range(len(tokens) - 2)]
    return bool(trigrams) and len(set(trigrams)) / len(trigrams) < MIN_DISTINCT_TRIGRAMS


def _foreign_script(text: str) -> bool:
    return any(char.isalpha() and not unicodedata.name(char, "").startswith("LATIN")
               for char in text)


def check(answer: str, sources: list[str]) -> Grounding:
    source_text = "\n".join(sources)
    known = set(query_stems(source_text))  # English and Spanish stems of every word
    content = [w for w in dict.fromkeys(words(answer))
               if w not in STOPWORDS["en"] and w not in STOPWORDS["es"] and not w.isdigit()]
    # A word is supported when its English or its Spanish stem occurs in the sources.
    unsupported = tuple(w for w in content
                        if not ({*stems(w, "en"), *stems(w, "es")} & known))
    support = 1.0 - len(unsupported) / len(content) if content else 0.0
    source_numbers = set(_NUMBER.findall(source_text))
    numbers = _NUMBER.findall(_LIST_MARKER.sub("", answer))
    missing = tuple(n for n in dict.fromkeys(numbers) if n not in source_numbers)
    repetitive, foreign = _repetitive(answer), _foreign_script(answer)
    grounded = (len(content) >= MIN_CONTENT_WORDS and support >= MIN_SUPPORT and not missing
                and not repetitive and not foreign)
    return Grounding(grounded, round(support, 4), unsupported, missing, repetitive, foreign)
