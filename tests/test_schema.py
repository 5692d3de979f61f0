"""The migration history builds exactly the schema the models describe, on every backend."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect

from supportbot import schema
from supportbot.db import build_engine
from tests.conftest import BACKENDS, drop_postgres_database, empty_database_url

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(params=BACKENDS)
def empty_database(request, tmp_path):
    url = empty_database_url(request.param, tmp_path)
    yield url
    if request.param == "postgresql":
        drop_postgres_database(url)


def test_upgrade_head_matches_models(empty_database):
    schema.upgrade(empty_database)
    assert schema.differences(empty_database) == []
    engine = build_engine(empty_database)
    assert schema.current_revision(engine) == schema.head_revision()
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"users", "conversations", "messages", "tickets", "knowledge_entries",
            "knowledge_entry_versions", "feedback", "audit_log", "refresh_tokens"} <= tables


def test_downgrade_to_base_and_up_again(empty_database):
    schema.upgrade(empty_database)
    command.downgrade(schema.alembic_config(empty_database), "base")
    engine = build_engine(empty_database)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    schema.upgrade(empty_database)
    assert schema.differences(empty_database) == []


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="needs TEST_DATABASE_URL")
def test_create_database_makes_a_missing_postgresql_database_once():
    import secrets

    from sqlalchemy.engine import make_url

    from tests.conftest import TEST_DATABASE_URL

    name = f"supportbot_test_{secrets.token_hex(4)}"
    url = make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    try:
        assert schema.create_database(url) is True
        assert schema.create_database(url) is False  # already there: left as it is
        schema.upgrade(url)
        assert schema.differences(url) == []
    finally:
        drop_postgres_database(url)


def test_create_database_leaves_sqlite_to_its_first_connection(tmp_path):
    assert schema.create_database(f"sqlite:///{tmp_path / 'x.db'}") is False


def test_list_filters_are_indexed(migrated_database):
    engine = build_engine(migrated_database)
    inspector = inspect(engine)

    def indexed(table):
        return {column for index in inspector.get_indexes(table) for column in index["column_names"]}

    assert {"status", "priority", "queue", "assignee_id", "created_at"} <= indexed("tickets")
    assert {"status", "locale"} <= indexed("knowledge_entries")
    assert {"conversation_id", "created_at"} <= indexed("messages")
    assert {"role", "is_active"} <= indexed("users")
    engine.dispose()


@pytest.mark.app
def test_reflex_db_migrate_agrees(empty_database):
    """`reflex db migrate` applies the same history and finds nothing left to generate."""
    env = {**os.environ, "DATABASE_URL": empty_database, "REFLEX_TELEMETRY_ENABLED": "false",
           "REFLEX_CHECK_LATEST_VERSION": "false"}
    result = subprocess.run([sys.executable, "-m", "reflex", "db", "migrate"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Detected database schema changes" not in output
    engine = build_engine(empty_database)
    assert schema.current_revision(engine) == schema.head_revision()
    engine.dispose()
    assert schema.differences(empty_database) == []


def test_a_client_message_id_is_unique_per_conversation_and_nulls_repeat(session):
    """The migrated unique index on messages (conversation_id, client_id): one message per
    client id and conversation; messages without one (NULL) as many as there are."""
    import sqlalchemy.exc

    from supportbot.models import Conversation, Message

    one, two = Conversation(session_id="schema-one"), Conversation(session_id="schema-two")
    session.add_all([one, two])
    session.flush()
    session.add_all([Message(conversation_id=c.id, sender_type="user", text="hi",
                             client_id=client_id)
                     for c, client_id in ((one, None), (one, None), (one, "x"), (two, "x"),
                                          (two, None))])
    session.commit()
    session.add(Message(conversation_id=one.id, sender_type="user", text="hi", client_id="x"))
    with pytest.raises(sqlalchemy.exc.IntegrityError):
        session.commit()
    session.rollback()
    indexes = {i["name"]: i for i in inspect(session.get_bind()).get_indexes("messages")}
    index = indexes["ix_messages_conversation_id_client_id"]
    assert index["column_names"] == ["conversation_id", "client_id"] and index["unique"]
