"""Templated answers: an article's own words, framed in the user's language.

No source, no answer: every answer is built from one article and cites it. The framing
follows the user's language; the article text stays as written (and the answer says so
when the article is in the other language).
"""

from __future__ import annotations

from supportbot.ai.records import ArticleRecord

LANGUAGE_NAMES = {"en": {"en": "English", "es": "Spanish"}, "es": {"en": "inglés", "es": "español"}}

TEMPLATES = {
    "en": {
        "intro": "This should help: **{title}**",
        "other_language": "(The article is written in {language}.)",
        "outro": "Did this solve it? If not, tell me more or ask to talk to a person.",
    },
    "es": {
        "intro": "Esto debería ayudarte: **{title}**",
        "other_language": "(El artículo está escrito en {language}.)",
        "outro": "¿Se ha resuelto? Si no, cuéntame más o pide hablar con una persona.",
    },
}


def reply_language(language: str) -> str:
    return language if language in TEMPLATES else "en"


def compose(article: ArticleRecord, language: str) -> str:
    """The answer text for `article`, framed in `language` ('en' or 'es')."""
    language = reply_language(language)
    template = TEMPLATES[language]
    parts = [template["intro"].format(title=article.title or article.id)]
    if article.lang != language:
        parts.append(template["other_language"].format(
            language=LANGUAGE_NAMES[language].get(article.lang, article.lang)))
    body = article.solution or article.problem
    if body:
        parts.append(body)
    parts.append(template["outro"])
    return "\n\n".join(parts)


def compose_outro(language: str) -> str:
    return TEMPLATES[reply_language(language)]["outro"]
