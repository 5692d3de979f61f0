"""Admins review what users marked unhelpful and turn it into knowledge.

Each unhelpful answer comes with its context: what the user asked, what the bot answered
and cited, the user's comment, and, when people took over, what the agents replied. Turning
it into a KB entry creates a draft (source `feedback`) with the question as the problem and
a phrasing, and the agents' replies as the solution to edit; publishing it is the admin's
call in the KB editor. Dismissing it just marks it reviewed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, select

from supportbot.errors import Conflict
from supportbot.models import (
    EntrySource,
    Feedback,
    KnowledgeEntry,
    Message,
    Role,
    SenderType,
    utcnow,
)
from supportbot.services import audit, knowledge
from supportbot.services.lookup import get_or_404
from supportbot.services.permissions import Actor, require_role


@dataclass(frozen=True)
class FeedbackItem:
    feedback: Feedback
    question: str
    answer: str
    cited: list[str]
    agent_replies: list[str]
    language: str


def _context(session: Session, feedback: Feedback) -> FeedbackItem:
    messages = list(session.exec(
        select(Message).where(Message.conversation_id == feedback.conversation_id,
                              col(Message.is_internal).is_(False))
        .order_by(col(Message.created_at), col(Message.id))))
    answer = next((m for m in messages if m.id == feedback.message_id), None)
    # Messages up to the answer (in stored order: timestamps may be naive on SQLite).
    cut = messages.index(answer) + 1 if answer is not None else len(messages)
    before = messages[:cut]
    question = next((m.text for m in reversed(before)
                     if m.sender_type == SenderType.user.value), "")
    replies = [m.text for m in messages if m.sender_type == SenderType.agent.value]
    language = str(answer.meta.get("language") or "en") if answer else "en"
    return FeedbackItem(feedback, question, answer.text if answer else "",
                        [str(c.get("title", "")) for c in (answer.citations if answer else [])],
                        replies, language)


def pending(session: Session, actor: Actor, *, limit: int = 50) -> list[FeedbackItem]:
    """Unreviewed negative feedback, newest first, with its conversation."""
    require_role(actor, Role.admin)
    rows = session.exec(select(Feedback).where(Feedback.rating == -1,
                                               col(Feedback.reviewed_at).is_(None))
                        .order_by(col(Feedback.created_at).desc()).limit(limit))
    return [_context(session, row) for row in rows]


def dismiss(session: Session, actor: Actor, feedback_id: object) -> Feedback:
    require_role(actor, Role.admin)
    feedback = get_or_404(session, Feedback, feedback_id, "No such feedback.")
    feedback.reviewed_at = utcnow()
    session.add(feedback)
    audit.record(session, actor, "feedback.dismiss", "feedback", feedback.id)
    return feedback


def to_kb_draft(session: Session, actor: Actor, feedback_id: object) -> KnowledgeEntry:
    """A draft article from the feedback's conversation; the feedback is marked reviewed."""
    require_role(actor, Role.admin)
    feedback = get_or_404(session, Feedback, feedback_id, "No such feedback.")
    if feedback.knowledge_entry_id is not None:
        raise Conflict("This feedback was already turned into an article.")
    item = _context(session, feedback)
    question = " ".join(item.question.split())
    title = question[:120] or "Article from feedback"
    solution = "\n\n".join(item.agent_replies) or (
        f"(Write the answer. The bot answered with: {', '.join(item.cited) or 'nothing'}. "
        f"User's comment: {feedback.comment or '-'})")
    entry = knowledge.create_entry(session, actor, knowledge.ArticleDraft(
        title=title, problem=question, solution=solution, tags=["feedback"],
        locale=item.language if item.language in ("en", "es") else "en",
        phrasings=[question] if question else [], status="draft"),
        source=EntrySource.feedback)
    feedback.reviewed_at = utcnow()
    feedback.knowledge_entry_id = entry.id
    session.add(feedback)
    return entry


@dataclass(frozen=True)
class ArticleRatings:
    helpful: int = 0
    not_helpful: int = 0


def article_ratings(session: Session, entry_ids: Iterable[object]) -> dict[str, ArticleRatings]:
    """Helpful / not-helpful ratings of the bot answers that cited each article, by the
    article's id (string); articles never rated are left out."""
    wanted = {str(entry_id) for entry_id in entry_ids}
    if not wanted:
        return {}
    counts: dict[str, list[int]] = {}
    rows = session.exec(select(Feedback.rating, Message.citations)
                        .join(Message, col(Message.id) == col(Feedback.message_id)))
    for rating, citations in rows:
        for article_id in {str(c.get("id")) for c in citations or []} & wanted:
            pair = counts.setdefault(article_id, [0, 0])
            pair[0 if rating > 0 else 1] += 1
    return {article_id: ArticleRatings(*pair) for article_id, pair in counts.items()}


def ratings_of(session: Session, entry_id: uuid.UUID | str) -> ArticleRatings:
    return article_ratings(session, [entry_id]).get(str(entry_id), ArticleRatings())
