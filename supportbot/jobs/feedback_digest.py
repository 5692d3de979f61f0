"""Background job: the feedback digest (services.feedback_digest), daily from the
scheduler and on demand from /admin/feedback."""

from __future__ import annotations

from supportbot.db import session_scope
from supportbot.jobs.queue import set_progress
from supportbot.services.permissions import SYSTEM


def digest_job() -> dict[str, object]:
    """Run the digest as the system; a summary for the job's status and the CLI (its
    stage and share done are in the job's meta while it runs)."""
    from supportbot.services.feedback_digest import run_digest

    with session_scope() as session:
        result = run_digest(session, SYSTEM, progress=lambda stage, done: set_progress(
            stage=stage, done=round(done, 3)))
        return {"cases": result.cases, "new_cases": result.new_cases,
                "suggestions": len(result.suggestions),
                "new_articles": sum(1 for s in result.suggestions if s.kind == "new_article"),
                "phrasings": sum(1 for s in result.suggestions if s.kind == "phrasings"),
                "dataset": str(result.dataset) if result.dataset else None}
