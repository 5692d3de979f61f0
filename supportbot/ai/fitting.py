"""Fit the confidence model on dev data (`supportbot fit-confidence`).

Examples: every dev query once as it is (label: is the first article the gold one?) and,
for answerable queries, once more with the gold article hidden, as if the KB lacked it
(label 0). The second kind teaches the model what "no article covers this" looks like even
on dev sets that have few or no unanswerable queries.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from supportbot.ai.embeddings import Embedder
from supportbot.ai.evaluation import run_queries
from supportbot.ai.index import build_index
from supportbot.ai.queries import Query
from supportbot.ai.records import ArticleRecord
from supportbot.ai.retriever import CONFIDENCE_FILE, FEATURE_NAMES


def holdout_phrasings(articles: list[ArticleRecord], *, with_problem: bool = True,
                      ) -> tuple[list[ArticleRecord], list[Query]]:
    """A dev set made from a KB itself: articles without their phrasings, which become
    the queries. Without `with_problem`, the problem text goes too and is one more query:
    what is left (title and solution) is like a long reference article."""
    stripped = [dataclasses.replace(article, examples=(), problem=article.problem
                                    if with_problem else "") for article in articles]
    queries = [Query(f"{a.id}#{n}", text, a.id, a.lang, "dev")
               for a in articles for n, text in enumerate(a.examples)]
    if not with_problem:
        queries += [Query(f"{a.id}#problem", a.problem, a.id, a.lang, "dev")
                    for a in articles if a.problem]
    return stripped, queries


def examples_for(articles: list[ArticleRecord], queries: list[Query],
                 embedder: Embedder) -> tuple[np.ndarray, np.ndarray]:
    index = build_index(articles, embedder)
    features, labels = [], []
    for outcome in run_queries(index, embedder, queries):
        if outcome.result.features:
            features.append(outcome.result.features)
            labels.append(1 if outcome.rank == 1 else 0)
    answerable = [query for query in queries if query.gold_id]
    for outcome in run_queries(index, embedder, answerable, exclude_gold=True):
        if outcome.result.features:
            features.append(outcome.result.features)
            labels.append(0)
    return np.asarray(features, dtype=np.float64), np.asarray(labels)


def fit(datasets: list[tuple[str, list[ArticleRecord], list[Query]]], embedder: Embedder,
        output: Path = CONFIDENCE_FILE) -> dict[str, object]:
    parts = [examples_for(articles, queries, embedder) for _, articles, queries in datasets]
    features = np.vstack([x for x, _ in parts])
    labels = np.concatenate([y for _, y in parts])
    # Each dataset weighs the same, whatever its size.
    weights = np.concatenate([np.full(len(y), len(labels) / (len(parts) * len(y)))
                              for _, y in parts])
    model = LogisticRegression(C=1.0, max_iter=2000)
    model.fit(features, labels, sample_weight=weights)
    result = {
        "features": list(FEATURE_NAMES),
        "weights": [round(float(w), 5) for w in model.coef_[0]],
        "bias": round(float(model.intercept_[0]), 5),
        "fitted_on": [f"{name}: {len(y)} examples, {int(y.sum())} positive"
                      for (name, _, _), (_, y) in zip(datasets, parts, strict=True)],
    }
    output.write_text(json.dumps(result, indent=1) + "\n")
    return result
