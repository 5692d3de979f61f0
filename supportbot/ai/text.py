"""Text normalisation for lexical search: accent folding, tokens, Snowball stems (es/en),
and a light language guess for queries."""

from __future__ import annotations

import functools
import re
import unicodedata

import Stemmer

_TOKEN = re.compile(r"[0-9a-zñ]+")

# Short, frequent words: they carry no topic. Accent-folded.
STOPWORDS = {
    "en": set(
        "a an and are as at be but by can could did do does for from had has have how i if in "
        "into is it its me my no not of on or our so that the their them then there these they "
        "this to was we were what when where which who why will with would you your".split()
    ),
    "es": set(
        "a al algo como con cual cuando de del donde el ella en es esta este esto ha hay la las "
        "le les lo los me mi mis muy no nos o para pero por que se si sin sobre su sus te tu un "
        "una uno unos y ya yo".split()
    ),
}

_SPANISH_HINTS = set(
    "el la los las del que por para como cuando donde esta estoy tengo puedo quiero necesito "
    "no funciona mi mis con sin una uno hola gracias correo contrasena impresora cual cuantos "
    "cuantas quien es son fue hay pero tambien".split()
)
_ENGLISH_HINTS = set(
    "the is are was my i you how what when where why which who can cannot can't doesn't don't "
    "won't not with without from have has need want please thanks email password printer "
    "does did to of and".split()
)


class _CombiningMarks(dict):
    """str.translate table that deletes combining marks, filled as characters are met
    (one C-level look-up per character instead of a Python call)."""

    def __missing__(self, code: int) -> int | None:
        kept = None if unicodedata.combining(chr(code)) else code
        self[code] = kept
        return kept


_STRIP_MARKS = _CombiningMarks()


def fold(text: str) -> str:
    """Lower case, accents removed (ñ kept: 'año' is not 'ano')."""
    if text.isascii():  # most text, and nothing to decompose: indexing folds every article
        return text.lower()
    text = text.lower().replace("ñ", "\0")
    decomposed = unicodedata.normalize("NFKD", text)
    return decomposed.translate(_STRIP_MARKS).replace("\0", "ñ")


def words(text: str) -> list[str]:
    return _TOKEN.findall(fold(text))


@functools.lru_cache(maxsize=4)
def _stemmer(lang: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer("spanish" if lang == "es" else "english")


def stems(text: str, lang: str) -> list[str]:
    """Content-word stems of `text` in `lang` (stopwords dropped)."""
    stop = STOPWORDS.get(lang, STOPWORDS["en"])
    kept = [word for word in words(text) if word not in stop]
    return _stemmer(lang).stemWords(kept)


def query_stems(text: str) -> list[str]:
    """Stems for a query whose language may differ from the articles': both stemmers."""
    english, spanish = stems(text, "en"), stems(text, "es")
    seen: dict[str, None] = {}
    for token in english + spanish:
        seen.setdefault(token, None)
    return list(seen)


def detect_language(text: str, default: str = "en") -> str:
    """'es' or 'en' from characters and frequent words; `default` when unsure."""
    lowered = text.lower()
    score = 0.0
    if any(char in lowered for char in "ñ¿¡"):
        score += 2
    if any(char in lowered for char in "áéíóú"):
        score += 1
    tokens = words(text)
    score += sum(1 for token in tokens if token in _SPANISH_HINTS)
    score -= sum(1 for token in tokens if token in _ENGLISH_HINTS)
    if score > 0:
        return "es"
    if score < 0:
        return "en"
    return default
