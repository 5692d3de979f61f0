import pytest

from supportbot.ai.index import build_index
from supportbot.ai.records import read_articles
from supportbot.ai.retriever import search
from supportbot.services import knowledge
from supportbot.services.permissions import SYSTEM
from tests.ai.conftest import KB_SMALL


@pytest.fixture
def searcher(session, embedder):
    """The chat's searcher over the small fixture KB, imported and published in `session`."""
    knowledge.import_articles(session, SYSTEM, read_articles(KB_SMALL))
    session.commit()
    index = build_index(knowledge.published_records(session), embedder)
    return lambda text: search(index, embedder, text)
