"""The `supportbot` command: operations for admins and tooling, thin over the services."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from supportbot.ai.embeddings import ModelNotFound
from supportbot.ai.records import RecordError
from supportbot.ai.store import IndexUnavailable
from supportbot.config import ConfigError, get_settings
from supportbot.errors import ServiceError

app = typer.Typer(
    name="supportbot",
    help="SupportBot: self-hosted AI-assisted technical support desk.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
def migrate(
    create_database: Annotated[bool, typer.Option(
        "--create-database", help="Create the PostgreSQL database first if it is missing "
                                  "(the user needs the CREATEDB right).")] = False,
) -> None:
    """Apply database migrations (alembic upgrade head)."""
    from supportbot import schema

    url = get_settings().effective_database_url
    if create_database and schema.create_database(url):
        typer.echo(f"Created the database {url.rsplit('/', 1)[-1]}.")
    schema.upgrade(url)
    typer.echo(f"Database at revision {schema.head_revision()}.")


@app.command("demo-data")
def demo_data() -> None:
    """Load the demo accounts and knowledge base (safe to run again)."""
    from supportbot.db import session_scope
    from supportbot.services.demo import load_demo_data

    settings = get_settings()
    with session_scope() as session:
        result = load_demo_data(session, settings)
    kb = result.kb
    typer.echo(f"Demo knowledge base: {kb.created} created, {kb.updated} updated, "
               f"{kb.unchanged} unchanged.")
    new = [account for account in result.accounts if account.password]
    if new:
        typer.secho("Demo accounts (passwords are shown only this once):", bold=True)
        for account in new:
            typer.echo(f"  {account.role.value:<6} {account.username:<8} {account.password}")
    old = [account.username for account in result.accounts if not account.password]
    if old:
        typer.echo(f"Demo accounts already present: {', '.join(old)} "
                   "(forgot a password? `supportbot set-password USERNAME`).")


@app.command("create-user")
def create_user(
    username: Annotated[str, typer.Option(help="Login name (3-64 characters).")],
    email: Annotated[str, typer.Option(help="E-mail address.")],
    role: Annotated[str, typer.Option(help="user, agent or admin.")] = "user",
    password: Annotated[str, typer.Option(prompt=True, hide_input=True,
                                          confirmation_prompt=True,
                                          help="Asked for if not given.")] = "",
) -> None:
    """Create an account with the given role."""
    from supportbot.db import session_scope
    from supportbot.services import accounts
    from supportbot.services.permissions import SYSTEM

    with session_scope() as session:
        user = accounts.create_user(session, SYSTEM, username=username, email=email,
                                    password=password, role=role)
    typer.echo(f"Created {user.role} '{user.username}' <{user.email}>.")


@app.command("set-password")
def set_password(
    username: str,
    password: Annotated[str, typer.Option(prompt=True, hide_input=True,
                                          confirmation_prompt=True)] = "",
) -> None:
    """Set an account's password (logs it out everywhere)."""
    from supportbot.db import session_scope
    from supportbot.services import accounts
    from supportbot.services.permissions import SYSTEM

    with session_scope() as session:
        user = accounts.find_user(session, username)
        accounts.reset_password(session, SYSTEM, user.id, password)
    typer.echo(f"Password of '{username}' changed.")


@app.command("set-role")
def set_role(username: str, role: str) -> None:
    """Change an account's role (user, agent, admin)."""
    from supportbot.db import session_scope
    from supportbot.services import accounts
    from supportbot.services.permissions import SYSTEM

    with session_scope() as session:
        user = accounts.set_role(session, SYSTEM, accounts.find_user(session, username).id, role)
    typer.echo(f"'{user.username}' is now {user.role}.")


@app.command("deactivate")
def deactivate(username: str) -> None:
    """Deactivate an account (it can no longer log in; its sessions end)."""
    from supportbot.db import session_scope
    from supportbot.services import accounts
    from supportbot.services.permissions import SYSTEM

    with session_scope() as session:
        accounts.set_active(session, SYSTEM, accounts.find_user(session, username).id, False)
    typer.echo(f"'{username}' deactivated.")


@app.command("import-kb")
def import_kb(
    path: Annotated[Path, typer.Argument(help="JSONL file: id, title, problem, solution, "
                                               "tags, lang, examples.")],
    draft: Annotated[bool, typer.Option(help="Import as drafts instead of published.")] = False,
) -> None:
    """Create or update knowledge-base articles from a JSONL file, then bring the search
    index up to date: the worker does it (REDIS_URL), or this command before it ends."""
    from supportbot.ai.records import read_articles
    from supportbot.db import session_scope
    from supportbot.jobs import queue
    from supportbot.jobs.reindex import schedule_reindex
    from supportbot.models import EntryStatus
    from supportbot.services import knowledge
    from supportbot.services.permissions import SYSTEM

    records = read_articles(path)
    status = EntryStatus.draft if draft else EntryStatus.published
    with session_scope() as session:
        result = knowledge.import_articles(session, SYSTEM, records, status=status)
    typer.echo(f"{path}: {result.created} created, {result.updated} updated, "
               f"{result.unchanged} unchanged.")
    if not result.created + result.updated:
        return
    job_id = schedule_reindex()  # nothing is built if the index already holds this KB
    if queue.uses_redis():
        typer.echo(f"Reindex job {job_id} queued: a worker makes the changes searchable.")
        return
    queue.wait_in_process_jobs()
    status = queue.job_status(job_id)
    if status is None or status.state != "finished":
        typer.echo(f"The articles are stored, but the index was not rebuilt "
                   f"({status.error if status else 'job unknown'}): run supportbot reindex.",
                   err=True)
        raise typer.Exit(1)
    typer.echo(f"Index: {status.state}.")


@app.command()
def reindex(
    background: Annotated[bool, typer.Option(help="Queue it as a job instead of waiting.")] = False,
    if_changed: Annotated[bool, typer.Option(
        help="Skip when the index already holds the current KB.")] = False,
) -> None:
    """Rebuild the search index from the published knowledge base."""
    from supportbot.jobs import queue
    from supportbot.jobs.reindex import rebuild_index

    if background:
        job_id = queue.enqueue(rebuild_index)
        if not queue.uses_redis():
            queue.wait_in_process_jobs()
        typer.echo(f"Reindex job {job_id} queued.")
        return
    meta = rebuild_index(show_progress=True, if_changed=if_changed)
    if "skipped" in meta:
        typer.echo(f"Nothing to index: {meta['skipped']}.")
        return
    typer.echo(f"Index {meta['version']}: {meta['articles']} articles, {meta['passages']} "
               f"passages ({meta['embedded_passages']} embedded, the rest unchanged), "
               f"model {meta['model_name']} ({meta['embedding_precision']} vectors), "
               f"KB revision {meta['kb_revision']}.")


@app.command("purge-tokens")
def purge_tokens() -> None:
    """Delete expired refresh-token records."""
    from supportbot.jobs.maintenance import purge_expired_refresh_tokens

    typer.echo(f"Removed {purge_expired_refresh_tokens()} expired refresh tokens.")


def _embedder():  # noqa: ANN202
    from supportbot.ai.embeddings import get_embedder

    return get_embedder(get_settings().embedding_model_name)


def _live_embedder():  # noqa: ANN202
    """The model the chat searches with (a fine-tuned version when one is active)."""
    from supportbot.ai.embeddings import get_embedder
    from supportbot.services.retrieval import embedding_model_name

    return get_embedder(embedding_model_name())


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What a user would type.")],
    k: Annotated[int, typer.Option(min=1, max=20, help="How many articles.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Search the live index as the bot would, and say whether it would answer."""
    import json

    from supportbot.ai.decision import confident_enough
    from supportbot.ai.retriever import search as run_search
    from supportbot.ai.store import LiveIndex

    settings = get_settings()
    embedder = _live_embedder()
    index = LiveIndex(settings.effective_index_path, model_name=embedder.name,
                      dimension=embedder.dimension, precision=embedder.precision).get()
    result = run_search(index, embedder, query, k=k)
    answer = confident_enough(result, settings.confidence_threshold)
    if as_json:
        typer.echo(json.dumps({
            "language": result.language, "confidence": round(result.confidence, 4),
            "would_answer": answer,
            "hits": [{"id": hit.article.id, "title": hit.article.title,
                      "score": round(hit.score, 4)} for hit in result.hits],
        }))
        return
    verdict = "answer" if answer else "hand over to a person"
    typer.echo(f"language {result.language}, confidence {result.confidence:.3f} "
               f"(threshold {settings.confidence_threshold}): {verdict}")
    for number, hit in enumerate(result.hits, start=1):
        typer.echo(f"{number}. {hit.article.title}  [{hit.score:.3f}]  {hit.article.id}")


@app.command()
def ask(
    text: Annotated[str, typer.Argument(help="The user's message.")],
    session_id: Annotated[str | None, typer.Option(
        "--session", help="Continue this chat session (default: start a new one).")] = None,
    lang: Annotated[str | None, typer.Option(
        help="Reply in this language (es or en; default: the message's).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Send one message through the chat engine, as the web chat does, and show the
    outcome: the answer with its sources, or the hand-over and its ticket."""
    import json
    import time

    from supportbot.db import session_scope
    from supportbot.jobs.queue import wait_in_process_jobs
    from supportbot.services import chat

    if lang is not None and lang not in ("es", "en"):
        raise typer.BadParameter("use es or en", param_hint="--lang")
    text = chat.clean_message(text)  # refuse bad input before starting a conversation
    started = time.perf_counter()
    with session_scope() as session:
        if session_id is None:
            session_id = chat.start_conversation(session, locale=lang or "en").session_id
        reply = chat.send_message(session, session_id, text, language=lang)
        latency_ms = round((time.perf_counter() - started) * 1000, 1)
        bot = reply.bot_message
        outcome = {
            "session_id": session_id,
            "answer": bot.text if bot else None,
            "citations": [{"id": c["id"], "title": c["title"]} for c in reply.citations],
            "confidence": round(reply.result.confidence, 4) if reply.result else None,
            "escalated": reply.escalated,
            "reason": reply.escalation.reason.value if reply.escalation else None,
            "ticket_id": reply.ticket.reference if reply.ticket else None,
            "language": reply.language,
            "generated": reply.generated,
            "latency_ms": latency_ms,
        }
    wait_in_process_jobs()  # notifications queued in-process finish before exit
    if as_json:
        typer.echo(json.dumps(outcome, ensure_ascii=False))
        return
    if outcome["answer"] is None:
        typer.echo(f"(people own this conversation: ticket {outcome['ticket_id']}; "
                   "the bot stays silent)")
    else:
        typer.echo(outcome["answer"])
    typer.echo("")
    for citation in outcome["citations"]:
        typer.echo(f"source: {citation['title']}  [{citation['id']}]")
    if outcome["escalated"]:
        typer.echo(f"escalated: {outcome['reason']}, ticket {outcome['ticket_id']}")
    confidence = outcome["confidence"]
    typer.echo(f"language {outcome['language']}, confidence "
               f"{'-' if confidence is None else f'{confidence:.3f}'}, {latency_ms} ms, "
               f"session {session_id}")


@app.command("eval")
def evaluate(
    kb: Annotated[Path, typer.Option(help="KB file (JSONL: id, title, problem, solution, "
                                          "tags, lang, examples).")],
    queries: Annotated[Path | None, typer.Option(help="Queries file (JSONL: qid, query, "
                                                      "gold_kb_id, lang, split).")] = None,
    split: Annotated[str | None, typer.Option(help="Only queries of this split.")] = None,
    threshold: Annotated[float | None, typer.Option(
        min=0.0, max=1.0, help="Confidence threshold (default: CONFIDENCE_THRESHOLD).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
    model: Annotated[str | None, typer.Option(
        help="Embedding model name or folder, e.g. one made by `supportbot finetune "
             "--output` (default: EMBEDDING_MODEL_NAME).")] = None,
    holdout: Annotated[str | None, typer.Option(
        help="Instead of --queries, a dev set made from the KB file itself: 'phrasings' "
             "(the articles without their phrasings, queried with them) or 'problem' "
             "(without phrasings and problem text, queried with both), as "
             "`fit-confidence --holdout` uses them.")] = None,
) -> None:
    """Measure retrieval and answer/escalate decisions on a KB and a queries file.

    Builds a temporary index from the file: the app's database and index are not touched.
    """
    import json

    from supportbot.ai.embeddings import get_embedder
    from supportbot.ai.evaluation import evaluate_files, report, run_queries

    if (queries is None) == (holdout is None):
        raise typer.BadParameter("give --queries or --holdout (phrasings or problem)")
    if holdout not in (None, "phrasings", "problem"):
        raise typer.BadParameter("phrasings or problem", param_hint="--holdout")
    chosen = get_settings().confidence_threshold if threshold is None else threshold
    embedder = get_embedder(model) if model else _embedder()
    if holdout:
        from supportbot.ai.fitting import holdout_phrasings
        from supportbot.ai.index import build_index
        from supportbot.ai.records import read_articles

        articles, wanted = holdout_phrasings(read_articles(kb),
                                             with_problem=holdout == "phrasings")
        figures = report(run_queries(build_index(articles, embedder), embedder, wanted), chosen)
    else:
        figures = evaluate_files(kb, queries, embedder, chosen, split)
    if as_json:
        typer.echo(json.dumps(figures))
        return
    _print_table(figures)


def _print_table(figures: dict) -> None:
    rows = [("all", figures), *figures["by_lang"].items()]
    keys = [key for key in figures if key != "by_lang"]
    typer.echo(f"{'':<20}" + "".join(f"{name:>12}" for name, _ in rows))
    for key in keys:
        cells = []
        for _, values in rows:
            value = values[key]
            cells.append(f"{'-' if value is None else value:>12}")
        typer.echo(f"{key:<20}" + "".join(cells))


@app.command()
def finetune(
    epochs: Annotated[int, typer.Option(min=1, max=20, help="Passes over the pairs.")] = 3,
    background: Annotated[bool, typer.Option(help="Queue it as a job instead of waiting.")] = False,
    kb: Annotated[Path | None, typer.Option(
        help="Evaluation mode: train on this KB file's phrasings instead of the app's KB "
             "(nothing is activated; the model goes to --output).")] = None,
    queries: Annotated[Path | None, typer.Option(
        help="Evaluation mode: compare base and fine-tuned models on these queries.")] = None,
    split: Annotated[str | None, typer.Option(help="Only queries of this split.")] = None,
    output: Annotated[Path | None, typer.Option(
        help="Evaluation mode: where to save the fine-tuned model.")] = None,
) -> None:
    """Fine-tune the embedding model on the KB's phrasings and validated feedback.

    The new version is evaluated on held-out phrasings against the model in use and
    activated (and the index rebuilt) only if it is better; otherwise the old one stays
    and the reason is printed. See `supportbot models` for versions and rollback.
    """
    if kb is not None or queries is not None:
        _finetune_files(kb, queries, split, output, epochs)
        return
    from supportbot.jobs import queue
    from supportbot.jobs.finetune import schedule_finetune

    if background:
        job_id = schedule_finetune(epochs=epochs)
        if not queue.uses_redis():
            queue.wait_in_process_jobs()
        typer.echo(f"Fine-tuning job {job_id} queued.")
        return
    stages: dict[str, int] = {}

    def show(stage: str, done: float) -> None:
        percent = int(done * 100)
        if percent // 10 != stages.get(stage, -1) // 10:
            stages[stage] = percent
            typer.echo(f"  {stage}: {percent}%")

    from supportbot.services.finetune import run_finetune

    outcome = run_finetune(epochs=epochs, progress=show)
    _print_finetune(outcome)


def _print_finetune(outcome: dict[str, object]) -> None:
    typer.echo(f"Version {outcome['version']}: {outcome['reason']}.")
    for label, key in (("in use", "dev_current"), ("new", "dev_candidate")):
        figures = outcome[key]
        typer.echo(f"  {label:7} R@1 {figures['recall_at_1']}  MRR {figures['mrr']}  "
                   f"({figures['n_answerable']} held-out questions)")
    if outcome.get("index"):
        typer.echo(f"  index rebuilt: {outcome['index'].get('version')}")


def _finetune_files(kb: Path | None, queries: Path | None, split: str | None,
                    output: Path | None, epochs: int) -> None:
    import json

    from supportbot.ai import finetune as tuning
    from supportbot.ai.embeddings import Embedder, resolve_model_path
    from supportbot.ai.evaluation import read_pair, report, run_queries
    from supportbot.ai.index import build_index

    if kb is None or queries is None or output is None:
        raise typer.BadParameter("evaluation mode needs --kb, --queries and --output")
    settings = get_settings()
    articles, wanted = read_pair(kb, queries, split)
    figures = tuning.train(resolve_model_path(settings.embedding_model_name), articles,
                           tuning.pairs_from(articles), output, epochs=epochs)
    rows = {}
    for label, embedder in (("base", _embedder()), ("fine-tuned", Embedder(str(output)))):
        index = build_index(articles, embedder)
        rows[label] = report(run_queries(index, embedder, wanted), settings.confidence_threshold)
    typer.echo(json.dumps({"training": figures, "output": str(output),
                           **{label: {key: value for key, value in row.items() if key != "by_lang"}
                              for label, row in rows.items()}}, indent=1))


models_app = typer.Typer(help="Embedding model versions made by `supportbot finetune`.",
                         no_args_is_help=True)
app.add_typer(models_app, name="models")


@models_app.command("list")
def models_list() -> None:
    """Every kept version with its dev figures; * marks the one in use."""
    from supportbot.services.finetune import describe

    for row in describe():
        mark = "*" if row["active"] else " "
        candidate = row.get("dev_candidate") or {}
        figures = (f"dev R@1 {candidate.get('recall_at_1')} MRR {candidate.get('mrr')}"
                   if candidate else str(row.get("model_name")))
        typer.echo(f"{mark} {row['version']:28} {figures}  {row.get('reason', '')}")


@models_app.command("activate")
def models_activate(
    version: Annotated[str, typer.Argument(help="A version from `models list`, or base.")],
) -> None:
    """Use this version from now on (the index is rebuilt for it)."""
    from supportbot.db import session_scope
    from supportbot.jobs.queue import wait_in_process_jobs
    from supportbot.services.finetune import activate

    with session_scope() as session:
        line = activate(session, None, version)
    wait_in_process_jobs()
    typer.echo(f"Active model: {line['version']} (was {line['previous']}).")


@models_app.command("rollback")
def models_rollback() -> None:
    """Return to the version in use before the current one (the index is rebuilt)."""
    from supportbot.db import session_scope
    from supportbot.jobs.queue import wait_in_process_jobs
    from supportbot.services.finetune import rollback

    with session_scope() as session:
        line = rollback(session, None)
    wait_in_process_jobs()
    typer.echo(f"Active model: {line['version']} (was {line['previous']}).")


@app.command()
def calibrate(
    kb: Annotated[Path, typer.Option(help="KB file (JSONL).")],
    queries: Annotated[Path, typer.Option(help="Queries file of a dev split (JSONL).")],
    target_precision: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.95,
    split: Annotated[str | None, typer.Option(help="Only queries of this split.")] = None,
) -> None:
    """Pick the confidence threshold that reaches a target answered precision on dev data."""
    from supportbot.ai.evaluation import pick_threshold, read_pair, run_queries
    from supportbot.ai.index import build_index

    articles, chosen = read_pair(kb, queries, split)
    embedder = _embedder()
    outcomes = run_queries(build_index(articles, embedder), embedder, chosen)
    threshold, figures = pick_threshold(outcomes, target_precision)
    typer.echo(f"threshold {threshold}: answered precision {figures['answered_precision']}, "
               f"coverage {figures['coverage']}, escalation recall "
               f"{figures['escalation_recall']} ({len(chosen)} queries)")
    typer.echo(f"Set CONFIDENCE_THRESHOLD={threshold} to use it.")


@app.command("fit-confidence")
def fit_confidence(
    kb: Annotated[list[Path], typer.Option(help="Dev KB file; repeat, paired with --queries.")],
    queries: Annotated[list[Path], typer.Option(help="Dev queries file, one per --kb.")],
    split: Annotated[str, typer.Option(help="Queries of this split only.")] = "dev",
    holdout: Annotated[list[Path], typer.Option(
        help="KB file whose phrasings (and problem texts) become dev queries.")] = [],  # noqa: B006
) -> None:
    """Fit the confidence model on dev data and save it in supportbot/ai/confidence.json."""
    from supportbot.ai.evaluation import read_pair
    from supportbot.ai.fitting import fit, holdout_phrasings
    from supportbot.ai.records import read_articles

    if len(kb) != len(queries):
        raise typer.BadParameter("give one --queries for each --kb")
    datasets = []
    for kb_path, queries_path in zip(kb, queries, strict=True):
        datasets.append((str(queries_path), *read_pair(kb_path, queries_path, split)))
    for path in holdout:
        articles = read_articles(path)
        datasets.append((f"{path} (phrasings held out)", *holdout_phrasings(articles)))
        datasets.append((f"{path} (problem and phrasings held out)",
                         *holdout_phrasings(articles, with_problem=False)))
    result = fit(datasets, _embedder())
    for line in result["fitted_on"]:
        typer.echo(line)
    typer.echo("weights: " + ", ".join(f"{name}={weight}" for name, weight in
                                        zip(result["features"], result["weights"], strict=True)))


@app.command()
def bench(
    sizes: Annotated[str, typer.Option(help="Comma-separated KB sizes.")] = "1000,10000",
    queries: Annotated[int, typer.Option(min=10, help="Queries timed per size.")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False,
    ann: Annotated[bool, typer.Option(
        "--ann", help="Instead: exact vs HNSW search time and recall by passages "
                      "(--sizes are then passage counts, e.g. 10000,25000,50000,100000).")
    ] = False,
    embedding: Annotated[str, typer.Option(
        "--embedding", help="Instead: these embedding backends (e.g. torch,onnx,onnx-int8), "
                            "each in a fresh process: 1,500 bench passages, single-text "
                            "latency, memory, cosine to torch.")] = "",
    threads: Annotated[int, typer.Option(min=1, max=8, help="With --embedding: the "
                                         "backend's intra-op threads.")] = 1,
) -> None:
    """Reindex time, query latency (hybrid vs plain dense) and memory on synthetic KBs.

    Each size runs in its own process, so its peak RSS is its own.
    """
    import dataclasses
    import json
    import subprocess
    import sys

    from supportbot.ai.bench import AnnRow, BenchRow, EmbeddingRow, ann_crossover, run
    from supportbot.ai.records import read_articles
    from supportbot.services.demo import DEMO_KB

    wanted = [int(size) for size in sizes.split(",") if size.strip()]
    rows: list[BenchRow] | list[AnnRow] | list[EmbeddingRow] = []
    if embedding:
        from supportbot.ai.bench import embedding_speed
        from supportbot.services.retrieval import embedding_model_name

        backends = tuple(name.strip() for name in embedding.split(",") if name.strip())
        rows = embedding_speed(read_articles(DEMO_KB), embedding_model_name(), backends,
                               queries=queries, threads=threads)
    elif ann:
        rows = ann_crossover(_embedder(), read_articles(DEMO_KB), tuple(wanted), queries)
    elif len(wanted) == 1:
        rows.append(run(read_articles(DEMO_KB), _embedder(), wanted[0], queries))
    else:
        for size in wanted:
            done = subprocess.run([sys.executable, "-m", "supportbot", "bench", "--sizes",
                                   str(size), "--queries", str(queries), "--json"],
                                  capture_output=True, text=True, check=True)
            rows.append(BenchRow(**json.loads(done.stdout.strip().splitlines()[-1])))
    if as_json:
        for row in rows:
            typer.echo(json.dumps(dataclasses.asdict(row)))
        return
    kind = EmbeddingRow if embedding else AnnRow if ann else BenchRow
    names = [field.name for field in dataclasses.fields(kind)]
    widths = [max(16, len(name) + 2) for name in names]
    typer.echo("".join(f"{name:>{width}}" for name, width in zip(names, widths, strict=True)))
    for row in rows:
        typer.echo("".join(f"{getattr(row, name):>{width}}"
                           for name, width in zip(names, widths, strict=True)))


@app.command("generator-bench")
def generator_bench(
    questions: Annotated[int, typer.Option(min=1, max=200, help="Demo-KB questions.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """The generator's load time, first-token time, tokens/s and the process's peak RSS
    with and without it; how often the grounding check keeps faithful answers and
    rejects unsupported ones (demo KB)."""
    import dataclasses
    import json

    from supportbot.ai.genbench import run
    from supportbot.ai.records import read_articles
    from supportbot.services.chat import configured_generator
    from supportbot.services.demo import DEMO_KB

    generator = configured_generator()
    if generator is None:
        raise typer.BadParameter("GENERATOR_MODEL_NAME=none: nothing to measure")
    row = run(read_articles(DEMO_KB), _embedder(), generator, questions)
    if as_json:
        typer.echo(json.dumps(dataclasses.asdict(row)))
        return
    for name, value in dataclasses.asdict(row).items():
        typer.echo(f"{name:>28}  {value}")


@app.command()
def loadtest(
    url: Annotated[str, typer.Option(help="The running app, on this machine.")] =
        "http://127.0.0.1:3000",
    sessions: Annotated[int, typer.Option(help="Simultaneous chat sessions (half on the "
                                               "WebSocket, half on REST).")] = 20,
    minutes: Annotated[float, typer.Option(help="How long the sessions talk.")] = 1.0,
    think: Annotated[str, typer.Option(help="Seconds a visitor waits between turns, "
                                            "MIN-MAX.")] = "2-4",
    agents: Annotated[int | None, typer.Option(
        help="Agent accounts answering escalations (default: one per 20 sessions).")] = None,
    seed: Annotated[int | None, typer.Option(help="Reproduce the visitors' choices.")] = None,
    ramp: Annotated[float, typer.Option(
        help="Seconds over which the sessions start (at most a quarter of the run).")] = 10.0,
    database_url: Annotated[str | None, typer.Option(
        help="The app's database, for the agents and the check (default: DATABASE_URL).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Drive simultaneous chat sessions (demo-KB and out-of-scope questions, requests for
    a person, agents replying) against the app on this machine; print latency
    percentiles, counts and errors; then check in the database that every message was
    stored exactly once and every escalation has its ticket. Exit 1 if anything was
    lost, duplicated or failed."""
    import json

    from supportbot.errors import InvalidInput
    from supportbot.loadtest.report import format_report
    from supportbot.loadtest.run import LoadConfig, run_load_test

    low, _, high = think.partition("-")
    try:
        pause = (float(low), float(high or low))
    except ValueError:
        raise InvalidInput("--think: give MIN-MAX seconds, e.g. 2-4.") from None
    config = LoadConfig(url=url, sessions=sessions, minutes=minutes, think=pause,
                        agents=agents, seed=seed, ramp=ramp)
    summary = run_load_test(config, database_url or get_settings().effective_database_url)
    typer.echo(json.dumps(summary, ensure_ascii=False) if as_json else format_report(summary))
    raise typer.Exit(0 if summary["ok"] else 1)


@app.command("api-spec")
def api_spec(
    output: Annotated[Path | None, typer.Option(
        help="Where to write it (default: docs/api-spec.yaml of the source tree).")] = None,
    check: Annotated[bool, typer.Option(
        "--check", help="Write nothing; fail if the file differs from the app.")] = False,
) -> None:
    """Write the REST API's OpenAPI 3 description (YAML), generated from the app."""
    from supportbot.api.spec import SPEC_PATH, openapi_yaml

    target = output or SPEC_PATH
    text = openapi_yaml()
    if check:
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            typer.secho(f"{target} is stale: run `supportbot api-spec`.", fg=typer.colors.RED,
                        err=True)
            raise typer.Exit(1)
        typer.echo(f"{target} is up to date.")
        return
    target.write_text(text, encoding="utf-8")
    typer.echo(f"Wrote {target} ({len(text.splitlines())} lines).")


@app.command()
def backup(
    output: Annotated[Path | None, typer.Option(
        help="Folder for the archive (default: BACKUP_PATH).")] = None,
) -> None:
    """Archive the database, the search index and the model versions into one
    timestamped .tar.gz (PostgreSQL via pg_dump; SQLite copied consistently)."""
    from supportbot.services.backup import backup as run_backup

    archive = run_backup(destination=output)
    typer.echo(f"Backup written: {archive} ({archive.stat().st_size // 1024} KiB).")


@app.command()
def restore(
    archive: Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                            help="A file made by `supportbot backup`.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Replace the database with the archive's and put its index and model versions back
    (stop the app, workers and scheduler first)."""
    from supportbot.services.backup import read_manifest
    from supportbot.services.backup import restore as run_restore

    manifest = read_manifest(archive)
    target = get_settings().effective_database_url.split("@")[-1]
    if not yes:
        typer.confirm(f"Replace the database at {target} with the {manifest['database']} "
                      f"backup of {manifest['created_at']}?", abort=True)
    run_restore(archive)
    typer.echo(f"Restored the backup of {manifest['created_at']}: schema "
               f"{manifest['schema_revision']}, index {manifest['index_version']}, model "
               f"{manifest['active_model']}. Run `supportbot migrate` if this release is newer.")


@app.command()
def retention() -> None:
    """Anonymize conversations older than RETENTION_DAYS (the scheduler runs this daily)."""
    from supportbot.jobs.maintenance import anonymize_old_conversations

    done = anonymize_old_conversations()
    if done["cutoff"] is None:
        typer.echo("RETENTION_DAYS=0: conversations are kept.")
        return
    typer.echo(f"Anonymized {done['conversations']} conversations ({done['messages']} "
               f"messages, {done['tickets']} tickets) without activity since "
               f"{done['cutoff'][:10]}; {done['skipped_open_tickets']} wait for their "
               "ticket to close.")


@app.command("feedback-digest")
def feedback_digest() -> None:
    """Group unhelpful answers and escalations agents solved into KB suggestions and write
    the problem cases (PII masked) as JSONL under FEEDBACK_DATASET_PATH (daily from the
    scheduler; suggestions are reviewed on /admin/suggestions)."""
    from supportbot.jobs.feedback_digest import digest_job

    done = digest_job()
    typer.echo(f"{done['cases']} problem cases ({done['new_cases']} new) -> "
               f"{done['suggestions']} new suggestions ({done['new_articles']} new articles, "
               f"{done['phrasings']} phrasings of existing ones).")
    if done["dataset"]:
        typer.echo(f"Dataset: {done['dataset']}")


@app.command()
def scheduler(
    check: Annotated[bool, typer.Option(
        "--check", help="Exit 0 if a scheduler ran recently, 1 if not (health check).")] = False,
    once: Annotated[bool, typer.Option("--once", help="One pass, then exit.")] = False,
) -> None:
    """Queue the periodic jobs (index freshness, retention, token purge, feedback digest)
    when due.
    Run one per installation."""
    import logging

    from supportbot.jobs import scheduler as periodic

    if check:
        raise typer.Exit(0 if periodic.healthy() else 1)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if once:
        queued = periodic.run_due(periodic.LastRuns())
        typer.echo(f"Queued: {', '.join(queued) or 'nothing due'}.")
        from supportbot.jobs.queue import wait_in_process_jobs

        wait_in_process_jobs()
        return
    names = ", ".join(f"{job.name} every {job.every}" for job in periodic.SCHEDULE)
    typer.echo(f"Scheduler: {names}.")
    periodic.run_forever()


@app.command()
def worker(
    burst: Annotated[bool, typer.Option(help="Exit when the queue is empty.")] = False,
    check: Annotated[bool, typer.Option(
        "--check", help="Exit 0 if a worker of this host is registered, 1 if not.")] = False,
) -> None:
    """Run background jobs from the Redis queue (needs REDIS_URL); retries included.
    Loads the embedding model once, before each job's process is forked from it."""
    from supportbot.jobs.worker import registered_here, run_worker

    if check:
        raise typer.Exit(0 if registered_here() else 1)
    run_worker(burst=burst)


@app.command("check-config")
def check_config() -> None:
    """Validate the configuration and print it (secrets hidden)."""
    settings = get_settings()
    for name, value in settings.model_dump().items():
        if any(word in name for word in ("secret", "password")) and value:
            value = "***"
        typer.echo(f"{name.upper()}={value}")
    typer.echo(f"(database: {settings.effective_database_url.split('@')[-1]})")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `supportbot` script; always ends with SystemExit."""
    try:
        app(args=argv)
    except ConfigError as error:
        typer.secho(str(error), fg=typer.colors.RED, err=True)
        sys.exit(2)
    except (ServiceError, RecordError, IndexUnavailable, ModelNotFound) as error:
        typer.secho(f"Error: {getattr(error, 'message', error)}", fg=typer.colors.RED, err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
