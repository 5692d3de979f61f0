import shutil

import pytest
from sqlmodel import select

from supportbot.ai import store
from supportbot.ai.embeddings import resolve_model_path
from supportbot.ai.model_store import BASE
from supportbot.ai.records import read_articles
from supportbot.config import get_settings
from supportbot.errors import InvalidInput, PermissionDenied
from supportbot.models import AuditLog, Conversation, Feedback, Message, Role
from supportbot.services import finetune, knowledge
from supportbot.services.permissions import SYSTEM
from supportbot.services.retrieval import embedding_model_name, live_search
from tests.ai.conftest import KB_SMALL


@pytest.fixture
def small_kb(session):
    knowledge.import_articles(session, SYSTEM, read_articles(KB_SMALL))
    session.commit()
    return knowledge.published_records(session)


def _rigged(monkeypatch, candidate_mrr: float) -> None:
    """The in-use model scores MRR 0.8 on dev; the new one `candidate_mrr`."""
    calls = []

    def evaluate(embedder, articles, dev):
        calls.append(embedder.name)
        mrr = 0.8 if len(calls) % 2 == 1 else candidate_mrr
        return {"mrr": mrr, "recall_at_1": mrr, "n_answerable": len(dev)}

    monkeypatch.setattr(finetune, "evaluate", evaluate)


def test_a_better_model_is_activated_and_the_index_rebuilt_with_it(
        session, small_kb, monkeypatch, make_user):
    admin = make_user("root", role=Role.admin)
    _rigged(monkeypatch, candidate_mrr=0.9)
    progress = []
    outcome = finetune.run_finetune(progress=lambda stage, done: progress.append(stage),
                                    actor_id=str(admin.id))
    assert outcome["activated"] and "activated" in outcome["reason"]
    versions = finetune.model_versions()
    assert versions.active() == outcome["version"]
    assert embedding_model_name() == versions.model_name(outcome["version"])
    meta = store.read_meta(get_settings().effective_index_path)
    assert meta["model_name"] == embedding_model_name()  # rebuilt with the new model
    # whose vectors are of the configured kind, as the shipped model's are
    assert meta["embedding_precision"] == get_settings().embedding_precision
    assert live_search("my vpn will not connect").top.article.title == "VPN won't connect"
    assert {"train", "evaluate", "reindex"} <= set(progress)
    [row] = [r for r in versions.versions() if r["version"] == outcome["version"]]
    assert row["dev_queries"] == 10 and row["pairs"] == 20  # 1 of 3 phrasings held out
    audit = session.exec(select(AuditLog).where(AuditLog.action == "model.activate")).one()
    assert audit.actor_id == admin.id and audit.target_id == outcome["version"]


def test_a_model_that_is_not_better_is_kept_but_not_activated(session, small_kb, monkeypatch):
    _rigged(monkeypatch, candidate_mrr=0.8)
    outcome = finetune.run_finetune()
    assert not outcome["activated"] and "kept the old one" in outcome["reason"]
    assert finetune.model_versions().active() == BASE
    assert outcome["version"] in {row["version"] for row in finetune.describe()}
    assert store.current_version(get_settings().effective_index_path) is None  # no rebuild


def test_rollback_returns_to_the_previous_model_and_reindexes(session, small_kb, monkeypatch,
                                                             make_user):
    _rigged(monkeypatch, candidate_mrr=0.95)
    outcome = finetune.run_finetune()
    with pytest.raises(PermissionDenied):
        finetune.rollback(session, make_user("plain"))
    line = finetune.rollback(session, make_user("boss", role=Role.admin))
    assert line == {**line, "version": BASE, "previous": outcome["version"]}
    from supportbot.jobs.queue import wait_in_process_jobs

    wait_in_process_jobs()
    meta = store.read_meta(get_settings().effective_index_path)
    assert meta["model_name"] == "all-MiniLM-L6-v2"
    again = finetune.rollback(session, None)  # rollback undoes the rollback
    assert (again["version"], again["previous"]) == (outcome["version"], BASE)


def test_rollback_with_no_earlier_version_is_refused(session):
    with pytest.raises(InvalidInput, match="no earlier model"):
        finetune.rollback(session, None)


def test_the_old_index_keeps_serving_until_the_new_models_index_is_current(
        session, small_kb, monkeypatch):
    from supportbot.jobs.reindex import rebuild_index

    rebuild_index()
    assert live_search("printer offline").top.article.title
    versions = finetune.model_versions()
    folder = versions.new_folder()
    shutil.copytree(resolve_model_path("all-MiniLM-L6-v2"), folder, dirs_exist_ok=True)
    version = versions.keep(folder, {"reason": "copy"})
    rebuilds = []
    monkeypatch.setattr("supportbot.jobs.reindex.schedule_reindex",
                        lambda: rebuilds.append(1) or "job")
    versions.activate(version, "test")
    result = live_search("printer offline")  # the index on disk is the old model's
    assert result.top.article.title and rebuilds == [1]  # served, and a rebuild asked for
    rebuild_index()
    assert store.read_meta(get_settings().effective_index_path)["model_name"] == \
        versions.model_name(version)
    assert live_search("printer offline").top.article.title


def test_too_small_a_kb_is_refused_with_a_reason(session):
    knowledge.import_articles(session, SYSTEM, [
        a.__class__(**{**a.__dict__, "examples": a.examples[:2]})
        for a in read_articles(KB_SMALL)])
    session.commit()
    with pytest.raises(InvalidInput, match="more alternative phrasings"):
        finetune.run_finetune()


def test_validated_pairs_come_from_answers_marked_helpful(session, small_kb):
    article = small_kb[0]
    conversation = Conversation(session_id="s" * 40)
    session.add(conversation)
    session.flush()
    question = Message(conversation_id=conversation.id, sender_type="user",
                       text="vpn dead after update")
    session.add(question)
    session.flush()
    answer = Message(conversation_id=conversation.id, sender_type="bot", is_bot=True,
                     text="Try this", citations=[{"id": article.id, "title": article.title}])
    unhelpful = Message(conversation_id=conversation.id, sender_type="bot", is_bot=True,
                        text="Or this", citations=[{"id": article.id}])
    session.add_all([answer, unhelpful])
    session.flush()
    session.add_all([Feedback(conversation_id=conversation.id, message_id=answer.id, rating=1),
                     Feedback(conversation_id=conversation.id, message_id=unhelpful.id,
                              rating=-1)])
    session.commit()
    assert finetune.validated_pairs(session) == [
        finetune.finetune.Pair("vpn dead after update", article.id)]
