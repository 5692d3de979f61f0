"""Backup and restore round trip: back up, wipe everything, restore, same tickets and
same answers (SQLite always; PostgreSQL with TEST_DATABASE_URL, through pg_dump)."""

import shutil
import tarfile

import pytest
from sqlalchemy import text
from sqlmodel import Session, SQLModel, select
from typer.testing import CliRunner

from supportbot import cli
from supportbot.ai.model_store import BASE, ModelVersions
from supportbot.ai.records import read_articles
from supportbot.ai.store import current_version
from supportbot.config import get_settings
from supportbot.db import engine_for
from supportbot.jobs.reindex import rebuild_index
from supportbot.models import Message, Ticket
from supportbot.services import backup, chat, knowledge, retrieval
from supportbot.services.permissions import SYSTEM
from tests.ai.conftest import KB_SMALL

runner = CliRunner()


def _tickets(url):
    with Session(engine_for(url)) as session:
        return sorted((t.reference, t.title, t.status, t.priority, t.handoff_note)
                      for t in session.exec(select(Ticket)).all())


def _messages(url):
    with Session(engine_for(url)) as session:
        return sorted((m.text, m.sender_type) for m in session.exec(select(Message)).all())


def _answer(url, question):
    retrieval.live_index.cache_clear()  # as a freshly started process
    with Session(engine_for(url), expire_on_commit=False) as session:
        conversation = chat.start_conversation(session)
        reply = chat.send_message(session, conversation.session_id, question, generator=None)
        return reply.bot_message.text, reply.citations


def _wipe(url):
    engine = engine_for(url)
    SQLModel.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    settings = get_settings()
    shutil.rmtree(settings.effective_index_path)
    shutil.rmtree(settings.effective_models_path)


def test_back_up_wipe_and_restore_gives_the_same_tickets_and_answers(
        database, session, embedder, tmp_path):
    if database.startswith("postgresql") and not shutil.which("pg_dump"):
        pytest.fail("pg_dump is missing: `make test` installs Debian's postgresql-client")
    knowledge.import_articles(session, SYSTEM, read_articles(KB_SMALL))
    session.commit()
    rebuild_index()
    settings = get_settings()
    versions = ModelVersions(settings.effective_models_path, settings.embedding_model_name)
    trained = versions.new_folder()
    (trained / "weights.bin").write_bytes(b"\x00" * 64)
    name = versions.keep(trained, {"model_name": "tiny", "reason": "test"})
    versions.activate(name, "better on dev")
    versions.activate(BASE, "rolled back")
    conversation = chat.start_conversation(session)
    chat.send_message(session, conversation.session_id, "I want to talk to a person",
                      request_human=True, generator=None)
    question = "my vpn keeps failing"
    answer_before = _answer(database, question)
    tickets_before, messages_before = _tickets(database), _messages(database)
    index_before = current_version(settings.effective_index_path)
    assert tickets_before and answer_before[1]

    made = runner.invoke(cli.app, ["backup", "--output", str(tmp_path / "backups")])
    assert made.exit_code == 0, made.output
    archive = next((tmp_path / "backups").glob("supportbot-backup-*.tar.gz"))
    manifest = backup.read_manifest(archive)
    assert manifest["index_version"] == index_before and manifest["active_model"] == BASE
    assert manifest["database"] == ("sqlite" if database.startswith("sqlite") else "postgresql")

    _wipe(database)
    with pytest.raises(Exception):  # noqa: B017 - the tables are gone
        _tickets(database)

    restored = runner.invoke(cli.app, ["restore", str(archive), "--yes"])
    assert restored.exit_code == 0, restored.output
    assert _tickets(database) == tickets_before
    assert _messages(database) == [*messages_before]
    assert current_version(settings.effective_index_path) == index_before
    assert [row["version"] for row in versions.versions()] == [BASE, name]
    assert [line["version"] for line in versions.history()] == [name, BASE]
    assert _answer(database, question) == answer_before


def test_a_file_that_is_not_a_backup_is_refused(database, tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    archive = tmp_path / "other.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "notes.txt", arcname="notes.txt")
    with pytest.raises(backup.BackupError, match="not a SupportBot backup"):
        backup.restore(archive)
