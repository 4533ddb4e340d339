"""Migrations: up from empty and back down on the real PostgreSQL, and models match them."""

import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from portal.extensions import db, include_object
from tests.conftest import DATABASE_URL, make_app

pytestmark = pytest.mark.skipif(DATABASE_URL.startswith("sqlite"), reason="PostgreSQL only")


@pytest.fixture
def empty_schema():
    schema = f"mig_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    yield schema
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def _tables(schema):
    inspector = sa.inspect(db.engine)
    return set(inspector.get_table_names(schema=schema))


def test_up_from_empty_matches_models_and_down_to_empty(empty_schema):
    app = make_app(empty_schema)
    with app.app_context():
        upgrade()
        tables = _tables(empty_schema)
        assert {"tenants", "complaints", "timeline_events", "outbox_messages"} <= tables
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={
                "compare_type": True, "include_object": include_object}), db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"

        downgrade(revision="base")
        assert _tables(empty_schema) <= {"alembic_version"}
        upgrade()  # and up again: downgrades leave nothing behind that blocks it
        assert "complaints" in _tables(empty_schema)
        db.engine.dispose()


def test_one_head():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from portal import _project_root

    config = Config(str(_project_root() / "migrations" / "alembic.ini"))
    config.set_main_option("script_location", str(_project_root() / "migrations"))
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1
