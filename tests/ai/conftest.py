from pathlib import Path

import pytest

from supportbot.ai.index import build_index
from supportbot.ai.records import read_articles

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
KB_SMALL = FIXTURES / "kb_small.jsonl"
QUERIES_SMALL = FIXTURES / "queries_small.jsonl"


@pytest.fixture(scope="session")
def articles():
    return read_articles(KB_SMALL)


@pytest.fixture(scope="session")
def small_index(articles, embedder):
    return build_index(articles, embedder)
