"""The feedback learning loop: problem cases become knowledge-base suggestions.

`run_digest()` (daily from `supportbot scheduler`, on demand from /admin/feedback or
`supportbot feedback-digest`):
1. collects the problem cases: answers rated unhelpful that nobody reviewed yet, and
   escalated tickets that agents solved (closed, with a reply the user could read); a
   conversation with both is one case;
2. writes every case, personal data masked (`services.pii`), as JSONL under
   FEEDBACK_DATASET_PATH (`problem-cases-<date>.jsonl`, replaced by a later run that day);
3. clusters the questions of the cases not suggested before (sentence embeddings, average
   linkage, cosine similarity at least FEEDBACK_CLUSTER_SIMILARITY);
4. per cluster, searches the served index (`retrieval.live_search`): when most questions
   find one article with confidence at least FEEDBACK_MATCH_CONFIDENCE (and the user did
   not reject that article), it suggests the questions as that article's phrasings;
   otherwise a new article, with the agent's final reply as its solution.

Admins accept (a draft article, or the phrasings added to the article, reindexed by the
knowledge service), edit, or reject each suggestion; both mark the cases' feedback
reviewed.
"""

from __future__ import annotations

import json
import os
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session, col, select

from supportbot.ai.retriever import SearchResult
from supportbot.ai.store import IndexUnavailable
from supportbot.config import get_settings
from supportbot.errors import Conflict, InvalidInput, NotFound
from supportbot.jobs.queue import JobStatus, enqueue, job_status
from supportbot.models import (
    EntrySource,
    Feedback,
    KbSuggestion,
    KnowledgeEntry,
    Message,
    Role,
    SenderType,
    SuggestionKind,
    SuggestionStatus,
    Ticket,
    TicketStatus,
    utcnow,
)
from supportbot.models.base import as_utc
from supportbot.services import audit, knowledge, pii
from supportbot.services.lookup import get_or_404
from supportbot.services.permissions import Actor, require_role

Searcher = Callable[[str], SearchResult]
Encoder = Callable[[list[str]], np.ndarray]
Progress = Callable[[str, float], None]  # stage (collect, cluster, match), fraction done
MAX_CASES = 2000  # newest problem cases one run looks at
TITLE_CHARS = 120


@dataclass(frozen=True)
class ProblemCase:
    """One thing the bot did not solve, as plain values (masked)."""

    keys: tuple[str, ...]  # "feedback:<id>", "ticket:<id>"
    question: str
    language: str
    created_at: str
    bot_answer: str = ""
    rejected_articles: tuple[str, ...] = ()  # cited by an answer rated unhelpful
    comment: str = ""
    agent_reply: str = ""  # the agent's final reply
    ticket: str | None = None
    escalation_reason: str | None = None


@dataclass
class DigestResult:
    cases: int
    new_cases: int
    suggestions: list[KbSuggestion] = field(default_factory=list)
    dataset: Path | None = None


# -- problem cases -----------------------------------------------------------------------

def _is_question(message: Message) -> bool:
    return (message.sender_type == SenderType.user.value
            and not message.meta.get("request_human") and bool(message.text.strip()))


def _conversation(session: Session, conversation_id: object) -> list[Message]:
    return list(session.exec(
        select(Message).where(Message.conversation_id == conversation_id,
                              col(Message.is_internal).is_(False))
        .order_by(col(Message.created_at), col(Message.id))))


def _asked_for_a_person(messages: list[Message], position: int) -> bool:
    following = messages[position + 1] if position + 1 < len(messages) else None
    return following is not None and following.meta.get("rule") == "user_request"


def _question_before(messages: list[Message], position: int) -> str:
    """The user's last question before `position` ("talk to a person" is no question)."""
    return next((messages[i].text for i in range(position - 1, -1, -1)
                 if _is_question(messages[i]) and not _asked_for_a_person(messages, i)), "")


def _final_reply(messages: list[Message], ticket_id: object | None = None) -> str:
    replies = [m.text for m in messages if m.sender_type == SenderType.agent.value
               and (ticket_id is None or m.ticket_id == ticket_id)]
    return replies[-1] if replies else ""


def collect_cases(session: Session) -> list[ProblemCase]:
    """Unreviewed unhelpful answers and solved escalations, newest first, masked."""
    kinds = get_settings().pii_mask
    by_conversation: dict[object, dict[str, object]] = {}
    solved = session.exec(
        select(Ticket).where(Ticket.status == TicketStatus.closed.value,
                             col(Ticket.escalation_reason).is_not(None),
                             col(Ticket.conversation_id).is_not(None))
        .order_by(col(Ticket.closed_at).desc()).limit(MAX_CASES))
    for ticket in solved:
        messages = _conversation(session, ticket.conversation_id)
        reply = _final_reply(messages, ticket.id)
        if not reply:
            continue  # closed without an answer: nothing learned
        first_reply = next(i for i, m in enumerate(messages)
                           if m.sender_type == SenderType.agent.value and m.ticket_id == ticket.id)
        by_conversation.setdefault(ticket.conversation_id, {}).update(
            ticket_key=f"ticket:{ticket.id}", question=_question_before(messages, first_reply),
            agent_reply=reply, ticket=ticket.reference, reason=ticket.escalation_reason,
            created_at=as_utc(ticket.created_at), language=_language(messages, ticket))
    unhelpful = session.exec(
        select(Feedback).where(Feedback.rating == -1, col(Feedback.reviewed_at).is_(None),
                               col(Feedback.message_id).is_not(None))
        .order_by(col(Feedback.created_at).desc()).limit(MAX_CASES))
    for feedback in unhelpful:
        messages = _conversation(session, feedback.conversation_id)
        position = next((i for i, m in enumerate(messages) if m.id == feedback.message_id), None)
        if position is None:
            continue
        answer = messages[position]
        case = by_conversation.setdefault(feedback.conversation_id, {})
        case.setdefault("feedback_keys", []).append(f"feedback:{feedback.id}")
        case["question"] = _question_before(messages, position) or case.get("question", "")
        case["bot_answer"] = answer.text
        case["rejected"] = [*case.get("rejected", []),
                            *(str(c.get("id")) for c in answer.citations)]
        case["comment"] = feedback.comment
        case.setdefault("agent_reply", _final_reply(messages[position:]))
        case.setdefault("created_at", as_utc(feedback.created_at))
        case.setdefault("language", str(answer.meta.get("language") or "en"))
    cases = []
    for found in by_conversation.values():
        question = " ".join(pii.mask(str(found.get("question", "")), kinds).split())
        if not question:
            continue
        keys = [*([found["ticket_key"]] if "ticket_key" in found else []),
                *found.get("feedback_keys", [])]
        cases.append(ProblemCase(
            keys=tuple(keys), question=question,
            language=str(found.get("language", "en")) if found.get("language") in ("en", "es")
            else "en",
            created_at=found["created_at"].isoformat(),
            bot_answer=pii.mask(str(found.get("bot_answer", "")), kinds),
            rejected_articles=tuple(dict.fromkeys(found.get("rejected", []))),
            comment=pii.mask(str(found.get("comment", "")), kinds),
            agent_reply=pii.mask(str(found.get("agent_reply", "")), kinds).strip(),
            ticket=found.get("ticket"), escalation_reason=found.get("reason")))
    return sorted(cases, key=lambda case: case.created_at, reverse=True)


def _language(messages: list[Message], ticket: Ticket) -> str:
    for tag in ticket.tags:
        if tag in ("en", "es"):
            return tag
    answers = [m for m in messages if m.sender_type == SenderType.bot.value]
    return str(answers[-1].meta.get("language") or "en") if answers else "en"


def write_dataset(cases: Sequence[ProblemCase], folder: Path, now: datetime) -> Path:
    """All cases as JSONL (one object per line), written atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"problem-cases-{now:%Y-%m-%d}.jsonl"
    temporary = folder / f".{target.name}.tmp"
    with temporary.open("w", encoding="utf-8") as handle:
        for case in cases:
            handle.write(json.dumps(asdict(case), ensure_ascii=False) + "\n")
    os.replace(temporary, target)
    return target


# -- clustering and matching -------------------------------------------------------------

def cluster(vectors: np.ndarray, similarity: float) -> list[list[int]]:
    """Groups of row indexes whose unit vectors are alike: average-linkage clustering cut
    at cosine distance 1 - `similarity`. Groups largest first, members in input order."""
    count = len(vectors)
    if count == 0:
        return []
    if count == 1:
        return [[0]]
    from scipy.cluster.hierarchy import fcluster, linkage

    distances = np.clip(1.0 - vectors @ vectors.T, 0.0, 2.0)
    condensed = distances[np.triu_indices(count, k=1)]
    labels = fcluster(linkage(condensed, method="average"), t=1.0 - similarity,
                      criterion="distance")
    groups: dict[int, list[int]] = {}
    for position, label in enumerate(labels):
        groups.setdefault(int(label), []).append(position)
    return sorted(groups.values(), key=lambda group: (-len(group), group[0]))


def _match(cases: list[ProblemCase], searcher: Searcher,
           min_confidence: float) -> tuple[str, float] | None:
    """The article most of the cases' questions find confidently (one the user did not
    reject), with the best confidence; None when there is no such majority."""
    votes: Counter[str] = Counter()
    best: dict[str, float] = {}
    for case in cases:
        try:
            result = searcher(case.question)
        except IndexUnavailable:
            return None
        top = result.top
        if top is None or result.confidence < min_confidence:
            continue
        if top.article.id in case.rejected_articles:
            continue
        votes[top.article.id] += 1
        best[top.article.id] = max(best.get(top.article.id, 0.0), result.confidence)
    if not votes:
        return None
    article_id, count = votes.most_common(1)[0]
    return (article_id, best[article_id]) if count * 2 >= len(cases) else None


def _entry(session: Session, article_id: str) -> KnowledgeEntry | None:
    try:
        return session.get(KnowledgeEntry, uuid.UUID(article_id))
    except ValueError:
        return None


def _new_phrasings(questions: Sequence[str], existing: Sequence[str]) -> list[str]:
    known = {" ".join(p.split()).lower() for p in existing}
    fresh: dict[str, str] = {}
    for question in questions:
        text = " ".join(question.split())[:500]
        if text and text.lower() not in known:
            fresh.setdefault(text.lower(), text)
    return list(fresh.values())[:knowledge.MAX_PHRASINGS]


def _suggest(session: Session, group: list[ProblemCase], vectors: np.ndarray,
             searcher: Searcher, min_confidence: float) -> KbSuggestion | None:
    questions = [case.question for case in group]
    keys = [key for case in group for key in case.keys]
    language = Counter(case.language for case in group).most_common(1)[0][0]
    match = _match(group, searcher, min_confidence)
    entry = _entry(session, match[0]) if match else None
    if entry is not None and match is not None:
        phrasings = _new_phrasings(questions, [*entry.alternative_phrasings, entry.title])
        if not phrasings:
            return None  # the article already reads every question
        return KbSuggestion(kind=SuggestionKind.phrasings.value, title=entry.title[:200],
                            problem=entry.problem, solution=_solution(group),
                            phrasings=phrasings, locale=entry.locale, entry_id=entry.id,
                            match_confidence=round(match[1], 4), case_keys=keys)
    centre = vectors.mean(axis=0)
    representative = group[int(np.argmax(vectors @ centre))]
    return KbSuggestion(kind=SuggestionKind.new_article.value,
                        title=representative.question[:TITLE_CHARS],
                        problem=representative.question, solution=_solution(group),
                        phrasings=_new_phrasings(questions, []), locale=language,
                        case_keys=keys)


def _solution(group: list[ProblemCase]) -> str:
    """The final reply of the most recent case an agent answered."""
    answered = [case for case in group if case.agent_reply]
    return max(answered, key=lambda case: case.created_at).agent_reply if answered else ""


def _known_keys(session: Session) -> set[str]:
    return {key for keys in session.exec(select(KbSuggestion.case_keys)) for key in keys}


def run_digest(session: Session, actor: Actor, *, searcher: Searcher | None = None,
               encoder: Encoder | None = None, dataset_dir: Path | None = None,
               now: datetime | None = None, progress: Progress | None = None) -> DigestResult:
    """Collect the problem cases, write the dataset, store new suggestions (admins).
    `searcher` and `encoder` default to the served index and its embedding model;
    `progress` hears each stage and the share of it done."""
    require_role(actor, Role.admin)
    settings = get_settings()
    now = now or utcnow()
    report = progress or (lambda _stage, _done: None)
    report("collect", 0.0)
    cases = collect_cases(session)
    dataset = write_dataset(cases, dataset_dir or settings.effective_feedback_dataset_path, now)
    known = _known_keys(session)
    new = [case for case in cases if not known.intersection(case.keys)]
    result = DigestResult(cases=len(cases), new_cases=len(new), dataset=dataset)
    if not new:
        return result
    if searcher is None or encoder is None:
        from supportbot.ai.embeddings import get_embedder
        from supportbot.services.retrieval import embedding_model_name, live_search

        searcher = searcher or live_search
        encoder = encoder or get_embedder(embedding_model_name()).encode
    report("cluster", 0.0)
    vectors = encoder([case.question for case in new])
    groups = cluster(vectors, settings.feedback_cluster_similarity)
    for done, group in enumerate(groups):
        report("match", done / len(groups))
        suggestion = _suggest(session, [new[i] for i in group], vectors[group], searcher,
                              settings.feedback_match_confidence)
        if suggestion is not None:
            session.add(suggestion)
            result.suggestions.append(suggestion)
    session.flush()
    audit.record(session, actor, "kb_suggestion.digest", "kb_suggestion", "digest",
                 after={"cases": result.cases, "new_cases": result.new_cases,
                        "suggestions": len(result.suggestions)})
    return result


def start_digest(actor: Actor) -> str:
    """Queue a digest run (admins); the job id."""
    require_role(actor, Role.admin)
    from supportbot.jobs.feedback_digest import digest_job

    return enqueue(digest_job)


def digest_status(actor: Actor, job_id: str) -> JobStatus:
    """The state of a digest job (admins); NotFound for unknown ids and other jobs."""
    require_role(actor, Role.admin)
    from supportbot.jobs.feedback_digest import digest_job

    status = job_status(job_id) if job_id and len(job_id) <= 64 else None
    if status is None or status.name != f"{digest_job.__module__}.{digest_job.__name__}":
        raise NotFound("No such digest job.")
    return status


# -- admins' decisions -------------------------------------------------------------------

@dataclass(frozen=True)
class SuggestionEdit:
    """What an admin may change before accepting (None: keep)."""

    title: str | None = None
    problem: str | None = None
    solution: str | None = None
    phrasings: Sequence[str] | None = None
    locale: str | None = None


def list_suggestions(session: Session, actor: Actor, *,
                     status: str | None = SuggestionStatus.pending.value, limit: int = 50,
                     offset: int = 0) -> tuple[list[KbSuggestion], int]:
    """Suggestions newest first (pending by default) with the total (admins)."""
    require_role(actor, Role.admin)
    query = select(KbSuggestion)
    if status:
        query = query.where(KbSuggestion.status == SuggestionStatus(status).value)
    total = session.exec(select(sa.func.count()).select_from(query.subquery())).one()
    query = query.order_by(col(KbSuggestion.created_at).desc(), col(KbSuggestion.id))
    return (list(session.exec(query.offset(max(0, offset)).limit(max(1, min(limit, 200))))),
            int(total))


def get_suggestion(session: Session, actor: Actor, suggestion_id: object) -> KbSuggestion:
    require_role(actor, Role.admin)
    return get_or_404(session, KbSuggestion, suggestion_id, "No such suggestion.")


def _pending(session: Session, actor: Actor, suggestion_id: object) -> KbSuggestion:
    suggestion = get_suggestion(session, actor, suggestion_id)
    if suggestion.status != SuggestionStatus.pending.value:
        raise Conflict("This suggestion was already decided.")
    return suggestion


def edit_suggestion(session: Session, actor: Actor, suggestion_id: object,
                    edit: SuggestionEdit) -> KbSuggestion:
    """Change a pending suggestion's text (validated as an article would be; InvalidInput
    "The suggestion has errors." naming the fields). A phrasings suggestion only needs
    valid phrasings: the article keeps its own text, so an incomplete copy of it that the
    admin did not touch is no mistake."""
    suggestion = _pending(session, actor, suggestion_id)
    changed = {name: value for name, value in asdict(edit).items() if value is not None}
    if "phrasings" in changed:
        changed["phrasings"] = [p for p in changed["phrasings"] if str(p).strip()]
    candidate = {"title": suggestion.title, "problem": suggestion.problem,
                 "solution": suggestion.solution, "phrasings": list(suggestion.phrasings),
                 "locale": suggestion.locale, **changed}
    clean: dict[str, object] | None = None
    errors: dict[str, str] = {}
    try:
        clean = knowledge.validate(knowledge.ArticleDraft(
            title=candidate["title"], problem=candidate["problem"],
            solution=candidate["solution"], locale=candidate["locale"],
            phrasings=candidate["phrasings"]))
    except InvalidInput as error:
        errors = dict(error.fields)
    if suggestion.kind == SuggestionKind.phrasings.value:
        errors = {name: message for name, message in errors.items()
                  if name in changed or name == "phrasings"}
        if not [p for p in candidate["phrasings"] if " ".join(str(p).split())]:
            errors["phrasings"] = "Give at least one phrasing."
    if errors:
        raise InvalidInput("The suggestion has errors.", fields=errors)
    if clean is None:  # a phrasings suggestion whose copy of the article is incomplete
        clean = {"title": " ".join(str(candidate["title"]).split()),
                 "problem": str(candidate["problem"]).strip(),
                 "solution": str(candidate["solution"]).strip(),
                 "locale": candidate["locale"],
                 "alternative_phrasings": list(dict.fromkeys(
                     " ".join(str(p).split()) for p in candidate["phrasings"]))}
    suggestion.title, suggestion.problem = clean["title"], clean["problem"]
    suggestion.solution, suggestion.locale = clean["solution"], clean["locale"]
    suggestion.phrasings = clean["alternative_phrasings"]
    session.add(suggestion)
    return suggestion


def _decide(session: Session, actor: Actor, suggestion: KbSuggestion, status: SuggestionStatus,
            entry: KnowledgeEntry | None) -> None:
    suggestion.status = status.value
    suggestion.decided_at = utcnow()
    suggestion.decided_by_id = getattr(actor, "id", None)
    suggestion.result_entry_id = entry.id if entry is not None else None
    session.add(suggestion)
    feedback_ids = [uuid.UUID(key.split(":", 1)[1]) for key in suggestion.case_keys
                    if key.startswith("feedback:")]
    if feedback_ids:
        for feedback in session.exec(select(Feedback).where(col(Feedback.id).in_(feedback_ids))):
            feedback.reviewed_at = feedback.reviewed_at or utcnow()
            if entry is not None and feedback.knowledge_entry_id is None:
                feedback.knowledge_entry_id = entry.id
            session.add(feedback)
    audit.record(session, actor, f"kb_suggestion.{status.value}", "kb_suggestion",
                 suggestion.id, after={"kind": suggestion.kind, "title": suggestion.title,
                                       "entry": str(entry.id) if entry is not None else None})


def accept(session: Session, actor: Actor, suggestion_id: object,
           edit: SuggestionEdit | None = None) -> KnowledgeEntry:
    """A new article becomes a draft (source `feedback`) to review and publish; phrasings
    are added to the matched article (a new version; reindexed after the commit). When
    the matched article was deleted meanwhile, a draft is made instead. Conflict when the
    suggestion was already decided or the article changed in between."""
    if edit is not None:
        suggestion = edit_suggestion(session, actor, suggestion_id, edit)
    else:
        suggestion = _pending(session, actor, suggestion_id)
    target = (session.get(KnowledgeEntry, suggestion.entry_id)
              if suggestion.kind == SuggestionKind.phrasings.value and suggestion.entry_id
              else None)
    if target is not None:
        entry = knowledge.update_entry(session, actor, target.id, knowledge.ArticleDraft(
            target.title, target.problem, target.solution, target.tags, target.locale,
            [*target.alternative_phrasings, *suggestion.phrasings], target.status),
            expected_version=target.version)
    else:
        entry = knowledge.create_entry(session, actor, knowledge.ArticleDraft(
            title=suggestion.title, problem=suggestion.problem, solution=suggestion.solution,
            tags=["feedback"], locale=suggestion.locale, phrasings=suggestion.phrasings,
            status="draft"), source=EntrySource.feedback)
    _decide(session, actor, suggestion, SuggestionStatus.accepted, entry)
    return entry


def reject(session: Session, actor: Actor, suggestion_id: object) -> KbSuggestion:
    """Drop a suggestion; its cases are not suggested again."""
    suggestion = _pending(session, actor, suggestion_id)
    _decide(session, actor, suggestion, SuggestionStatus.rejected, None)
    return suggestion
