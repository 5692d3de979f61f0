import dataclasses
import json

from supportbot.ai import store
from supportbot.ai.records import read_articles
from supportbot.ai.retriever import search
from supportbot.config import get_settings
from supportbot.jobs import queue
from supportbot.jobs.reindex import rebuild_index
from supportbot.models import EntryStatus
from supportbot.services import knowledge
from supportbot.services.permissions import SYSTEM
from tests.ai.conftest import KB_SMALL


def test_reindex_builds_from_published_entries_only(session, settings_env, tmp_path, embedder):
    settings_env(FAISS_INDEX_PATH=str(tmp_path / "index"))
    records = read_articles(KB_SMALL)
    knowledge.import_articles(session, SYSTEM, records[:8])
    knowledge.import_articles(session, SYSTEM, records[8:], status=EntryStatus.draft)
    session.commit()
    job_id = queue.enqueue(rebuild_index)
    queue.wait_in_process_jobs()
    status = queue.job_status(job_id)
    assert status.state == "finished", status.error
    assert status.result["articles"] == 8
    index = store.load(get_settings().effective_index_path, model_name="all-MiniLM-L6-v2",
                       dimension=384, precision=embedder.precision)
    top = search(index, embedder, "vpn keeps failing").top.article
    assert top.title == "VPN won't connect"
    entry = next(e for e in knowledge.list_published(session) if e.title == top.title)
    assert top.id == str(entry.id)  # citations point at database rows


def test_reindex_with_nothing_published_keeps_the_old_index(session, settings_env, tmp_path):
    settings_env(FAISS_INDEX_PATH=str(tmp_path / "index"))
    assert rebuild_index() == {"skipped": "no published article"}
    assert store.current_version(tmp_path / "index") is None


def test_reindex_if_changed_skips_an_up_to_date_index(session, settings_env, tmp_path):
    settings_env(FAISS_INDEX_PATH=str(tmp_path / "index"))
    knowledge.import_articles(session, SYSTEM, read_articles(KB_SMALL)[:2])
    session.commit()
    first = rebuild_index(if_changed=True)
    assert "skipped" not in first
    again = rebuild_index(if_changed=True)
    assert again["skipped"] == "the index is up to date" and again["version"] == first["version"]
    knowledge.import_articles(session, SYSTEM, read_articles(KB_SMALL)[2:3])
    session.commit()
    assert rebuild_index(if_changed=True)["articles"] == 3


def test_reindex_if_changed_upgrades_an_older_format_reusing_its_vectors(session, settings_env,
                                                                           tmp_path):
    import json

    settings_env(FAISS_INDEX_PATH=str(tmp_path / "index"))
    knowledge.import_articles(session, SYSTEM, read_articles(KB_SMALL)[:3])
    session.commit()
    first = rebuild_index(if_changed=True)
    meta_file = tmp_path / "index" / first["version"] / "meta.json"
    meta = json.loads(meta_file.read_text())
    meta_file.write_text(json.dumps({**meta, "format": 3}))  # format 3 still loads
    again = rebuild_index(if_changed=True)
    assert "skipped" not in again and again["format"] == store.FORMAT == 4
    assert again["embedded_passages"] == 0  # every vector came from the format 3 version


def test_editing_one_article_reembeds_only_its_passages(session, settings_env, tmp_path,
                                                        embedder):
    import dataclasses

    settings_env(FAISS_INDEX_PATH=str(tmp_path / "index"))
    records = read_articles(KB_SMALL)
    knowledge.import_articles(session, SYSTEM, records)
    session.commit()
    first = rebuild_index()
    assert first["embedded_passages"] == first["passages"]
    edited = dataclasses.replace(records[0], examples=(*records[0].examples, "vpn drops at 5pm"))
    knowledge.import_articles(session, SYSTEM, [edited])
    session.commit()
    second = rebuild_index()
    assert second["embedded_passages"] == 1 and second["passages"] == first["passages"] + 1
    index = store.load(get_settings().effective_index_path, model_name="all-MiniLM-L6-v2",
                       dimension=384, precision=embedder.precision)
    from supportbot.ai.embeddings import get_embedder

    assert search(index, get_embedder("all-MiniLM-L6-v2"),
                  "vpn drops at 5pm").top.article.title == "VPN won't connect"


def test_editing_through_the_service_updates_the_index_after_commit(session, embedder):
    """Create, edit, unpublish and delete one article: each commit schedules a rebuild
    that embeds only what changed; the index follows without an explicit reindex."""
    root = get_settings().effective_index_path

    def current():
        queue.wait_in_process_jobs()
        return store.load(root, model_name="all-MiniLM-L6-v2", dimension=384,
                          precision=embedder.precision)

    knowledge.import_articles(session, SYSTEM, read_articles(KB_SMALL))
    session.commit()
    rebuild_index()
    draft = knowledge.ArticleDraft(
        "Docking station not detected", "The laptop does not see the dock.",
        "Update the dock firmware and reconnect the USB-C cable.", ["dock"], "en",
        ["my dock stopped working"], "published")
    entry = knowledge.create_entry(session, SYSTEM, draft)
    assert store.read_meta(root)["articles"] == 10  # nothing happens before the commit
    session.commit()
    index = current()
    assert index.size == 11 and index.embedded_passages == 0  # loaded, not built
    assert store.read_meta(root)["articles"] == 11
    assert search(index, embedder, "my dock stopped working").top.article.id == str(entry.id)

    knowledge.update_entry(session, SYSTEM, entry.id, dataclasses.replace(
        draft, phrasings=["my dock stopped working", "external monitors via dock are black"]))
    session.commit()
    assert search(current(), embedder, "external monitors via dock are black"
                  ).top.article.id == str(entry.id)

    knowledge.set_status(session, SYSTEM, entry.id, EntryStatus.draft)
    session.commit()
    assert str(entry.id) not in current().positions
    knowledge.set_status(session, SYSTEM, entry.id, EntryStatus.published)
    session.commit()
    assert str(entry.id) in current().positions
    knowledge.delete_entry(session, SYSTEM, entry.id)
    session.commit()
    assert str(entry.id) not in current().positions and current().size == 10


def test_a_rolled_back_edit_schedules_nothing(session):
    knowledge.import_articles(session, SYSTEM, read_articles(KB_SMALL)[:2])
    session.commit()
    rebuild_index()
    version = store.current_version(get_settings().effective_index_path)
    knowledge.create_entry(session, SYSTEM, knowledge.ArticleDraft("Dock", "No dock."))
    session.rollback()
    session.commit()
    queue.wait_in_process_jobs()
    assert store.current_version(get_settings().effective_index_path) == version


OTHER = {"float32": "int8", "int8": "float32"}


def test_a_precision_change_rebuilds_without_reusing_vectors(session, settings_env, tmp_path,
                                                             embedder):
    settings_env(FAISS_INDEX_PATH=str(tmp_path / "index"))
    knowledge.import_articles(session, SYSTEM, read_articles(KB_SMALL))
    session.commit()
    first = rebuild_index()
    assert first["embedding_precision"] == embedder.precision
    assert rebuild_index(if_changed=True)["skipped"] == "the index is up to date"
    other = OTHER[embedder.precision]
    settings_env(EMBEDDING_PRECISION=other)
    second = rebuild_index(if_changed=True)  # same KB and model: not up to date all the same
    assert "skipped" not in second and second["embedding_precision"] == other
    # every passage embedded afresh: none of the other kind's vectors were reused
    assert second["embedded_passages"] == second["passages"] == first["passages"]
    root = get_settings().effective_index_path
    index = store.load(root, model_name="all-MiniLM-L6-v2", dimension=384, precision=other)
    assert index.embedding_precision == other
    # and back: a rebuild again, and now reuse within the same kind works
    settings_env(EMBEDDING_PRECISION=embedder.precision)
    assert rebuild_index(if_changed=True)["embedded_passages"] == first["passages"]
    assert rebuild_index()["embedded_passages"] == 0


def test_an_index_of_an_older_format_is_rebuilt_even_if_up_to_date(session, settings_env,
                                                                  tmp_path):
    settings_env(FAISS_INDEX_PATH=str(tmp_path / "index"))
    knowledge.import_articles(session, SYSTEM, read_articles(KB_SMALL)[:2])
    session.commit()
    first = rebuild_index()
    meta_file = tmp_path / "index" / first["version"] / "meta.json"
    meta = json.loads(meta_file.read_text())
    meta_file.write_text(json.dumps({**meta, "format": store.FORMAT - 1}))
    again = rebuild_index(if_changed=True)
    assert "skipped" not in again and again["format"] == store.FORMAT
