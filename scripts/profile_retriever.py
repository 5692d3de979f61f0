"""The retriever's own work per query, the query embedding aside (docs/retrieval.md,
"What changed").

Builds the synthetic KB of `supportbot bench` (the demo KB multiplied) with a stand-in
embedder: hashed word vectors, no model, so the build costs only the HNSW graph and the
lexical side, and a query's vector is looked up, not computed. The index is saved once
under --cache and loaded from disk (memory-mapped n-grams) as a server loads it.

    python scripts/profile_retriever.py --size 10000            # CPU p50 / p95 per query
    python scripts/profile_retriever.py --size 10000 --profile tottime  # and cProfile's top 30
    python scripts/profile_retriever.py --size 10000 --save-results before.pkl
    python scripts/profile_retriever.py --size 10000 --compare before.pkl  # same results?
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import pickle
import pstats
import random
import re
import time
from pathlib import Path

import numpy as np

from supportbot.ai.bench import synthetic_kb
from supportbot.ai.index import build_index
from supportbot.ai.records import read_articles
from supportbot.ai.retriever import search
from supportbot.ai.store import current_version, load, save
from supportbot.services.demo import DEMO_KB

DIMENSION = 384
_WORD = re.compile(r"\w+")


class StandInEmbedder:
    """Unit sums of a fixed random vector per word: texts that share words are close,
    as a synthetic KB's copies of one article are. Query vectors are cached."""

    name = "stand-in-hashed-words"
    dimension = DIMENSION
    precision = "float32"

    def __init__(self) -> None:
        self._words: dict[str, np.ndarray] = {}
        self._cache: dict[str, np.ndarray] = {}

    def _word(self, word: str) -> np.ndarray:
        vector = self._words.get(word)
        if vector is None:
            seed = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
            vector = np.random.default_rng(seed).standard_normal(DIMENSION).astype(np.float32)
            self._words[word] = vector
        return vector

    def _one(self, text: str) -> np.ndarray:
        cached = self._cache.get(text)
        if cached is None:
            vector = np.zeros(DIMENSION, np.float32)
            for word in _WORD.findall(text.lower()):
                vector += self._word(word)
            cached = vector / max(float(np.linalg.norm(vector)), 1e-9)
            self._cache[text] = cached
        return cached

    def encode(self, texts: list[str], **_: object) -> np.ndarray:
        return np.stack([self._one(text) for text in texts]) if texts else np.zeros(
            (0, DIMENSION), np.float32)

    def encode_many(self, texts: list[str], **_: object) -> np.ndarray:
        return self.encode(texts)


def queries_of(articles: list, count: int) -> list[str]:
    """As `bench.run` picks them: one phrasing of each of `count` random articles."""
    picker = random.Random(7)
    return [picker.choice(article.examples) for article in picker.sample(articles, count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--passes", type=int, default=3, help="timed passes over the queries")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/supportbot-profile"))
    parser.add_argument("--profile", choices=("tottime", "cumulative"),
                        help="also print the cProfile top 30, sorted so")
    parser.add_argument("--save-results", type=Path)
    parser.add_argument("--compare", type=Path)
    args = parser.parse_args()

    articles = synthetic_kb(read_articles(DEMO_KB), args.size)
    embedder = StandInEmbedder()
    root = args.cache / str(args.size)
    if current_version(root) is None:
        started = time.process_time()
        save(build_index(articles, embedder), root)
        print(f"built {args.size} articles in {time.process_time() - started:.1f} s CPU")
    index = load(root, model_name=embedder.name, dimension=DIMENSION,
                 precision=embedder.precision)
    asked = queries_of(articles, args.queries)
    embedder.encode(asked)  # cached: the query "embedding" costs a dict look-up
    # Also queries from other parts of the pipeline: Spanish, typos, hidden gold.
    asked += ["no puedo imprimir desde mi portatil", "teh vpn wont conect", "zzzz qqqq"]
    embedder.encode(asked[-3:])
    results = [search(index, embedder, text, k=100) for text in asked]  # warm-up
    samples = []
    for _ in range(args.passes):
        for text in asked:
            tick = time.process_time()
            search(index, embedder, text)
            samples.append((time.process_time() - tick) * 1000)
    p50, p95 = np.percentile(samples, 50), np.percentile(samples, 95)
    print(f"{index.size} articles, {index.passages} passages ({type(index.faiss_index).__name__}),"
          f" {len(samples)} queries: own work CPU p50 {p50:.2f} ms, p95 {p95:.2f} ms")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for text in asked:
            search(index, embedder, text)
        profiler.disable()
        pstats.Stats(profiler).sort_stats(args.profile).print_stats(30)
    summary = [([hit.article.id for hit in r.hits], [hit.score for hit in r.hits],
                [(hit.dense, hit.bm25, hit.char) for hit in r.hits], r.confidence,
                r.features) for r in results]
    if args.save_results:
        args.save_results.write_bytes(pickle.dumps(summary))
    if args.compare:
        reference = pickle.loads(args.compare.read_bytes())
        pairs = list(zip(summary, reference, strict=True))
        top5 = sum(a[0][:5] == b[0][:5] for a, b in pairs)
        top100 = sum(a[0] == b[0] for a, b in pairs)
        score = signals = 0.0
        for a, b in pairs:  # by article, whatever its rank
            mine = {id_: (s, *sig) for id_, s, sig in zip(a[0], a[1], a[2], strict=True)}
            theirs = {id_: (s, *sig) for id_, s, sig in zip(b[0], b[1], b[2], strict=True)}
            for id_ in mine.keys() & theirs.keys():
                difference = np.abs(np.subtract(mine[id_], theirs[id_]))
                score = max(score, float(difference[0]))
                signals = max(signals, float(difference[1:].max()))
        confidence = max(abs(a[3] - b[3]) for a, b in pairs)
        print(f"same top 5: {top5}/{len(pairs)}, same top 100: {top100}/{len(pairs)}; same "
              f"article: max |fused diff| {score:.2e}, |dense, bm25 or char diff| "
              f"{signals:.2e}; max |confidence diff| {confidence:.2e}")

if __name__ == "__main__":
    main()
