"""Database engine and sessions, shared by services, jobs, the API and the UI.

Services take a `Session` argument; callers open one with `session_scope()`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from supportbot.config import get_settings


def build_engine(url: str, *, statement_timeout: float = 0) -> Engine:
    """An engine for `url`; SQLite gets foreign keys on and its folder created.

    Statement parameters are never written to logs or error messages (`hide_parameters`):
    they hold password hashes, people's messages and e-mail addresses, and SQL logging
    is one setting away in any deployment.

    PostgreSQL connections give up after DATABASE_CONNECT_TIMEOUT_SECONDS when the server
    does not answer (libpq waits for the TCP timeout otherwise, minutes), TCP keepalives
    and `tcp_user_timeout` drop a connection whose server went away without a word (a
    partition), and `statement_timeout` seconds, when given, bound every query on the
    server (0: unbounded, as migrations and restores need)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False},
                               hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # noqa: ANN001
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True, pool_timeout=10,
                         connect_args=postgres_connect_args(statement_timeout))


def postgres_connect_args(statement_timeout: float = 0) -> dict[str, object]:
    """libpq connection parameters for the bounds described in `build_engine`."""
    connect_seconds = get_settings().database_connect_timeout_seconds
    args: dict[str, object] = {
        "connect_timeout": connect_seconds,
        "keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10,
        "keepalives_count": 3,
        # Data sent and not acknowledged for this long: the connection is dead.
        "tcp_user_timeout": 30_000,
    }
    if statement_timeout > 0:
        args["options"] = f"-c statement_timeout={int(statement_timeout * 1000)}"
    return args


@functools.lru_cache(maxsize=4)
def engine_for(url: str) -> Engine:
    """The app's engine for `url` (one per process), its queries bounded by
    DATABASE_STATEMENT_TIMEOUT_SECONDS."""
    return build_engine(url, statement_timeout=get_settings().database_statement_timeout_seconds)


def get_engine() -> Engine:
    return engine_for(get_settings().effective_database_url)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
