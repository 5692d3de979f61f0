"""The engine's bounds on PostgreSQL (supportbot.db): a statement timeout on the app's
queries, none on migrations; connect timeout and keepalives on every connection."""

import pytest
import sqlalchemy.exc
from sqlalchemy import text
from sqlalchemy.engine import make_url

from supportbot.db import build_engine, engine_for, postgres_connect_args


@pytest.fixture
def postgres_url(database):
    if make_url(database).get_backend_name() != "postgresql":
        pytest.skip("PostgreSQL only")
    return database


def test_a_query_longer_than_the_statement_timeout_is_ended(postgres_url, settings_env):
    settings_env(DATABASE_STATEMENT_TIMEOUT_SECONDS="0.5")
    engine_for.cache_clear()
    try:
        with engine_for(postgres_url).connect() as connection:
            assert connection.execute(text("SHOW statement_timeout")).scalar() == "500ms"
            assert connection.execute(text("SELECT pg_sleep(0.1), 1")).one()[1] == 1
            with pytest.raises(sqlalchemy.exc.OperationalError, match="statement timeout"):
                connection.execute(text("SELECT pg_sleep(3)"))
    finally:
        engine_for(postgres_url).dispose()
        engine_for.cache_clear()


def test_migrations_and_other_engines_are_not_bounded(postgres_url):
    engine = build_engine(postgres_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SHOW statement_timeout")).scalar() == "0"
    finally:
        engine.dispose()


def test_every_connection_has_a_connect_timeout_and_keepalives(settings_env):
    settings_env(DATABASE_CONNECT_TIMEOUT_SECONDS="7")
    args = postgres_connect_args()
    assert args["connect_timeout"] == 7 and args["keepalives"] == 1
    assert "options" not in args
    assert postgres_connect_args(30)["options"] == "-c statement_timeout=30000"
