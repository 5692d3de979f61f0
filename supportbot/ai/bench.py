"""`supportbot bench`: speed and memory of the retriever on synthetic KBs of a given size,
side by side with a plain dense baseline (one MiniLM vector per article, FAISS cosine).

The synthetic KB multiplies the demo KB: every article is copied with a product name and
number woven into its title, problem, solution and phrasings, so sizes of 1k-10k keep the
length and vocabulary of real help-desk articles.
"""

from __future__ import annotations

import random
import resource
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import faiss
import numpy as np

from supportbot.ai.embeddings import Embedder
from supportbot.ai.index import build_index
from supportbot.ai.records import ArticleRecord
from supportbot.ai.retriever import search
from supportbot.ai.store import save

PRODUCTS = ("Contoso", "Fabrikam", "Northwind", "Tailspin", "Litware", "Adatum", "Proseware",
            "Woodgrove", "Fourth Coffee", "Wingtip", "Lucerne", "Margie")


@dataclass(frozen=True)
class BenchRow:
    articles: int
    passages: int
    reindex_s: float
    hybrid_p50_ms: float
    hybrid_p95_ms: float
    dense_p50_ms: float
    dense_p95_ms: float
    index_mb: float
    raw_vectors_mb: float
    peak_rss_mb: float


def synthetic_kb(seed_articles: list[ArticleRecord], size: int) -> list[ArticleRecord]:
    out = []
    for number in range(size):
        base = seed_articles[number % len(seed_articles)]
        tag = f"{PRODUCTS[number % len(PRODUCTS)]} {number // len(seed_articles)}"
        out.append(replace(
            base, id=f"{base.id}-{number}", title=f"{base.title} ({tag})",
            problem=f"{base.problem} It happens with {tag}.",
            solution=f"{base.solution}\nFor {tag}, note the model number first.",
            examples=tuple(f"{example} {tag}" for example in base.examples[:3]),
        ))
    return out


def _percentiles(samples: list[float]) -> tuple[float, float]:
    return (round(float(np.percentile(samples, 50)), 2),
            round(float(np.percentile(samples, 95)), 2))


def _folder_mb(path: Path) -> float:
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file()) / 2**20


def run(seed_articles: list[ArticleRecord], embedder: Embedder, size: int,
        queries: int = 200) -> BenchRow:
    articles = synthetic_kb(seed_articles, size)
    started = time.perf_counter()
    index = build_index(articles, embedder)
    with tempfile.TemporaryDirectory() as folder:
        meta = save(index, Path(folder))
        reindex_s = time.perf_counter() - started
        index_mb = _folder_mb(Path(folder) / str(meta["version"]))
    # Baseline: one vector per article (title + problem), exact cosine.
    baseline = faiss.IndexFlatIP(embedder.dimension)
    baseline.add(embedder.encode([f"{a.title}. {a.problem}" for a in articles]))
    picker = random.Random(7)
    asked = [picker.choice(article.examples) for article in picker.sample(articles, queries)]
    hybrid, dense = [], []
    for text in asked:
        tick = time.perf_counter()
        search(index, embedder, text)
        hybrid.append((time.perf_counter() - tick) * 1000)
        tick = time.perf_counter()
        baseline.search(embedder.encode([text]), 5)
        dense.append((time.perf_counter() - tick) * 1000)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return BenchRow(size, int(len(index.vectors)), round(reindex_s, 1), *_percentiles(hybrid),
                    *_percentiles(dense), round(index_mb, 1),
                    round(index.vectors.nbytes / 2**20, 1), round(peak, 0))
