"""Races made real for tests: a second database connection (or a whole second request) does
its write just before this request's statement runs, after the request's own checks. Such
tests commit for real, so they work on a tenant of their own and remove it after."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy import event

from portal.extensions import db
from portal.models import Tenant
from portal.tenancy import unscoped


@contextmanager
def committed_tenant(app, prefix: str = "race") -> Iterator[Tenant]:
    """A tenant committed for real (a second connection sees it); every row of it is deleted
    after the block. Yields the (detached) tenant."""
    with app.app_context():
        with unscoped():
            tenant = Tenant(slug=f"{prefix}-{uuid.uuid4().hex[:8]}", name="Race Works",
                            default_locale="en")
            db.session.add(tenant)
            db.session.commit()
            db.session.refresh(tenant)
            db.session.expunge(tenant)
        db.session.remove()
    try:
        yield tenant
    finally:
        with app.app_context():
            with db.engine.begin() as connection:
                for table in reversed(db.metadata.sorted_tables):
                    if "tenant_id" in table.c:
                        connection.execute(table.delete().where(table.c.tenant_id == tenant.id))
                connection.execute(Tenant.__table__.delete().where(
                    Tenant.__table__.c.id == tenant.id))


@contextmanager
def just_before(app, verb: str, table: sa.Table, action: Callable[[], None]):
    """Run ``action`` once, right before this request's first ``verb`` (INSERT INTO, UPDATE)
    of ``table``. Yields the list of statements it fired before (empty if it never did)."""
    fired: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if fired or not statement.startswith(f"{verb} {table.name} "):
            return
        fired.append(statement)
        action()

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield fired
    finally:
        event.remove(engine, "before_cursor_execute", before)


@contextmanager
def committed_just_before(app, verb: str, table: sa.Table, values: dict):
    """A second connection commits ``values`` into ``table`` right before this request's
    ``verb`` of it."""
    def commit_clashing_row():
        with db.engine.connect() as other:
            other.execute(table.insert().values(**values))
            other.commit()

    with just_before(app, verb, table, commit_clashing_row) as fired:
        yield fired
