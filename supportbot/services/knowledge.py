"""Knowledge-base articles: import, editing, publish state and version history.

Every save writes a `KnowledgeEntryVersion` snapshot, so an article's history can be
shown and restored. Creating, editing, publishing, unpublishing or deleting one article
schedules a reindex once the transaction commits (`jobs.reindex.schedule_reindex`); the
rebuild re-embeds only that article's passages (docs/embedding-versioning.md).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select

from supportbot.ai.records import MAX_ARTICLE_CHARS, SUPPORTED_LANGUAGES, ArticleRecord
from supportbot.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from supportbot.jobs.queue import JobStatus, enqueue, job_status
from supportbot.models import (
    EntrySource,
    EntryStatus,
    KnowledgeEntry,
    KnowledgeEntryVersion,
    Role,
    utcnow,
)
from supportbot.services import audit
from supportbot.services.input_guard import unstorable_message
from supportbot.services.lookup import choice, contains_text, get_or_404
from supportbot.services.permissions import Actor, has_role, require_role

MAX_TITLE_CHARS = 200
MAX_PHRASINGS = 50
MAX_TAGS = 20


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int


def _snapshot(session: Session, entry: KnowledgeEntry, actor: Actor | None) -> None:
    session.add(KnowledgeEntryVersion(
        entry_id=entry.id, version=entry.version, title=entry.title, problem=entry.problem,
        solution=entry.solution, tags=list(entry.tags), locale=entry.locale,
        alternative_phrasings=list(entry.alternative_phrasings), status=entry.status,
        edited_by_id=getattr(actor, "id", None),
    ))


def _content(record: ArticleRecord, status: EntryStatus) -> dict[str, object]:
    return {"title": record.title or record.id, "problem": record.problem,
            "solution": record.solution, "tags": list(record.tags), "locale": record.lang,
            "alternative_phrasings": list(record.examples), "status": status.value}


def import_articles(
    session: Session,
    actor: Actor | None,
    records: Iterable[ArticleRecord],
    *,
    source: EntrySource = EntrySource.manual,
    status: EntryStatus = EntryStatus.published,
) -> ImportResult:
    """Create or update articles keyed by the record id (`external_id`). Admins only.

    Re-importing the same file changes nothing; a changed record becomes a new version.
    """
    require_role(actor, Role.admin)
    created = updated = unchanged = 0
    for record in records:
        content = _content(record, status)
        entry = session.exec(
            select(KnowledgeEntry).where(KnowledgeEntry.external_id == record.id)
        ).first()
        if entry is None:
            entry = KnowledgeEntry(external_id=record.id, source=source.value,
                                   created_by_id=getattr(actor, "id", None), **content)
            session.add(entry)
            session.flush()
            _snapshot(session, entry, actor)
            audit.record(session, actor, "kb.create", "knowledge_entry", entry.id,
                         after={"title": entry.title, "status": entry.status})
            created += 1
        elif all(getattr(entry, name) == value for name, value in content.items()):
            unchanged += 1
        else:
            before = {"title": entry.title, "version": entry.version, "status": entry.status}
            for name, value in content.items():
                setattr(entry, name, value)
            entry.version += 1
            entry.updated_at = utcnow()
            session.add(entry)
            _snapshot(session, entry, actor)
            audit.record(session, actor, "kb.update", "knowledge_entry", entry.id, before=before,
                         after={"title": entry.title, "version": entry.version,
                                "status": entry.status})
            updated += 1
    return ImportResult(created, updated, unchanged)


def list_published(
    session: Session, *, text: str = "", locale: str | None = None, tag: str | None = None,
    limit: int = 50, offset: int = 0,
) -> list[KnowledgeEntry]:
    """Published articles for the public help center, newest first; optional text filter."""
    query = select(KnowledgeEntry).where(KnowledgeEntry.status == EntryStatus.published.value)
    if locale:
        query = query.where(KnowledgeEntry.locale == locale)
    matches = contains_text(text, col(KnowledgeEntry.title), col(KnowledgeEntry.problem),
                            col(KnowledgeEntry.solution))
    if matches is not None:
        query = query.where(matches)
    query = query.order_by(col(KnowledgeEntry.title))
    if not tag:
        return list(session.exec(query.offset(offset).limit(limit)))
    # Tags are a JSON list: filter portably in Python (help-center sized KBs).
    wanted = tag.lower()
    tagged = [entry for entry in session.exec(query) if wanted in entry.tags]
    return tagged[offset : offset + limit]


def published_tags(session: Session, *, locale: str | None = None,
                   limit: int = 30) -> list[tuple[str, int]]:
    """The tags of published articles with how many articles carry each, most used
    first (the help center's topics)."""
    query = select(KnowledgeEntry.tags).where(
        KnowledgeEntry.status == EntryStatus.published.value)
    if locale:
        query = query.where(KnowledgeEntry.locale == locale)
    counts = Counter(tag for tags in session.exec(query) for tag in dict.fromkeys(tags))
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]


def history(session: Session, entry_id: object) -> list[KnowledgeEntryVersion]:
    return list(session.exec(
        select(KnowledgeEntryVersion).where(KnowledgeEntryVersion.entry_id == entry_id)
        .order_by(col(KnowledgeEntryVersion.version))
    ))


def as_record(entry: KnowledgeEntry) -> ArticleRecord:
    """The plain record retrieval works on; its id is the entry's UUID (citations use it)."""
    return ArticleRecord(
        id=str(entry.id), title=entry.title, problem=entry.problem, solution=entry.solution,
        tags=tuple(entry.tags), lang=entry.locale if entry.locale in ("en", "es") else "en",
        examples=tuple(entry.alternative_phrasings),
    )


def published_records(session: Session) -> list[ArticleRecord]:
    """Every published article, as records for the search index."""
    entries = session.exec(
        select(KnowledgeEntry).where(KnowledgeEntry.status == EntryStatus.published.value)
        .order_by(col(KnowledgeEntry.created_at), col(KnowledgeEntry.id))
    )
    return [as_record(entry) for entry in entries]


# -- editing one article ---------------------------------------------------------------

@dataclass(frozen=True)
class ArticleDraft:
    """What an editor submits for one article."""

    title: str
    problem: str = ""
    solution: str = ""
    tags: Sequence[str] = ()
    locale: str = "en"
    phrasings: Sequence[str] = ()
    status: str = EntryStatus.draft.value


def _clean_list(values: Sequence[str], *, lower: bool = False) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        text = " ".join(str(value).split())
        if text:
            seen.setdefault(text.lower() if lower else text, None)
    return list(seen)


def validate(draft: ArticleDraft) -> dict[str, object]:
    """The entry's columns from a draft, or InvalidInput naming every bad field."""
    errors: dict[str, str] = {}
    title = " ".join(draft.title.split())
    problem, solution = draft.problem.strip(), draft.solution.strip()
    if not title:
        errors["title"] = "A title is required."
    elif len(title) > MAX_TITLE_CHARS:
        errors["title"] = f"The title is longer than {MAX_TITLE_CHARS} characters."
    if not (problem or solution):
        errors["solution"] = "Write the problem or the solution (or both)."
    elif len(title) + len(problem) + len(solution) > MAX_ARTICLE_CHARS:
        errors["solution"] = f"The article is longer than {MAX_ARTICLE_CHARS} characters."
    if draft.locale not in SUPPORTED_LANGUAGES:
        errors["locale"] = f"Language must be one of: {', '.join(SUPPORTED_LANGUAGES)}."
    tags = _clean_list(draft.tags, lower=True)
    if len(tags) > MAX_TAGS or any(len(tag) > 40 for tag in tags):
        errors["tags"] = f"At most {MAX_TAGS} tags of up to 40 characters."
    phrasings = _clean_list(draft.phrasings)
    if len(phrasings) > MAX_PHRASINGS or any(len(p) > 500 for p in phrasings):
        errors["phrasings"] = f"At most {MAX_PHRASINGS} phrasings of up to 500 characters."
    if draft.status not in {status.value for status in EntryStatus}:
        errors["status"] = "Status must be draft or published."
    for name, value in (("title", title), ("problem", problem), ("solution", solution),
                        ("tags", tags), ("phrasings", phrasings)):
        errors.setdefault(name, unstorable_message(value, name) or "")
    errors = {name: message for name, message in errors.items() if message}
    if errors:
        raise InvalidInput("The article has errors.", fields=errors)
    return {"title": title, "problem": problem, "solution": solution, "tags": tags,
            "locale": draft.locale, "alternative_phrasings": phrasings, "status": draft.status}


def _mark_changed(session: Session) -> None:
    session.info["kb_changed"] = True


@sa.event.listens_for(Session, "after_commit")
def _reindex_after_commit(session: Session) -> None:
    if session.info.pop("kb_changed", False):
        from supportbot.jobs.reindex import schedule_reindex  # jobs import this module

        schedule_reindex()


@sa.event.listens_for(Session, "after_rollback")
def _forget_change(session: Session) -> None:
    session.info.pop("kb_changed", None)


def get_entry(session: Session, entry_id: object) -> KnowledgeEntry:
    return get_or_404(session, KnowledgeEntry, entry_id, "No such article.")


def _summary(entry: KnowledgeEntry) -> dict[str, object]:
    return {"title": entry.title, "version": entry.version, "status": entry.status}


def create_entry(session: Session, actor: Actor | None, draft: ArticleDraft, *,
                 source: EntrySource = EntrySource.manual) -> KnowledgeEntry:
    """A new article (version 1). Admins only."""
    require_role(actor, Role.admin)
    entry = KnowledgeEntry(source=source.value, created_by_id=getattr(actor, "id", None),
                           **validate(draft))
    session.add(entry)
    session.flush()
    _snapshot(session, entry, actor)
    audit.record(session, actor, "kb.create", "knowledge_entry", entry.id, after=_summary(entry))
    _mark_changed(session)
    return entry


def update_entry(session: Session, actor: Actor | None, entry_id: object,
                 draft: ArticleDraft, *, expected_version: int | None = None) -> KnowledgeEntry:
    """Save an edit as a new version. `expected_version` guards against overwriting an
    edit someone else saved meanwhile (Conflict)."""
    require_role(actor, Role.admin)
    entry = get_entry(session, entry_id)
    if expected_version is not None and entry.version != expected_version:
        raise Conflict(f"Someone saved version {entry.version} of this article meanwhile; "
                       "reload it before saving.")
    content = validate(draft)
    if all(getattr(entry, name) == value for name, value in content.items()):
        return entry
    before = _summary(entry)
    for name, value in content.items():
        setattr(entry, name, value)
    entry.version += 1
    entry.updated_at = utcnow()
    session.add(entry)
    session.flush()
    _snapshot(session, entry, actor)
    audit.record(session, actor, "kb.update", "knowledge_entry", entry.id, before=before,
                 after=_summary(entry))
    _mark_changed(session)
    return entry


def set_status(session: Session, actor: Actor | None, entry_id: object,
               status: EntryStatus) -> KnowledgeEntry:
    """Publish or unpublish (back to draft) the current version."""
    entry = get_entry(session, entry_id)
    draft = ArticleDraft(entry.title, entry.problem, entry.solution, entry.tags, entry.locale,
                         entry.alternative_phrasings, status.value)
    return update_entry(session, actor, entry.id, draft)


def delete_entry(session: Session, actor: Actor | None, entry_id: object) -> None:
    """Delete an article and its history; the audit log keeps what it was."""
    require_role(actor, Role.admin)
    entry = get_entry(session, entry_id)
    audit.record(session, actor, "kb.delete", "knowledge_entry", entry.id, before=_summary(entry))
    session.execute(sa.delete(KnowledgeEntryVersion)
                    .where(col(KnowledgeEntryVersion.entry_id) == entry.id))
    session.delete(entry)
    session.flush()
    _mark_changed(session)


def list_entries(session: Session, actor: Actor | None, *, text: str = "",
                 status: str | None = None, locale: str | None = None, limit: int = 50,
                 offset: int = 0) -> tuple[list[KnowledgeEntry], int]:
    """Every article, drafts too, most recently changed first (admins only)."""
    require_role(actor, Role.admin)
    query = select(KnowledgeEntry)
    if status:
        query = query.where(KnowledgeEntry.status == choice(EntryStatus, status, "status").value)
    if locale:
        query = query.where(KnowledgeEntry.locale == locale)
    matches = contains_text(text, col(KnowledgeEntry.title), col(KnowledgeEntry.problem),
                            col(KnowledgeEntry.solution))
    if matches is not None:
        query = query.where(matches)
    total = session.exec(select(sa.func.count()).select_from(query.subquery())).one()
    query = query.order_by(col(KnowledgeEntry.updated_at).desc(), col(KnowledgeEntry.id))
    return list(session.exec(query.offset(max(0, offset)).limit(max(1, min(limit, 200))))), int(total)


# -- the REST API's view: one list for every role, reindex jobs -------------------------

def list_articles(session: Session, actor: Actor | None, *, text: str = "",
                  tag: str | None = None, locale: str | None = None,
                  status: str | None = None, limit: int = 25,
                  offset: int = 0) -> tuple[list[KnowledgeEntry], int]:
    """Articles by title with the total that match. Admins see drafts too (and may filter
    by status); everyone else, anonymous included, sees published articles only and
    asking for drafts is PermissionDenied."""
    admin = has_role(actor, Role.admin)
    if status not in (None, EntryStatus.published.value) and not admin:
        raise PermissionDenied("Only admins see drafts.", fields={"status": "Only admins."})
    query = select(KnowledgeEntry)
    if status or not admin:
        query = query.where(KnowledgeEntry.status == choice(
            EntryStatus, status or EntryStatus.published.value, "status").value)
    if locale:
        query = query.where(KnowledgeEntry.locale == locale)
    matches = contains_text(text, col(KnowledgeEntry.title), col(KnowledgeEntry.problem),
                            col(KnowledgeEntry.solution))
    if matches is not None:
        query = query.where(matches)
    query = query.order_by(col(KnowledgeEntry.title), col(KnowledgeEntry.id))
    limit, offset = max(1, min(limit, 200)), max(0, offset)
    if tag:  # tags are a JSON list: filter portably in Python (help-center sized KBs)
        wanted = " ".join(tag.split()).lower()
        tagged = [entry for entry in session.exec(query) if wanted in entry.tags]
        return tagged[offset:offset + limit], len(tagged)
    total = session.exec(select(sa.func.count()).select_from(query.subquery())).one()
    return list(session.exec(query.offset(offset).limit(limit))), int(total)


def view_article(session: Session, actor: Actor | None, entry_id: object) -> KnowledgeEntry:
    """A published article for anyone; a draft only for admins (NotFound otherwise)."""
    entry = get_entry(session, entry_id)
    if entry.status != EntryStatus.published.value and not has_role(actor, Role.admin):
        raise NotFound("No such article.")
    return entry


def start_reindex(actor: Actor | None) -> str:
    """Queue a full rebuild of the search index (admins only); the job id."""
    require_role(actor, Role.admin)
    from supportbot.jobs.reindex import rebuild_index  # jobs import this module

    return enqueue(rebuild_index)


def reindex_status(actor: Actor | None, job_id: str) -> JobStatus:
    """The state of a reindex job (admins only); NotFound for unknown ids and for jobs
    that are not reindexes."""
    require_role(actor, Role.admin)
    from supportbot.jobs.reindex import rebuild_index

    status = job_status(job_id) if job_id and len(job_id) <= 64 else None
    if status is None or status.name != f"{rebuild_index.__module__}.{rebuild_index.__name__}":
        raise NotFound("No such reindex job.")
    return status
