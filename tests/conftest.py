"""Shared fixtures.

Database tests run on SQLite always, and also on PostgreSQL when TEST_DATABASE_URL is set
(a server URL; each run creates and drops its own database there). Redis tests use
TEST_REDIS_URL (its own db number). If either is set but unreachable the run stops with an
error instead of skipping.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path

# Settings for every test, before anything imports supportbot.config.
_TMP = Path(tempfile.mkdtemp(prefix="supportbot-tests-"))
os.environ.update({
    "APP_ENV": "development",
    "SECRET_KEY": "test-secret-key-" + secrets.token_hex(16),
    "ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
    "DATA_DIR": str(_TMP / "data"),
    # One ONNX export of the embedding model for the whole run, the live apps and the
    # commands the tests start included (it is keyed by the model's content).
    "EMBEDDING_CACHE_PATH": str(_TMP / "embedding-cache"),
    "DATABASE_URL": f"sqlite:///{_TMP / 'default.db'}",
    "REDIS_URL": "",
    "HF_HUB_OFFLINE": "1",
    "GENERATOR_MODEL_NAME": "none",  # tests that need the generator turn it on
})

import pytest  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import Session, SQLModel  # noqa: E402

from supportbot import schema  # noqa: E402
from supportbot.config import get_settings  # noqa: E402
from supportbot.db import build_engine, engine_for  # noqa: E402
from supportbot.models import Role, User  # noqa: E402
from supportbot.services import accounts  # noqa: E402
from supportbot.services.permissions import SYSTEM  # noqa: E402

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
BACKENDS = ["sqlite", "postgresql"] if TEST_DATABASE_URL else ["sqlite"]
PASSWORD = "a long enough passphrase"


def pytest_sessionstart(session: pytest.Session) -> None:
    problems = []
    if TEST_DATABASE_URL:
        engine = build_engine(TEST_DATABASE_URL)
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as error:  # noqa: BLE001
            problems.append(f"TEST_DATABASE_URL={TEST_DATABASE_URL} unreachable: {error}")
        finally:
            engine.dispose()
    if TEST_REDIS_URL:
        from redis import Redis

        try:
            Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=3).ping()
        except Exception as error:  # noqa: BLE001
            problems.append(f"TEST_REDIS_URL={TEST_REDIS_URL} unreachable: {error}")
    if problems:
        pytest.exit("\n".join(problems), returncode=3)


def create_postgres_database() -> str:
    """A fresh, empty database on the TEST_DATABASE_URL server; returns its URL."""
    name = f"supportbot_test_{secrets.token_hex(4)}"
    admin = build_engine(TEST_DATABASE_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    name = make_url(url).database
    engine_for.cache_clear()
    admin = build_engine(TEST_DATABASE_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def empty_database_url(backend: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / f'{secrets.token_hex(4)}.db'}"
    return create_postgres_database()


@pytest.fixture(scope="session", params=BACKENDS)
def migrated_database(request: pytest.FixtureRequest,
                      tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database of this run with every migration applied; its URL."""
    url = empty_database_url(request.param, tmp_path_factory.mktemp("db"))
    schema.upgrade(url)
    yield url
    if request.param == "postgresql":
        drop_postgres_database(url)


def _empty_tables(url: str) -> None:
    engine = engine_for(url)
    with engine.begin() as connection:
        for table in reversed(SQLModel.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def database(migrated_database: str, monkeypatch: pytest.MonkeyPatch,
             tmp_path: Path) -> Iterator[str]:
    """The migrated database, empty, configured as the app's DATABASE_URL for this test,
    with a search index of its own. Jobs the test queued in-process finish before the end."""
    from supportbot.jobs.queue import wait_in_process_jobs

    monkeypatch.setenv("DATABASE_URL", migrated_database)
    monkeypatch.setenv("FAISS_INDEX_PATH", str(tmp_path / "test-index"))
    monkeypatch.setenv("MODELS_PATH", str(tmp_path / "test-models"))
    get_settings.cache_clear()
    _empty_tables(migrated_database)
    yield migrated_database
    wait_in_process_jobs()
    get_settings.cache_clear()


@pytest.fixture
def session(database: str) -> Iterator[Session]:
    with Session(engine_for(database), expire_on_commit=False) as db_session:
        yield db_session


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    """Set environment variables for one test and reload the settings."""

    def apply(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    yield apply
    get_settings.cache_clear()


@pytest.fixture
def make_user(session: Session):  # noqa: ANN201
    """Create and commit an account: make_user("alice", role=Role.agent)."""

    def create(username: str, *, role: Role = Role.user, password: str = PASSWORD,
               active: bool = True) -> User:
        user = accounts.create_user(session, SYSTEM, username=username,
                                    email=f"{username}@example.org", password=password, role=role)
        user.is_active = active
        session.commit()
        return user

    return create


@pytest.fixture(scope="session")
def embedder():
    """The shipped all-MiniLM-L6-v2, loaded once for the whole run."""
    from supportbot.ai.embeddings import get_embedder

    return get_embedder("all-MiniLM-L6-v2")


@pytest.fixture
def redis_url() -> str:
    if not TEST_REDIS_URL:
        pytest.skip("TEST_REDIS_URL is not set (CI sets it)")
    from redis import Redis

    Redis.from_url(TEST_REDIS_URL).flushdb()
    return TEST_REDIS_URL


@pytest.fixture
def own_redis() -> Iterator["RedisServer"]:
    """A Redis server of this test's own (tests/servers.py), that it may stop or freeze."""
    from tests.servers import RedisServer

    if reason := RedisServer.available():
        pytest.skip(reason)
    with RedisServer() as server:
        yield server


@pytest.fixture
def own_postgres() -> Iterator["PostgresServer"]:
    """A PostgreSQL cluster of this test's own (tests/servers.py), that it may restart."""
    from tests.servers import PostgresServer

    if reason := PostgresServer.available():
        pytest.skip(reason)
    with PostgresServer() as server:
        yield server
