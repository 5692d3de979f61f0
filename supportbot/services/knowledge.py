"""Knowledge-base articles: import, publish state and version history.

Every save writes a `KnowledgeEntryVersion` snapshot, so an article's history can be
shown and restored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, or_, select

from supportbot.ai.records import ArticleRecord
from supportbot.models import (
    EntrySource,
    EntryStatus,
    KnowledgeEntry,
    KnowledgeEntryVersion,
    Role,
    utcnow,
)
from supportbot.services import audit
from supportbot.services.permissions import Actor, require_role

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
    needle = text.strip()
    if needle:
        literal = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{literal}%"
        query = query.where(or_(*(column.ilike(pattern, escape="\\") for column in (
            col(KnowledgeEntry.title), col(KnowledgeEntry.problem),
            col(KnowledgeEntry.solution)))))
    query = query.order_by(col(KnowledgeEntry.title))
    if not tag:
        return list(session.exec(query.offset(offset).limit(limit)))
    # Tags are a JSON list: filter portably in Python (help-center sized KBs).
    wanted = tag.lower()
    tagged = [entry for entry in session.exec(query) if wanted in entry.tags]
    return tagged[offset : offset + limit]


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
