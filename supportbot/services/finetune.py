"""Local fine-tuning of the embedding model on the published KB and validated feedback,
activated only when it beats the model in use on held-out phrasings.

`run_finetune` is what `supportbot finetune` and the admin page's job call:

1. Gather the published articles and the validated user questions: the question a user
   asked before a bot answer they marked helpful, paired with the article that answer
   cited first.
2. Hold out a share of the phrasings and validated questions as the dev split; train a
   new version from EMBEDDING_MODEL_NAME on the rest.
3. Evaluate the model in use and the new one on the same dev split, with the same
   retrieval code the chat uses (an index of the training-side articles, built aside).
4. Activate the new version only if it is better (MRR up by MIN_GAIN and R@1 not down);
   otherwise keep the old one and say why. Either way the version and its figures are
   kept, so any kept version can be activated later (`supportbot models activate`) and
   an activation can be rolled back (`supportbot models rollback`).
5. After an activation, rebuild the search index with the new model. Until that index
   is current, every process keeps serving the old index with the old model.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone

from sqlmodel import Session, col, select

from supportbot.ai import finetune
from supportbot.ai.embeddings import Embedder, get_embedder, resolve_model_path
from supportbot.ai.evaluation import metrics, run_queries
from supportbot.ai.index import build_index
from supportbot.ai.model_store import BASE, ModelVersions, VersionNotFound
from supportbot.ai.queries import Query
from supportbot.ai.records import ArticleRecord
from supportbot.config import get_settings
from supportbot.errors import InvalidInput, NotFound
from supportbot.models import Feedback, Message, Role, User
from supportbot.services import audit
from supportbot.services.knowledge import published_records
from supportbot.services.permissions import Actor, require_role
from supportbot.services.retrieval import model_versions

log = logging.getLogger(__name__)

MIN_GAIN = 0.002  # MRR on dev a new version must add to be activated
MIN_DEV_QUERIES = 5
TOO_SMALL = ("Fine-tuning needs more alternative phrasings: at least 3 on several published "
             "articles, so that some can be held out to evaluate on.")
Progress = Callable[[str, float], None]  # (stage, fraction done of that stage)


def validated_pairs(session: Session) -> list[finetune.Pair]:
    """(question, article) pairs users confirmed: the user's message before each bot
    answer marked helpful, with the article that answer cited first."""
    rows = session.exec(
        select(Feedback, Message)
        .where(Feedback.rating > 0, col(Feedback.message_id).is_not(None))
        .join(Message, col(Message.id) == col(Feedback.message_id))
    ).all()
    pairs = []
    for _feedback, answer in rows:
        if not answer.is_bot or not answer.citations:
            continue
        question = session.exec(
            select(Message)
            .where(Message.conversation_id == answer.conversation_id,
                   Message.sender_type == "user",
                   col(Message.created_at) <= answer.created_at)
            .order_by(col(Message.created_at).desc())
        ).first()
        article_id = str(answer.citations[0].get("id") or "")
        if question is not None and article_id:
            pairs.append(finetune.Pair(question.text, article_id))
    return pairs


def _dev_split(articles: list[ArticleRecord], extra: list[finetune.Pair], seed: int
               ) -> tuple[list[ArticleRecord], list[finetune.Pair], list[Query]]:
    train_articles, dev = finetune.hold_out(articles, seed=seed)
    language = {article.id: article.lang for article in articles}
    shuffled = extra[:]
    random.Random(seed).shuffle(shuffled)
    cut = round(len(shuffled) * finetune.HOLDOUT_FRACTION)
    dev += [Query(f"feedback#{number}", pair.query, pair.article_id,
                  language.get(pair.article_id, "en"), "dev")
            for number, pair in enumerate(shuffled[:cut], start=1)]
    return train_articles, shuffled[cut:], dev


def evaluate(embedder: Embedder, articles: list[ArticleRecord],
             dev: list[Query]) -> dict[str, object]:
    """Retrieval figures of one model on the dev split (same code as the live chat)."""
    index = build_index(articles, embedder)
    return metrics(run_queries(index, embedder, dev), get_settings().confidence_threshold)


def _better(current: dict[str, object], candidate: dict[str, object]) -> tuple[str, str]:
    """The decision ("activated", "not_better" or "recall_down") and why, in words."""
    mrr_now, mrr_new = float(current["mrr"] or 0), float(candidate["mrr"] or 0)
    r1_now, r1_new = float(current["recall_at_1"] or 0), float(candidate["recall_at_1"] or 0)
    figures = (f"dev MRR {mrr_now:.4f} -> {mrr_new:.4f}, "
               f"R@1 {r1_now:.4f} -> {r1_new:.4f}")
    if mrr_new < mrr_now + MIN_GAIN:
        return "not_better", f"not better than the model in use ({figures}); kept the old one"
    if r1_new < r1_now:
        return "recall_down", f"R@1 went down ({figures}); kept the old one"
    return "activated", f"better than the model in use ({figures}); activated"


def run_finetune(*, epochs: int = finetune.EPOCHS, seed: int = 0, progress: Progress | None = None,
                 versions: ModelVersions | None = None,
                 actor_id: str | None = None) -> dict[str, object]:
    """Train, evaluate, maybe activate (see the module doc). Returns the outcome: version,
    activated, reason, figures. InvalidInput when the KB is too small to train on."""
    from supportbot.db import session_scope
    from supportbot.jobs.reindex import rebuild_index

    settings = get_settings()
    versions = versions or model_versions()
    report = progress or (lambda _stage, _fraction: None)
    with session_scope() as session:
        articles = published_records(session)
        extra = validated_pairs(session)
    train_articles, train_extra, dev = _dev_split(articles, extra, seed)
    pairs = finetune.pairs_from(train_articles, train_extra)
    if len(dev) < MIN_DEV_QUERIES or not pairs:
        raise InvalidInput(TOO_SMALL)
    started = time.perf_counter()
    folder = versions.new_folder()
    try:
        trained = finetune.train(
            resolve_model_path(settings.embedding_model_name), train_articles, pairs, folder,
            epochs=epochs, seed=seed,
            progress=lambda step, total: report("train", step / total))
        report("evaluate", 0.0)
        current_name = versions.model_name()
        current = evaluate(get_embedder(current_name), train_articles, dev)
        report("evaluate", 0.5)
        candidate = evaluate(Embedder(str(folder)), train_articles, dev)
        report("evaluate", 1.0)
    except BaseException:
        versions.discard(folder)
        raise
    decision, reason = _better(current, candidate)
    better = decision == "activated"
    meta = {
        "created_at": datetime.now(timezone.utc).isoformat(),
        "base_model": settings.embedding_model_name,
        "compared_with": versions.active(),
        "articles": len(articles), "validated_pairs": len(extra),
        "dev_queries": len(dev), **trained,
        "train_seconds": round(time.perf_counter() - started, 1),
        "dev_current": current, "dev_candidate": candidate,
        "activated": better, "decision": decision, "reason": reason,
    }
    version = versions.keep(folder, meta)
    outcome: dict[str, object] = {"version": version, "activated": better,
                                  "decision": decision, "reason": reason,
                                  "dev_current": current, "dev_candidate": candidate}
    if better:
        versions.activate(version, reason)
        with session_scope() as session:
            actor = session.get(User, uuid.UUID(actor_id)) if actor_id else None
            audit.record(session, actor, "model.activate",
                         "embedding_model", version, before={"version": meta["compared_with"]},
                         after={"version": version, "reason": reason})
        report("reindex", 0.0)
        outcome["index"] = rebuild_index()
        report("reindex", 1.0)
    log.info("fine-tuning %s: %s", version, reason)
    return outcome


def activate(session: Session, actor: Actor | None, version: str, *,
             reason: str = "activated by hand") -> dict[str, object]:
    """Make a kept version (or "base") the model in use; the index is rebuilt for it.
    `actor` None means the command line (trusted); otherwise admins only."""
    from supportbot.jobs.reindex import schedule_reindex

    if actor is not None:
        require_role(actor, Role.admin)
    versions = model_versions()
    try:
        line = versions.activate(version, reason)
    except VersionNotFound:
        raise NotFound("No such model version.") from None
    audit.record(session, actor, "model.activate", "embedding_model", version,
                 before={"version": line["previous"]}, after={"version": version})
    session.commit()
    schedule_reindex()
    return line


def rollback(session: Session, actor: Actor | None) -> dict[str, object]:
    """Return to the version that was in use before the current one."""
    previous = model_versions().previous()
    if previous is None:
        raise InvalidInput("There is no earlier model version to roll back to.")
    return activate(session, actor, previous, reason="rollback")


def describe() -> list[dict[str, object]]:
    """Every kept version with its dev figures, for the admin page and the CLI."""
    return model_versions().versions()


__all__ = ["BASE", "activate", "describe", "rollback", "run_finetune", "validated_pairs"]
