"""`supportbot generator-bench`: the generator's cost and the grounding check's quality.

One process with the embedding model and a demo-KB index, measuring:
- peak RSS before the generator is loaded (retrieval only) and after it has generated;
- the generator's load time, first-token time and tokens per second over N questions;
- the grounding check: the share of answers generated from the right article that pass
  (faithful answers kept), and the share of the same answers that fail when checked
  against another article (unsupported answers rejected).
"""

from __future__ import annotations

import random
import resource
import statistics
import time
from dataclasses import dataclass

from supportbot.ai.embeddings import Embedder
from supportbot.ai.generator import Generator
from supportbot.ai.grounding import check
from supportbot.ai.index import build_index
from supportbot.ai.records import ArticleRecord
from supportbot.ai.retriever import search


@dataclass(frozen=True)
class GenBenchRow:
    questions: int
    rss_without_generator_mb: float
    rss_with_generator_mb: float
    load_s: float
    first_token_ms_p50: float
    first_token_ms_p95: float
    tokens_per_s: float
    grounded_when_faithful: float
    rejected_when_unsupported: float


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def run(articles: list[ArticleRecord], embedder: Embedder, generator: Generator,
        questions: int, seed: int = 7) -> GenBenchRow:
    index = build_index(articles, embedder)
    search(index, embedder, "warm up")
    without = _peak_rss_mb()
    started = time.perf_counter()
    generator.load()
    load_s = round(time.perf_counter() - started, 2)
    rng = random.Random(seed)
    asked = [a for a in articles if a.examples and (a.solution or a.problem)]
    rng.shuffle(asked)
    first_tokens, rates, kept, rejected = [], [], 0, 0
    picked = asked[:questions]
    for article in picked:
        source = (article.title, article.solution or article.problem)
        started = time.perf_counter()
        first = None
        pieces = []
        for piece in generator.stream(article.examples[0], [source], article.lang):
            if first is None and piece:
                first = time.perf_counter() - started
            pieces.append(piece)
        elapsed = time.perf_counter() - started
        answer = "".join(pieces).strip()
        tokens = len(generator._tokenizer(answer)["input_ids"]) if answer else 0
        if first is not None:
            first_tokens.append(first * 1000)
        if tokens and elapsed > (first or 0):
            rates.append(tokens / elapsed)
        kept += check(answer, [" ".join(source)]).grounded
        other = rng.choice([a for a in articles if a.id != article.id])
        rejected += not check(answer, [f"{other.title} {other.solution or other.problem}"]).grounded
    count = max(len(picked), 1)
    ordered = sorted(first_tokens) or [0.0]
    return GenBenchRow(
        questions=len(picked),
        rss_without_generator_mb=without,
        rss_with_generator_mb=_peak_rss_mb(),
        load_s=load_s,
        first_token_ms_p50=round(statistics.median(ordered), 1),
        first_token_ms_p95=round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
        tokens_per_s=round(statistics.mean(rates), 1) if rates else 0.0,
        grounded_when_faithful=round(kept / count, 3),
        rejected_when_unsupported=round(rejected / count, 3),
    )
