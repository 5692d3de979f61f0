"""`/api/admin/suggestions/`: the feedback digest's KB suggestions, for admins to accept
(optionally edited), reject, or to run the digest now."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from supportbot.api.deps import CurrentUser, DbSession, Pagination
from supportbot.api.kb import ArticleOut, article_out
from supportbot.api.schemas import Page, UtcDatetime, error_responses
from supportbot.models import KbSuggestion, SuggestionKind, SuggestionStatus
from supportbot.services import feedback_digest

router = APIRouter(prefix="/api/admin/suggestions", tags=["admin"],
                   responses=error_responses(401, 403, 404, 409, 413, 422, 429))


class SuggestionOut(BaseModel):
    id: uuid.UUID
    kind: SuggestionKind = Field(description="new_article: accepting makes a draft; "
                                             "phrasings: adds them to `entry_id`.")
    status: SuggestionStatus
    title: str
    problem: str
    solution: str = Field(description="The agent's final reply (a new article's solution).")
    phrasings: list[str] = Field(description="How users asked it (personal data masked).")
    locale: str
    entry_id: uuid.UUID | None = Field(description="The existing article matched.")
    match_confidence: float | None
    cases: int = Field(description="Problem cases behind the suggestion.")
    created_at: UtcDatetime
    decided_at: UtcDatetime | None
    result_entry_id: uuid.UUID | None = Field(description="The draft made or the article "
                                                          "updated on acceptance.")


class SuggestionEditIn(BaseModel):
    """Changes to apply before accepting (omitted fields are kept)."""

    title: str | None = Field(default=None, max_length=200)
    problem: str | None = Field(default=None, max_length=20_000)
    solution: str | None = Field(default=None, max_length=20_000)
    phrasings: list[Annotated[str, Field(max_length=500)]] | None = Field(default=None,
                                                                         max_length=50)
    locale: Literal["en", "es"] | None = None

    def edit(self) -> feedback_digest.SuggestionEdit:
        return feedback_digest.SuggestionEdit(self.title, self.problem, self.solution,
                                              self.phrasings, self.locale)


class DigestJobOut(BaseModel):
    job_id: str
    state: str = Field(description="queued, started, finished or failed (RQ may also say "
                                   "deferred, scheduled, stopped or canceled).")
    enqueued_at: UtcDatetime | None = None
    started_at: UtcDatetime | None = None
    ended_at: UtcDatetime | None = None
    result: dict[str, Any] | None = Field(default=None, description="Once finished: cases, "
                                          "new_cases, suggestions, new_articles, phrasings, "
                                          "dataset (the JSONL file written).")
    error: str | None = None


class AcceptOut(BaseModel):
    suggestion: SuggestionOut
    article: ArticleOut


def suggestion_out(suggestion: KbSuggestion) -> SuggestionOut:
    return SuggestionOut(
        id=suggestion.id, kind=suggestion.kind, status=suggestion.status,
        title=suggestion.title, problem=suggestion.problem, solution=suggestion.solution,
        phrasings=list(suggestion.phrasings), locale=suggestion.locale,
        entry_id=suggestion.entry_id, match_confidence=suggestion.match_confidence,
        cases=len(suggestion.case_keys), created_at=suggestion.created_at,
        decided_at=suggestion.decided_at, result_entry_id=suggestion.result_entry_id)


def _job_out(job: Any) -> DigestJobOut:
    return DigestJobOut(job_id=job.id, state=job.state, enqueued_at=job.enqueued_at,
                      started_at=job.started_at, ended_at=job.ended_at,
                      result=job.result if isinstance(job.result, dict) else None,
                      error=job.error)


@router.get("/", response_model=Page[SuggestionOut])
def list_suggestions(user: CurrentUser, session: DbSession, pages: Pagination,
                     status: SuggestionStatus | None = SuggestionStatus.pending,  # noqa: A002
                     ) -> Page[SuggestionOut]:
    """Suggestions newest first (pending unless `status` says otherwise; admins)."""
    found, total = feedback_digest.list_suggestions(
        session, user, status=status.value if status else None, limit=pages.page_size,
        offset=pages.offset)
    return Page[SuggestionOut](items=[suggestion_out(s) for s in found], total=total,
                               page=pages.page, page_size=pages.page_size)


@router.post("/digest/", status_code=status.HTTP_202_ACCEPTED, response_model=DigestJobOut)
def start_digest(user: CurrentUser) -> DigestJobOut:
    """Run the feedback digest now, in the background (admins); it also runs daily."""
    return DigestJobOut(job_id=feedback_digest.start_digest(user), state="queued")


@router.get("/digest/{job_id}/", response_model=DigestJobOut)
def digest_status(job_id: str, user: CurrentUser) -> DigestJobOut:
    """Where a digest job is; its result counts cases and suggestions (admins)."""
    return _job_out(feedback_digest.digest_status(user, job_id))


@router.get("/{suggestion_id}/", response_model=SuggestionOut)
def get_suggestion(suggestion_id: str, user: CurrentUser, session: DbSession) -> SuggestionOut:
    """One suggestion (admins)."""
    return suggestion_out(feedback_digest.get_suggestion(session, user, suggestion_id))


@router.post("/{suggestion_id}/accept/", response_model=AcceptOut)
def accept(suggestion_id: str, user: CurrentUser, session: DbSession,
           body: SuggestionEditIn | None = None) -> AcceptOut:
    """Accept, with optional edits: a new draft article, or the phrasings added to the
    matched article (reindexed); 409 when already decided (admins)."""
    article = feedback_digest.accept(session, user, suggestion_id,
                                     body.edit() if body is not None else None)
    session.flush()
    suggestion = feedback_digest.get_suggestion(session, user, suggestion_id)
    return AcceptOut(suggestion=suggestion_out(suggestion), article=article_out(article))


@router.post("/{suggestion_id}/reject/", response_model=SuggestionOut)
def reject(suggestion_id: str, user: CurrentUser, session: DbSession) -> SuggestionOut:
    """Reject; its cases are not suggested again; 409 when already decided (admins)."""
    return suggestion_out(feedback_digest.reject(session, user, suggestion_id))
