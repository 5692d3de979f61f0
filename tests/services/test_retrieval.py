"""The served index across a change of EMBEDDING_PRECISION: the old index keeps answering,
searched with vectors of its own kind, until the rebuild with the new kind is current."""

from supportbot.ai import store
from supportbot.ai.records import read_articles
from supportbot.config import get_settings
from supportbot.jobs.reindex import rebuild_index
from supportbot.services import knowledge, retrieval
from supportbot.services.permissions import SYSTEM
from tests.ai.conftest import KB_SMALL

OTHER = {"float32": "int8", "int8": "float32"}


def test_a_precision_change_keeps_the_old_index_serving_until_it_is_rebuilt(
        session, settings_env, monkeypatch, embedder):
    knowledge.import_articles(session, SYSTEM, read_articles(KB_SMALL))
    session.commit()
    rebuild_index()
    root = get_settings().effective_index_path
    assert retrieval.live_search("my vpn keeps failing").top.article.title == "VPN won't connect"
    retrieval.live_index(root).check_seconds = 0  # sees the rebuild at once, not within 1 s
    rebuilds = []
    monkeypatch.setattr("supportbot.jobs.reindex.schedule_reindex",
                        lambda: rebuilds.append(1) or "job")
    own, other = embedder.precision, OTHER[embedder.precision]
    settings_env(EMBEDDING_PRECISION=other)
    searched = []
    real_search = retrieval.search
    monkeypatch.setattr(retrieval, "search", lambda index, used, text, k: searched.append(
        (index.embedding_precision, used.precision)) or real_search(index, used, text, k=k))
    result = retrieval.live_search("my vpn keeps failing")
    assert result.top.article.title == "VPN won't connect" and rebuilds == [1]
    assert searched == [(own, own)]  # the old index, with query vectors of its own kind
    retrieval.live_search("printer offline")
    assert rebuilds == [1]  # asked for once per offending version
    rebuild_index()
    assert store.read_meta(root)["embedding_precision"] == other
    assert retrieval.live_search("my vpn keeps failing").top.article.title == \
        "VPN won't connect"
    assert searched[-1] == (other, other) and rebuilds == [1]


def test_an_int8_index_while_the_backend_is_torch_is_searched_with_float32(
        session, settings_env, monkeypatch):
    """int8 -> EMBEDDING_BACKEND=torch, float32: torch cannot make int8 vectors, so until
    the rebuild the old int8 index is searched with the same model's float32 ones."""
    settings_env(EMBEDDING_PRECISION="int8")
    knowledge.import_articles(session, SYSTEM, read_articles(KB_SMALL))
    session.commit()
    rebuild_index()
    assert retrieval.live_search("printer offline").top.article.title  # loaded: int8
    monkeypatch.setattr("supportbot.jobs.reindex.schedule_reindex", lambda: "job")
    settings_env(EMBEDDING_PRECISION="float32", EMBEDDING_BACKEND="torch")
    searched = []
    real_search = retrieval.search
    monkeypatch.setattr(retrieval, "search", lambda index, used, text, k: searched.append(
        (index.embedding_precision, used.backend, used.precision)) or real_search(
            index, used, text, k=k))
    result = retrieval.live_search("my vpn keeps failing")
    assert result.top.article.title == "VPN won't connect"
    assert searched == [("int8", "torch", "float32")]
