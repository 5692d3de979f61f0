"""`supportbot eval`: retrieval and answer/escalate quality of a KB file on a queries file.

Builds a throw-away index from the KB file (never the app's database or live index) and
runs every query through the same `retriever.search` and `decision.confident_enough` the
live chat uses.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from supportbot.ai.decision import confident_enough
from supportbot.ai.embeddings import Embedder
from supportbot.ai.index import SearchIndex, build_index
from supportbot.ai.queries import Query, read_queries
from supportbot.ai.records import ArticleRecord, read_articles
from supportbot.ai.retriever import SearchResult, search

RANK_DEPTH = 100  # ranks beyond this count as "not found" for MRR


@dataclass(frozen=True)
class Outcome:
    query: Query
    result: SearchResult
    rank: int | None  # 1-based rank of the gold article, None if absent or no gold
    latency_ms: float


def run_queries(index: SearchIndex, embedder: Embedder, queries: list[Query],
                exclude_gold: bool = False) -> list[Outcome]:
    outcomes = []
    for query in queries:
        exclude = (query.gold_id,) if exclude_gold and query.gold_id else ()
        started = time.perf_counter()
        result = search(index, embedder, query.text, k=RANK_DEPTH, exclude=exclude)
        elapsed = (time.perf_counter() - started) * 1000
        ids = [hit.article.id for hit in result.hits]
        rank = ids.index(query.gold_id) + 1 if query.gold_id in ids and not exclude else None
        outcomes.append(Outcome(query, result, rank, elapsed))
    return outcomes


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def metrics(outcomes: list[Outcome], threshold: float) -> dict[str, object]:
    answerable = [o for o in outcomes if o.query.gold_id]
    no_answer = [o for o in outcomes if not o.query.gold_id]
    answered = [o for o in outcomes if confident_enough(o.result, threshold)]
    answered_ids = {id(o) for o in answered}
    labels = [1 if o.query.gold_id else 0 for o in outcomes]
    scores = [o.result.confidence for o in outcomes]
    latencies = [o.latency_ms for o in outcomes]
    return {
        "n_answerable": len(answerable),
        "n_no_answer": len(no_answer),
        "recall_at_1": _ratio(sum(1 for o in answerable if o.rank == 1), len(answerable)),
        "recall_at_5": _ratio(sum(1 for o in answerable if o.rank and o.rank <= 5),
                              len(answerable)),
        "mrr": _ratio(sum(1 / o.rank for o in answerable if o.rank), len(answerable)),
        "auroc": round(float(roc_auc_score(labels, scores)), 4) if len(set(labels)) == 2
        else None,
        "threshold": threshold,
        "coverage": _ratio(sum(1 for o in answerable if id(o) in answered_ids), len(answerable)),
        "answered_precision": _ratio(sum(1 for o in answered if o.rank == 1), len(answered)),
        "escalation_recall": _ratio(sum(1 for o in no_answer if id(o) not in answered_ids),
                                    len(no_answer)),
        "latency_ms_p50": round(float(np.percentile(latencies, 50)), 2) if latencies else None,
        "latency_ms_p95": round(float(np.percentile(latencies, 95)), 2) if latencies else None,
    }


def report(outcomes: list[Outcome], threshold: float) -> dict[str, object]:
    """All metrics, and the same per query language under `by_lang`."""
    result = metrics(outcomes, threshold)
    languages = sorted({o.query.lang for o in outcomes})
    result["by_lang"] = {lang: metrics([o for o in outcomes if o.query.lang == lang], threshold)
                         for lang in languages}
    return result


def read_pair(kb_path: Path | str, queries_path: Path | str,
              split: str | None = None) -> tuple[list[ArticleRecord], list[Query]]:
    """A KB file and its queries file, each gold id checked against the KB."""
    articles = read_articles(kb_path)
    return articles, read_queries(queries_path, split=split, known_ids={a.id for a in articles})


def evaluate_files(kb_path: Path | str, queries_path: Path | str, embedder: Embedder,
                   threshold: float, split: str | None = None) -> dict[str, object]:
    articles, queries = read_pair(kb_path, queries_path, split)
    index = build_index(articles, embedder)
    return report(run_queries(index, embedder, queries), threshold)


def pick_threshold(outcomes: list[Outcome], target_precision: float) -> tuple[float, dict]:
    """The lowest confidence threshold whose answered precision reaches the target
    (most coverage); 1.0 (answer nothing) if none does. Returns it with its metrics."""
    candidates = sorted({round(o.result.confidence, 4) for o in outcomes})
    for threshold in candidates:
        figures = metrics(outcomes, threshold)
        precision = figures["answered_precision"]
        if precision is not None and precision >= target_precision:
            return threshold, figures
    return 1.0, metrics(outcomes, 1.0)
