"""Plain article records and the JSONL format they are read from.

The format is the one of `../shared/eval/*/kb.jsonl` and `supportbot/demo/kb_demo.jsonl`:
one JSON object a line with `id, title, problem, solution, tags, lang, examples`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

SUPPORTED_LANGUAGES = ("en", "es")
MAX_ARTICLE_CHARS = 100_000


class RecordError(ValueError):
    """A KB or query file holds something we cannot use; the message names file and line."""


@dataclass(frozen=True)
class ArticleRecord:
    id: str
    title: str
    problem: str = ""
    solution: str = ""
    tags: tuple[str, ...] = ()
    lang: str = "en"
    examples: tuple[str, ...] = field(default=())

    @property
    def text(self) -> str:
        return "\n".join(part for part in (self.title, self.problem, self.solution) if part)


def _strings(value: object, where: str, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise RecordError(f"{where}: '{name}' must be a list of strings")
    return tuple(item.strip() for item in value if item.strip())


def parse_article(data: object, where: str) -> ArticleRecord:
    if not isinstance(data, dict):
        raise RecordError(f"{where}: expected a JSON object")
    article_id = str(data.get("id") or "").strip()
    if not article_id:
        raise RecordError(f"{where}: missing 'id'")
    title = str(data.get("title") or "").strip()
    problem = str(data.get("problem") or "").strip()
    solution = str(data.get("solution") or "").strip()
    examples = _strings(data.get("examples"), where, "examples")
    if not (title or problem or solution or examples):
        raise RecordError(f"{where}: article '{article_id}' has no text")
    if len(title) + len(problem) + len(solution) > MAX_ARTICLE_CHARS:
        raise RecordError(
            f"{where}: article '{article_id}' is longer than {MAX_ARTICLE_CHARS} characters"
        )
    lang = str(data.get("lang") or "en").strip().lower()
    if lang not in SUPPORTED_LANGUAGES:
        raise RecordError(
            f"{where}: unknown language '{lang}' (supported: {', '.join(SUPPORTED_LANGUAGES)})"
        )
    tags = tuple(tag.lower() for tag in _strings(data.get("tags"), where, "tags"))
    return ArticleRecord(article_id, title, problem, solution, tags, lang, examples)


def iter_jsonl(path: Path) -> Iterator[tuple[str, object]]:
    """Yield (`file:line`, parsed object) for each non-blank line; RecordError on bad JSON."""
    try:
        handle = path.open(encoding="utf-8")
    except OSError as error:
        raise RecordError(f"{path}: cannot read ({error.strerror})") from None
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                yield where, json.loads(line)
            except json.JSONDecodeError as error:
                raise RecordError(f"{where}: not valid JSON ({error.msg})") from None


def read_articles(path: Path | str) -> list[ArticleRecord]:
    """Read a KB file. Raises RecordError for bad lines, duplicate ids or an empty file."""
    path = Path(path)
    articles: list[ArticleRecord] = []
    seen: dict[str, str] = {}
    for where, data in iter_jsonl(path):
        article = parse_article(data, where)
        if article.id in seen:
            raise RecordError(f"{where}: duplicate id '{article.id}' (first at {seen[article.id]})")
        seen[article.id] = where
        articles.append(article)
    if not articles:
        raise RecordError(f"{path}: the knowledge base is empty")
    return articles
