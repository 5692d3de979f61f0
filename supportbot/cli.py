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
def migrate() -> None:
    """Apply database migrations (alembic upgrade head)."""
    from supportbot import schema

    url = get_settings().effective_database_url
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
    """Create or update knowledge-base articles from a JSONL file."""
    from supportbot.ai.records import read_articles
    from supportbot.db import session_scope
    from supportbot.models import EntryStatus
    from supportbot.services import knowledge
    from supportbot.services.permissions import SYSTEM

    records = read_articles(path)
    status = EntryStatus.draft if draft else EntryStatus.published
    with session_scope() as session:
        result = knowledge.import_articles(session, SYSTEM, records, status=status)
    typer.echo(f"{path}: {result.created} created, {result.updated} updated, "
               f"{result.unchanged} unchanged.")


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
               f"model {meta['model_name']}, KB revision {meta['kb_revision']}.")


@app.command("purge-tokens")
def purge_tokens() -> None:
    """Delete expired refresh-token records."""
    from supportbot.jobs.maintenance import purge_expired_refresh_tokens

    typer.echo(f"Removed {purge_expired_refresh_tokens()} expired refresh tokens.")


def _embedder():  # noqa: ANN202
    from supportbot.ai.embeddings import get_embedder

    return get_embedder(get_settings().embedding_model_name)


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
    embedder = _embedder()
    index = LiveIndex(settings.effective_index_path, model_name=embedder.name,
                      dimension=embedder.dimension).get()
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
    queries: Annotated[Path, typer.Option(help="Queries file (JSONL: qid, query, "
                                               "gold_kb_id, lang, split).")],
    split: Annotated[str | None, typer.Option(help="Only queries of this split.")] = None,
    threshold: Annotated[float | None, typer.Option(
        min=0.0, max=1.0, help="Confidence threshold (default: CONFIDENCE_THRESHOLD).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Measure retrieval and answer/escalate decisions on a KB and a queries file.

    Builds a temporary index from the file: the app's database and index are not touched.
    """
    import json

    from supportbot.ai.evaluation import evaluate_files

    chosen = get_settings().confidence_threshold if threshold is None else threshold
    figures = evaluate_files(kb, queries, _embedder(), chosen, split)
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
) -> None:
    """Reindex time, query latency (hybrid vs plain dense) and memory on synthetic KBs.

    Each size runs in its own process, so its peak RSS is its own.
    """
    import dataclasses
    import json
    import subprocess
    import sys

    from supportbot.ai.bench import BenchRow, run
    from supportbot.ai.records import read_articles
    from supportbot.services.demo import DEMO_KB

    wanted = [int(size) for size in sizes.split(",") if size.strip()]
    rows: list[BenchRow] = []
    if len(wanted) == 1:
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
    names = [field.name for field in dataclasses.fields(BenchRow)]
    typer.echo("".join(f"{name:>16}" for name in names))
    for row in rows:
        typer.echo("".join(f"{getattr(row, name):>16}" for name in names))


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
    from supportbot.ai.generator import get_generator
    from supportbot.ai.records import read_articles
    from supportbot.services.demo import DEMO_KB

    generator = get_generator(get_settings().generator_model_name)
    if generator is None:
        raise typer.BadParameter("GENERATOR_MODEL_NAME=none: nothing to measure")
    row = run(read_articles(DEMO_KB), _embedder(), generator, questions)
    if as_json:
        typer.echo(json.dumps(dataclasses.asdict(row)))
        return
    for name, value in dataclasses.asdict(row).items():
        typer.echo(f"{name:>28}  {value}")


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
