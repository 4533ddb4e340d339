"""Two ERP calls racing on one name or code: the second call's check found nothing, then the
first call committed, and the unique constraint refuses the second one's insert. That is a 409
problem, never a 500. The race is made real: a second database connection commits the clashing
row just before this request's INSERT runs (so these tests commit, on a tenant of their own,
and remove it after)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.api import tokens
from portal.extensions import db
from portal.models import (
    Complaint,
    CustomerCompany,
    ProductModel,
    StaffUser,
    Supplier,
    TenantCounter,
    utcnow,
)
from portal.tenancy import activate
from tests.conftest import _PASSWORD_HASH, DATABASE_URL
from tests.races import committed_just_before, committed_tenant, just_before

pytestmark = pytest.mark.skipif(DATABASE_URL.startswith("sqlite"),
                                reason="a second connection racing needs PostgreSQL")


@pytest.fixture
def committed(app):
    """A tenant, an admin (who may also file complaints) and a token committed for real (a
    second connection sees them)."""
    with committed_tenant(app) as tenant:
        with app.app_context(), activate(tenant.id):
            user = StaffUser(email=f"admin-{tenant.slug}@example.com", name="Admin",
                             roles=["admin", "after_sales"], password_hash=_PASSWORD_HASH)
            db.session.add(user)
            db.session.flush()
            _token, secret = tokens.issue(name="ERP", scopes=["admin"], acting_user=user,
                                          created_by=user,
                                          expires_at=utcnow() + timedelta(days=1))
            db.session.commit()
            db.session.remove()
        yield tenant.id, tenant.slug, secret


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


def test_two_complaint_filings_with_one_idempotency_key_file_one(app, committed):
    """An ERP retry overlapping its first try: the first commits while the second is filing;
    the second's remembered response clashes at commit, it rolls back (its complaint too) and
    replays the first one's answer."""
    tenant_id, slug, secret = committed
    with app.app_context(), activate(tenant_id):
        db.session.add_all([CustomerCompany(name="Race Motors"),
                            ProductModel(code="RACE-9", name_zh="泵", name_en="Pump")])
        db.session.commit()
        customer_id = db.session.scalar(sa.select(CustomerCompany.id))
        db.session.remove()
    body = {"channel": "phone", "customer_id": customer_id, "reporter_name": "Li Wei",
            "product_model": "RACE-9", "lot": "L1", "defect_quantity": 2, "title": "Leaks",
            "description": "Leaks at the seal", "serial_numbers": ["AB000101"]}
    headers = {"Authorization": f"Bearer {secret}", "Accept-Language": "en",
               "Idempotency-Key": "erp-retry-1"}
    first = []

    def first_try_commits():  # the whole first try, on its own connection
        first.append(app.test_client().post(f"/t/{slug}/api/v1/complaints", json=body,
                                             headers=headers))

    with just_before(app, "INSERT INTO", TenantCounter.__table__, first_try_commits) as fired:
        second = app.test_client().post(f"/t/{slug}/api/v1/complaints", json=body,
                                        headers=headers)
    assert fired, second.get_data(as_text=True)[:2000]
    assert first[0].status_code == 201, first[0].get_data(as_text=True)[:2000]
    assert second.status_code == 201, second.get_data(as_text=True)[:2000]
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.get_json()["number"] == first[0].get_json()["number"]
    with app.app_context(), activate(tenant_id):
        assert len(db.session.scalars(sa.select(Complaint)).all()) == 1
        db.session.remove()
