"""The public article page's state: what a visitor reads on `/kb/<id>`."""

from supportbot.services import knowledge
from supportbot.services.permissions import SYSTEM
from supportbot.ui.pages.help_center import ArticleState
from tests.ui.states import page_state, run
from tests.ui.test_admin_states import rate


def article_page(entry_id):
    return page_state(ArticleState, route="/kb/[article_id]", path=f"/kb/{entry_id}",
                      params={"article_id": str(entry_id)})


async def test_an_article_shows_how_many_found_its_answer_helpful(session):
    rated = knowledge.create_entry(session, SYSTEM, knowledge.ArticleDraft(
        title="Reset a forgotten password", solution="Use the reset link.", status="published"))
    fresh = knowledge.create_entry(session, SYSTEM, knowledge.ArticleDraft(
        title="Mailbox is full", solution="Empty the deleted items.", status="published"))
    draft = knowledge.create_entry(session, SYSTEM, knowledge.ArticleDraft(
        title="Secret draft", solution="Not yet.", status="draft"))
    session.commit()
    rate(session, rated, [1, 1, 1, -1])
    rate(session, draft, [1])
    state = article_page(rated.id)
    await run(state.load())
    assert state.found and (state.helpful, state.rated) == (3, 4)
    other = article_page(fresh.id)
    other.helpful, other.rated = 3, 4  # what the previous article left
    await run(other.load())
    assert other.found and (other.helpful, other.rated) == (0, 0)
    hidden = article_page(draft.id)
    await run(hidden.load())
    assert not hidden.found and hidden.rated == 0  # a draft shows nothing, not even ratings
