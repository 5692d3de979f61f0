"""Evaluation queries: the `queries*.jsonl` format of ../shared/eval (see its README)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from supportbot.ai.records import RecordError, iter_jsonl


@dataclass(frozen=True)
class Query:
    qid: str
    text: str
    gold_id: str | None  # None: nothing in the KB answers it
    lang: str
    split: str | None


def read_queries(path: Path | str, *, split: str | None = None,
                 known_ids: set[str] | None = None) -> list[Query]:
    """Read a queries file, keeping `split` if given. RecordError names file and line."""
    path = Path(path)
    queries: list[Query] = []
    for where, data in iter_jsonl(path):
        if not isinstance(data, dict):
            raise RecordError(f"{where}: expected a JSON object")
        text = data.get("query")
        if not isinstance(text, str) or not text.strip():
            raise RecordError(f"{where}: missing 'query'")
        gold = data.get("gold_kb_id")
        if gold is not None and not isinstance(gold, str):
            raise RecordError(f"{where}: 'gold_kb_id' must be a string or null")
        if gold is not None and known_ids is not None and gold not in known_ids:
            raise RecordError(f"{where}: gold_kb_id '{gold}' is not in the knowledge base")
        query = Query(str(data.get("qid") or where), text.strip(), gold,
                      str(data.get("lang") or "und"), data.get("split"))
        if split is None or query.split == split:
            queries.append(query)
    if not queries:
        suffix = f" with split '{split}'" if split else ""
        raise RecordError(f"{path}: no queries{suffix}")
    return queries
