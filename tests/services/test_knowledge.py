import pytest
from sqlmodel import select

from supportbot.ai.records import ArticleRecord
from supportbot.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from supportbot.models import AuditLog, EntryStatus, KnowledgeEntry
from supportbot.services import knowledge
from supportbot.services.permissions import SYSTEM

VPN = ArticleRecord("kb-vpn", "VPN does not connect", "The VPN client times out.",
                    "1. Restart the client.\n2. Check your token.", ("vpn", "network"), "en",
                    ("vpn broken", "cannot reach vpn"))
PRINTER = ArticleRecord("kb-imp", "La impresora no imprime", "Aparece sin conexión.",
                        "1. Reinicia la impresora.", ("printer",), "es")


def test_import_creates_then_leaves_unchanged(session):
    first = knowledge.import_articles(session, SYSTEM, [VPN, PRINTER])
    session.commit()
    assert (first.created, first.updated, first.unchanged) == (2, 0, 0)
    again = knowledge.import_articles(session, SYSTEM, [VPN, PRINTER])
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    entry = session.exec(select(KnowledgeEntry).where(KnowledgeEntry.external_id == "kb-vpn")).one()
    assert entry.alternative_phrasings == ["vpn broken", "cannot reach vpn"]
    assert entry.status == EntryStatus.published.value and entry.version == 1


def test_changed_record_becomes_a_new_version_with_history(session):
    knowledge.import_articles(session, SYSTEM, [VPN])
    session.commit()
    edited = ArticleRecord(**{**VPN.__dict__, "solution": "1. Update the client."})
    result = knowledge.import_articles(session, SYSTEM, [edited])
    session.commit()
    assert result.updated == 1
    entry = session.exec(select(KnowledgeEntry)).one()
    assert entry.version == 2
    versions = knowledge.history(session, entry.id)
    assert [(v.version, v.solution) for v in versions] == [
        (1, VPN.solution), (2, "1. Update the client.")]
    actions = [row.action for row in session.exec(select(AuditLog))]
    assert actions.count("kb.create") == 1 and actions.count("kb.update") == 1


def test_import_is_admin_only(session, make_user):
    with pytest.raises(PermissionDenied):
        knowledge.import_articles(session, make_user("alice"), [VPN])


def test_list_published_filters(session):
    knowledge.import_articles(session, SYSTEM, [VPN, PRINTER])
    knowledge.import_articles(session, SYSTEM, [ArticleRecord("kb-draft", "Draft VPN notes")],
                              status=EntryStatus.draft)
    session.commit()
    titles = lambda **kw: [e.title for e in knowledge.list_published(session, **kw)]  # noqa: E731
    assert titles() == ["La impresora no imprime", "VPN does not connect"]
    assert titles(text="vpn") == ["VPN does not connect"]
    assert titles(text="REINICIA") == ["La impresora no imprime"]
    assert titles(locale="es") == ["La impresora no imprime"]
    assert titles(tag="network") == ["VPN does not connect"]
    assert titles(tag="network", offset=1) == []
    assert titles(text="%") == []  # no wildcard injection through the search box


def test_published_tags_count_articles_per_topic(session):
    knowledge.import_articles(session, SYSTEM, [VPN, PRINTER])
    knowledge.import_articles(session, SYSTEM, [ArticleRecord(
        "kb-draft", "Draft VPN notes", tags=("network", "secret"))], status=EntryStatus.draft)
    session.commit()
    tags = dict(knowledge.published_tags(session))
    assert "secret" not in tags  # drafts are not topics
    assert tags["network"] == 1 and all(count >= 1 for count in tags.values())
    assert set(dict(knowledge.published_tags(session, locale="es"))) == set(PRINTER.tags)
    ranked = knowledge.published_tags(session)
    assert ranked == sorted(ranked, key=lambda item: (-item[1], item[0]))


def draft(**changes):
    values = {"title": "Laptop battery drains fast", "problem": "The battery lasts an hour.",
              "solution": "Lower the screen brightness and close heavy apps.",
              "tags": ["Laptop", "battery", "laptop"], "locale": "en",
              "phrasings": ["battery dies quickly", "  battery dies   quickly "],
              "status": "published"}
    return knowledge.ArticleDraft(**{**values, **changes})


def test_create_cleans_the_draft_and_keeps_version_one(session):
    entry = knowledge.create_entry(session, SYSTEM, draft())
    session.commit()
    assert entry.tags == ["laptop", "battery"]
    assert entry.alternative_phrasings == ["battery dies quickly"]
    assert entry.version == 1 and [v.version for v in knowledge.history(session, entry.id)] == [1]


def test_invalid_drafts_name_every_bad_field(session):
    with pytest.raises(InvalidInput) as caught:
        knowledge.create_entry(session, SYSTEM, draft(title=" ", problem="", solution="",
                                                      locale="fr", status="live"))
    assert set(caught.value.fields) == {"title", "solution", "locale", "status"}
    with pytest.raises(InvalidInput) as caught:
        knowledge.create_entry(session, SYSTEM, draft(title="x" * 201))
    assert set(caught.value.fields) == {"title"}


def test_only_admins_edit_articles(session, make_user):
    from supportbot.models import Role

    agent = make_user("agent1", role=Role.agent)
    with pytest.raises(PermissionDenied):
        knowledge.create_entry(session, agent, draft())


def test_update_publish_and_stale_edits(session):
    entry = knowledge.create_entry(session, SYSTEM, draft(status="draft"))
    session.commit()
    same = knowledge.update_entry(session, SYSTEM, entry.id, draft(status="draft"))
    assert same.version == 1  # nothing changed, no new version
    knowledge.set_status(session, SYSTEM, entry.id, EntryStatus.published)
    assert entry.version == 2 and entry.status == "published"
    with pytest.raises(Conflict):
        knowledge.update_entry(session, SYSTEM, entry.id, draft(title="Old view"),
                               expected_version=1)
    knowledge.update_entry(session, SYSTEM, entry.id, draft(title="Battery drains"),
                           expected_version=2)
    session.commit()
    assert [v.title for v in knowledge.history(session, entry.id)] == [
        "Laptop battery drains fast", "Laptop battery drains fast", "Battery drains"]


def test_delete_removes_the_article_and_audits_it(session):
    entry = knowledge.create_entry(session, SYSTEM, draft())
    session.commit()
    entry_id = entry.id
    knowledge.delete_entry(session, SYSTEM, entry_id)
    session.commit()
    with pytest.raises(NotFound):
        knowledge.get_entry(session, entry_id)
    assert knowledge.history(session, entry_id) == []
    actions = session.exec(select(AuditLog.action).where(AuditLog.target_id == str(entry_id)))
    assert sorted(actions) == ["kb.create", "kb.delete"]
    with pytest.raises(NotFound):
        knowledge.get_entry(session, "not-a-uuid")


def test_admins_list_drafts_and_published_with_filters(session):
    knowledge.create_entry(session, SYSTEM, draft(title="Battery drains", status="draft"))
    knowledge.create_entry(session, SYSTEM, draft(title="Batería se agota", locale="es"))
    session.commit()
    everything, total = knowledge.list_entries(session, SYSTEM)
    assert total == 2 and {e.title for e in everything} == {"Battery drains", "Batería se agota"}
    assert [e.title for e in knowledge.list_entries(session, SYSTEM, status="draft")[0]] == [
        "Battery drains"]
    assert knowledge.list_entries(session, SYSTEM, locale="es")[1] == 1
    assert knowledge.list_entries(session, SYSTEM, text="agota")[1] == 1
    assert knowledge.list_entries(session, SYSTEM, text="100%")[1] == 0


def test_only_admins_list_every_article(session, make_user):
    from supportbot.models import Role

    with pytest.raises(PermissionDenied):
        knowledge.list_entries(session, make_user("agent1", role=Role.agent))
