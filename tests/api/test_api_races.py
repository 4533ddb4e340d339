"""Two ERP calls racing on one name or code: the second call's check found nothing, then the
first call committed, and the unique constraint refuses the second one's insert. That is a 409
problem, never a 500. The race is made real: a second database connection commits the clashing
row just before this request's INSERT runs (so these tests commit, on a tenant of their own,
and remove it after)."""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from portal.api import tokens
from portal.extensions import db
from portal.models import CustomerCompany, ProductModel, StaffUser, Supplier, Tenant, utcnow
from portal.tenancy import activate, unscoped
from tests.conftest import _PASSWORD_HASH, DATABASE_URL

pytestmark = pytest.mark.skipif(DATABASE_URL.startswith("sqlite"),
                                reason="a second connection racing needs PostgreSQL")


@pytest.fixture
def committed(app):
    """A tenant, an admin and a token committed for real (a second connection sees them)."""
    with app.app_context():
        with unscoped():
            tenant = Tenant(slug=f"race-{uuid.uuid4().hex[:8]}", name="Race Works",
                            default_locale="en")
            db.session.add(tenant)
            db.session.commit()
        tenant_id, slug = tenant.id, tenant.slug
        with activate(tenant_id):
            user = StaffUser(email=f"admin-{slug}@example.com", name="Admin", roles=["admin"],
                             password_hash=_PASSWORD_HASH)
            db.session.add(user)
            db.session.flush()
            _token, secret = tokens.issue(name="ERP", scopes=["admin"], acting_user=user,
                                          created_by=user,
                                          expires_at=utcnow() + timedelta(days=1))
            db.session.commit()
        db.session.remove()
    try:
        yield tenant_id, slug, secret
    finally:
        with app.app_context():
            with db.engine.begin() as connection:
                for table in reversed(db.metadata.sorted_tables):
                    if "tenant_id" in table.c:
                        connection.execute(table.delete().where(table.c.tenant_id == tenant_id))
                connection.execute(Tenant.__table__.delete().where(
                    Tenant.__table__.c.id == tenant_id))


@contextmanager
def committed_just_before(app, verb: str, table: sa.Table, values: dict):
    """A second connection commits ``values`` into ``table`` right before this request's
    ``verb`` (INSERT INTO, UPDATE) of it: after the request's own check, before its write."""
    fired = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if fired or not statement.startswith(f"{verb} {table.name} "):
            return
        fired.append(statement)
        with db.engine.connect() as other:
            other.execute(table.insert().values(**values))
            other.commit()

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield fired
    finally:
        event.remove(engine, "before_cursor_execute", before)


CASES = {
    "customers": ("/customers", {"name": "Race Motors"}, CustomerCompany,
                  {"name": "Race Motors"}, "A customer with this name exists already."),
    "product-models": ("/product-models", {"code": "RACE-1", "name_zh": "水泵",
                                           "name_en": "Pump"}, ProductModel,
                       {"code": "RACE-1", "name_zh": "泵", "name_en": "Pump (ERP)"},
                       "Another model has this code."),
    "suppliers": ("/suppliers", {"name": "Race Spindles", "code": "RS-1"}, Supplier,
                  {"name": "Other Spindles", "code": "RS-1", "active": True},
                  "A supplier with this name or code exists already."),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_create_losing_the_race_is_a_409_problem(app, committed, case):
    tenant_id, slug, secret = committed
    path, body, model, clashing, message = CASES[case]
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}", "Accept-Language": "en"}
    with committed_just_before(app, "INSERT INTO", model.__table__,
                               dict(clashing, tenant_id=tenant_id)) as fired:
        response = client.post(f"/t/{slug}/api/v1{path}", json=body, headers=headers)
    assert fired, "the request never inserted"
    assert response.status_code == 409, response.get_data(as_text=True)[:2000]
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "duplicate"
    assert response.get_json()["detail"] == message
    with app.app_context(), activate(tenant_id):
        rows = db.session.scalars(sa.select(model)).all()
        assert len(rows) == 1  # the other call's
        db.session.remove()
    # The losing request left nothing half-done: the same call again is the plain refusal.
    again = client.post(f"/t/{slug}/api/v1{path}", json=body, headers=headers)
    assert again.status_code == 409


def test_a_supplier_change_losing_the_race_is_a_409_problem(app, committed):
    tenant_id, slug, secret = committed
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}", "Accept-Language": "zh-CN"}
    created = client.post(f"/t/{slug}/api/v1/suppliers", json={"name": "Spindles",
                                                               "code": "SP-1"}, headers=headers)
    assert created.status_code == 201
    supplier_id = created.get_json()["id"]
    with committed_just_before(app, "UPDATE", Supplier.__table__, {
            "tenant_id": tenant_id, "name": "Latecomer", "code": "SP-2", "active": True}) as fired:
        response = client.patch(f"/t/{slug}/api/v1/suppliers/{supplier_id}",
                                json={"code": "SP-2"}, headers=headers)
    assert fired and response.status_code == 409, response.get_data(as_text=True)[:2000]
    detail = response.get_json()["detail"]
    assert any("\u4e00" <= c <= "\u9fff" for c in detail), detail  # the caller's language
