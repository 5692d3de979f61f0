"""`supportbot bench`: speed and memory of the retriever on synthetic KBs of a given size,
side by side with a plain dense baseline (one MiniLM vector per article, FAISS cosine).

The synthetic KB multiplies the demo KB: every article is copied with a product name and
number woven into its title, problem, solution and phrasings, so sizes of 1k-10k keep the
length and vocabulary of real help-desk articles.

Query latency and serving memory are measured in a fresh process that loads the saved
index from disk, as the app's processes do; the build's own memory is reported apart.
"""

from __future__ import annotations

import multiprocessing
import random
import resource
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import faiss
import numpy as np

from supportbot.ai.embeddings import Embedder
from supportbot.ai.index import build_index
from supportbot.ai.records import ArticleRecord
from supportbot.ai.retriever import search
from supportbot.ai.store import load, save

PRODUCTS = ("Contoso", "Fabrikam", "Northwind", "Tailspin", "Litware", "Adatum", "Proseware",
            "Woodgrove", "Fourth Coffee", "Wingtip", "Lucerne", "Margie")


@dataclass(frozen=True)
class BenchRow:
    articles: int
    passages: int
    reindex_s: float  # wall clock: build and save
    reindex_cpu_s: float  # CPU time of the same (all threads): less sensitive to busy cores
    hybrid_p50_ms: float
    hybrid_p95_ms: float
    dense_p50_ms: float
    dense_p95_ms: float
    index_mb: float  # the saved version's folder
    raw_vectors_mb: float  # passages x dimension float32
    build_peak_rss_mb: float  # the process that built and saved the index
    serve_peak_rss_mb: float  # a fresh process: model + index loaded from disk + queries
    precision: str = "float32"  # the embedder's vectors (EMBEDDING_PRECISION)


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


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM): unlike ru_maxrss, it does not count the
    parent a spawned process was forked from."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(seed_articles: list[ArticleRecord], embedder: Embedder, size: int,
        queries: int = 200) -> BenchRow:
    """Build and save the index of a synthetic KB here; time queries in a fresh process
    that loads it from disk, as the app's processes do (`_serve`)."""
    articles = synthetic_kb(seed_articles, size)
    picker = random.Random(7)
    asked = [picker.choice(article.examples) for article in picker.sample(articles, queries)]
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        started, cpu_started = time.perf_counter(), time.process_time()
        index = build_index(articles, embedder)
        meta = save(index, root / "index")
        reindex_s = time.perf_counter() - started
        reindex_cpu_s = time.process_time() - cpu_started
        passages = index.passages
        del index
        index_mb = _folder_mb(root / "index" / str(meta["version"]))
        # Baseline: one vector per article (title + problem), exact cosine.
        np.save(root / "baseline.npy", embedder.encode([f"{a.title}. {a.problem}"
                                                         for a in articles]))
        build_peak = peak_rss_mb()
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(1, mp_context=spawn) as pool:
            hybrid, dense, serve_peak = pool.submit(_serve, root, embedder.name,
                                                    embedder.precision, asked).result()
    return BenchRow(size, passages, round(reindex_s, 1), round(reindex_cpu_s, 1),
                    *_percentiles(hybrid), *_percentiles(dense), round(index_mb, 1),
                    round(passages * embedder.dimension * 4 / 2**20, 1), round(build_peak),
                    round(serve_peak), embedder.precision)


def _serve(root: Path, model_name: str, precision: str,
           asked: list[str]) -> tuple[list[float], list[float], float]:
    """In a fresh process: load the model and the index, answer `asked` once (warm-up; the
    peak RSS is taken then, before the baseline's own index is loaded), then time each
    query through the retriever and through the plain dense baseline, alternately."""
    embedder = Embedder(model_name, precision=precision)
    index = load(root / "index", model_name=model_name, dimension=embedder.dimension,
                 precision=embedder.precision)
    for text in asked:
        search(index, embedder, text)
    serve_peak = peak_rss_mb()
    baseline = faiss.IndexFlatIP(embedder.dimension)
    baseline.add(np.load(root / "baseline.npy"))
    hybrid, dense = [], []
    for text in asked:
        tick = time.perf_counter()
        search(index, embedder, text)
        hybrid.append((time.perf_counter() - tick) * 1000)
        tick = time.perf_counter()
        baseline.search(embedder.encode([text]), 5)
        dense.append((time.perf_counter() - tick) * 1000)
    return hybrid, dense, serve_peak


@dataclass(frozen=True)
class AnnRow:
    passages: int
    exact_p50_ms: float
    exact_p95_ms: float
    hnsw_p50_ms: float
    hnsw_p95_ms: float
    hnsw_build_s: float
    hnsw_recall: float  # share of the exact top-k the HNSW index also returns
    hnsw_recall_top10: float  # share of the exact top 10 within the HNSW top-k


def ann_crossover(embedder: Embedder, seed_articles: list[ArticleRecord],
                  sizes: tuple[int, ...] = (10_000, 25_000, 50_000, 100_000),
                  queries: int = 200, k: int | None = None) -> list[AnnRow]:
    """Exact vs HNSW search time and HNSW recall by number of passages: the measurement
    behind `index.HNSW_MIN_PASSAGES`.

    Passages are real embeddings of the demo KB's passages, each repeated with a little
    noise (a synthetic KB's passages are near-duplicates of each other the same way);
    queries are demo phrasings. No model is called per size, so the run takes seconds.
    """
    from supportbot.ai.index import passages_of
    from supportbot.ai.retriever import DENSE_PASSAGES

    k = k or DENSE_PASSAGES
    seeds = embedder.encode([text for article in seed_articles for text in passages_of(article)])
    picker = random.Random(3)
    asked = embedder.encode([picker.choice(article.examples) for article in
                             picker.choices(seed_articles, k=queries) if article.examples])
    generator = np.random.default_rng(5)
    faiss.omp_set_num_threads(1)  # as the retriever searches (see retriever.py)
    rows = []
    for size in sizes:
        vectors = seeds[np.arange(size) % len(seeds)] + generator.normal(
            0, 0.02, (size, seeds.shape[1])).astype(np.float32)
        faiss.normalize_L2(vectors)
        exact = faiss.IndexFlatIP(seeds.shape[1])
        exact.add(vectors)
        started = time.perf_counter()
        hnsw = faiss.IndexHNSWFlat(seeds.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = 80
        hnsw.add(vectors)
        hnsw.hnsw.efSearch = 64
        build_s = time.perf_counter() - started
        exact_ms, hnsw_ms, overlap, top10 = [], [], [], []
        for vector in asked:
            query = vector.reshape(1, -1)
            tick = time.perf_counter()
            _, truth = exact.search(query, k)
            exact_ms.append((time.perf_counter() - tick) * 1000)
            tick = time.perf_counter()
            _, found = hnsw.search(query, k)
            hnsw_ms.append((time.perf_counter() - tick) * 1000)
            overlap.append(len(set(truth[0]) & set(found[0])) / k)
            top10.append(len(set(truth[0][:10]) & set(found[0])) / 10)
        rows.append(AnnRow(size, *_percentiles(exact_ms), *_percentiles(hnsw_ms),
                           round(build_s, 1), round(float(np.mean(overlap)), 3),
                           round(float(np.mean(top10)), 3)))
    return rows


@dataclass(frozen=True)
class EmbeddingRow:
    backend: str
    threads: int
    passages: int
    embed_wall_s: float  # the passages through `encode_many`
    embed_cpu_s: float  # CPU time of the same (all threads)
    query_p50_ms: float  # one text per call, as the retriever encodes a query
    query_p95_ms: float
    load_s: float  # Embedder(...) with the export already cached
    rss_loaded_mb: float  # the process's resident set after loading the model
    peak_rss_mb: float  # after embedding the passages
    cosine_mean: float  # to the torch vectors of the same passages (1.0 for torch)
    cosine_min: float


def bench_passages(seed_articles: list[ArticleRecord], count: int = 1500) -> list[str]:
    """The first `count` distinct passages of the 1,000-article synthetic KB."""
    from supportbot.ai.index import passages_of

    seen: dict[str, None] = {}
    for article in synthetic_kb(seed_articles, 1000):
        for text in passages_of(article):
            seen.setdefault(text, None)
    return list(seen)[:count]


def _bench_embedder(model_name: str, backend: str) -> Embedder:
    """"torch", "onnx" (both float32) or "onnx-int8", whatever the settings say."""
    if backend == "onnx-int8":
        return Embedder(model_name, backend="onnx", precision="int8")
    return Embedder(model_name, backend=backend, precision="float32")


def embedding_speed(seed_articles: list[ArticleRecord], model_name: str,
                    backends: tuple[str, ...] = ("torch", "onnx", "onnx-int8"),
                    passages: int = 1500, queries: int = 200,
                    threads: int = 1) -> list[EmbeddingRow]:
    """Each backend in a fresh process: load time and memory, the same passages embedded
    (wall and CPU), single-text latency, and agreement with the torch vectors."""
    texts = bench_passages(seed_articles, passages)
    picker = random.Random(7)
    articles = synthetic_kb(seed_articles, 1000)
    asked = [picker.choice(article.examples) for article in picker.sample(articles, queries)]
    for backend in backends:
        if backend != "torch":
            _bench_embedder(model_name, backend)  # exported (and quantized) before timing
    spawn = multiprocessing.get_context("spawn")
    rows, reference = [], None
    for backend in ("torch", *[b for b in backends if b != "torch"]):
        with ProcessPoolExecutor(1, mp_context=spawn) as pool:
            row, vectors = pool.submit(_embed_speed, model_name, backend, texts, asked,
                                       threads).result()
        if reference is None:
            reference = vectors
        cosines = (vectors * reference).sum(axis=1)
        if backend in backends:
            rows.append(replace(row, cosine_mean=round(float(cosines.mean()), 5),
                                cosine_min=round(float(cosines.min()), 5)))
    return rows


def _current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _embed_speed(model_name: str, backend: str, texts: list[str], asked: list[str],
                 threads: int) -> tuple[EmbeddingRow, np.ndarray]:
    from supportbot.ai import embeddings

    embeddings.TORCH_THREADS = embeddings.ONNX_THREADS = threads
    started = time.perf_counter()
    embedder = _bench_embedder(model_name, backend)
    load_s = time.perf_counter() - started
    loaded = _current_rss_mb()
    started, cpu_started = time.perf_counter(), time.process_time()
    vectors = embedder.encode_many(texts)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    for text in asked[:20]:  # warm-up
        embedder.encode([text])
    latencies = []
    for text in asked:
        tick = time.perf_counter()
        embedder.encode([text])
        latencies.append((time.perf_counter() - tick) * 1000)
    row = EmbeddingRow(backend, threads, len(texts), round(wall, 2), round(cpu, 2),
                       *_percentiles(latencies), round(load_s, 2), round(loaded),
                       round(peak_rss_mb()), 1.0, 1.0)
    return row, vectors
