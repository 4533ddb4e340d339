"""Pooled connections are pinged before use only after sitting idle (portal/extensions.py):
a connection the server dropped meanwhile is replaced, not handed to a request."""

import sqlalchemy as sa

from portal import extensions

from ..conftest import DATABASE_URL

TEST_DATABASE_URL = DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1)


def test_a_dropped_idle_connection_is_replaced(monkeypatch):
    engine = sa.create_engine(TEST_DATABASE_URL, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as conn:
            first_pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        _terminate(first_pid)
        monkeypatch.setattr(extensions, "PING_AFTER_IDLE_SECONDS", 0.0)
        with engine.connect() as conn:  # the ping finds it dead: a fresh connection instead
            assert conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one() != first_pid
    finally:
        engine.dispose()


def test_a_connection_used_a_moment_ago_is_not_pinged():
    """No round trip before a request's first statement when the connection was just used:
    shown by dropping it on the server, which the next statement (not a ping) then meets."""
    import pytest

    engine = sa.create_engine(TEST_DATABASE_URL, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as conn:
            pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        _terminate(pid)
        with engine.connect() as conn, pytest.raises(sa.exc.OperationalError):
            conn.execute(sa.text("SELECT 2"))
    finally:
        engine.dispose()


def _terminate(pid: int) -> None:
    admin = sa.create_engine(TEST_DATABASE_URL, poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        admin.dispose()
