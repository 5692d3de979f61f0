"""`/api/kb/`: the knowledge base. Everyone reads published articles; admins also see
drafts, and create, edit (with an optimistic lock: `expected_version`), delete and
rebuild the search index (a background job whose state can be followed)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from supportbot.api.deps import CurrentUser, DbSession, OptionalUser, Pagination
from supportbot.api.schemas import Page, UtcDatetime, error_responses
from supportbot.models import EntryStatus, KnowledgeEntry
from supportbot.services import feedback_review, knowledge

router = APIRouter(prefix="/api/kb", tags=["knowledge base"],
                   responses=error_responses(401, 403, 404, 409, 413, 422, 429))


class ArticleIn(BaseModel):
    title: str = Field(max_length=200)
    problem: str = Field(default="", max_length=20_000)
    solution: str = Field(default="", max_length=20_000)
    tags: list[Annotated[str, Field(max_length=40)]] = Field(default=[], max_length=20)
    locale: Literal["en", "es"] = "en"
    phrasings: list[Annotated[str, Field(max_length=500)]] = Field(
        default=[], max_length=50, description="Other ways people ask it.")
    status: EntryStatus = EntryStatus.draft

    def draft(self) -> knowledge.ArticleDraft:
        return knowledge.ArticleDraft(self.title, self.problem, self.solution, self.tags,
                                      self.locale, self.phrasings, self.status.value)


class ArticleUpdate(ArticleIn):
    expected_version: int = Field(ge=1, description="The version this edit was made on; "
                                                    "409 when someone saved another since.")


class ArticleOut(BaseModel):
    id: uuid.UUID
    title: str
    problem: str
    solution: str
    tags: list[str]
    locale: str
    phrasings: list[str]
    status: EntryStatus
    version: int
    created_at: UtcDatetime
    updated_at: UtcDatetime
    helpful: int = Field(default=0, description="Bot answers citing it rated helpful.")
    not_helpful: int = Field(default=0, description="... and rated not helpful.")


class ReindexOut(BaseModel):
    job_id: str
    state: str = Field(description="queued, started, finished or failed (RQ may also say "
                                   "deferred, scheduled, stopped or canceled).")
    enqueued_at: UtcDatetime | None = None
    started_at: UtcDatetime | None = None
    ended_at: UtcDatetime | None = None
    result: dict[str, Any] | None = Field(default=None, description="The new index version "
                                          "(articles, passages, ...) once finished.")
    error: str | None = None


def article_out(entry: KnowledgeEntry,
                ratings: feedback_review.ArticleRatings | None = None) -> ArticleOut:
    ratings = ratings or feedback_review.ArticleRatings()
    return ArticleOut(id=entry.id, title=entry.title, problem=entry.problem,
                      solution=entry.solution, tags=list(entry.tags), locale=entry.locale,
                      phrasings=list(entry.alternative_phrasings), status=entry.status,
                      version=entry.version, created_at=entry.created_at,
                      updated_at=entry.updated_at, helpful=ratings.helpful,
                      not_helpful=ratings.not_helpful)


@router.get("/", response_model=Page[ArticleOut])
def list_articles(
    user: OptionalUser,
    session: DbSession,
    pages: Pagination,
    q: Annotated[str, Query(max_length=200, description="Text in the title, problem or "
                                                        "solution.")] = "",
    tag: Annotated[str | None, Query(max_length=40)] = None,
    locale: Literal["en", "es"] | None = None,
    status: EntryStatus | None = Query(default=None, description="Drafts: admins only."),  # noqa: A002
) -> Page[ArticleOut]:
    """Articles by title: published ones for everyone, drafts too for admins."""
    found, total = knowledge.list_articles(
        session, user, text=q, tag=tag, locale=locale,
        status=status.value if status else None, limit=pages.page_size, offset=pages.offset)
    ratings = feedback_review.article_ratings(session, [e.id for e in found])
    return Page[ArticleOut](items=[article_out(e, ratings.get(str(e.id))) for e in found],
                            total=total, page=pages.page, page_size=pages.page_size)


@router.post("/", status_code=status.HTTP_201_CREATED, response_model=ArticleOut)
def create_article(body: ArticleIn, user: CurrentUser, session: DbSession) -> ArticleOut:
    """A new article, version 1 (admins). Published ones are searchable once indexed."""
    return article_out(knowledge.create_entry(session, user, body.draft()))


@router.post("/reindex/", status_code=status.HTTP_202_ACCEPTED, response_model=ReindexOut)
def start_reindex(user: CurrentUser) -> ReindexOut:
    """Rebuild the search index from every published article in the background (admins)."""
    return ReindexOut(job_id=knowledge.start_reindex(user), state="queued")


@router.get("/reindex/{job_id}/", response_model=ReindexOut)
def reindex_status(job_id: str, user: CurrentUser) -> ReindexOut:
    """Where a reindex job is: its state, times, and result or error (admins)."""
    job = knowledge.reindex_status(user, job_id)
    return ReindexOut(job_id=job.id, state=job.state, enqueued_at=job.enqueued_at,
                      started_at=job.started_at, ended_at=job.ended_at,
                      result=job.result if isinstance(job.result, dict) else None,
                      error=job.error)


@router.get("/{article_id}/", response_model=ArticleOut)
def get_article(article_id: str, user: OptionalUser, session: DbSession) -> ArticleOut:
    """One article (a draft only for admins), with its ratings."""
    entry = knowledge.view_article(session, user, article_id)
    return article_out(entry, feedback_review.ratings_of(session, entry.id))


@router.put("/{article_id}/", response_model=ArticleOut)
def update_article(article_id: str, body: ArticleUpdate, user: CurrentUser,
                   session: DbSession) -> ArticleOut:
    """Save an edit as the next version (admins); 409 if `expected_version` is stale."""
    entry = knowledge.update_entry(session, user, article_id, body.draft(),
                                   expected_version=body.expected_version)
    return article_out(entry, feedback_review.ratings_of(session, entry.id))


@router.delete("/{article_id}/", status_code=status.HTTP_204_NO_CONTENT)
def delete_article(article_id: str, user: CurrentUser, session: DbSession) -> None:
    """Delete an article and its history (admins); the audit log keeps what it was."""
    knowledge.delete_entry(session, user, article_id)
