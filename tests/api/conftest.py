"""Fixtures for the REST API: a tenant with a catalogue, a staff user a token acts as, and
tokens with chosen scopes. Requests go through the Flask test client to the real PostgreSQL."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event

from portal.api import tokens
from portal.models import Department, utcnow
from portal.tenancy import activate


class Api:
    """A tenant's API as a token sees it: ``api.get("/complaints")`` and so on."""

    def __init__(self, client, tenant, secret, user):
        self.client, self.tenant, self.secret, self.user = client, tenant, secret, user
        self.base = f"/t/{tenant.slug}/api/v1"

    def headers(self, extra=None, secret=None):
        headers = {"Authorization": f"Bearer {secret or self.secret}",
                   "Accept-Language": "en"}
        headers.update(extra or {})
        return headers

    def get(self, path, headers=None, **kwargs):
        return self.client.get(self.base + path, headers=self.headers(headers), **kwargs)

    def post(self, path, json=None, headers=None, **kwargs):
        return self.client.post(self.base + path, json=json, headers=self.headers(headers),
                                **kwargs)

    def patch(self, path, json=None, headers=None, **kwargs):
        return self.client.patch(self.base + path, json=json, headers=self.headers(headers),
                                 **kwargs)


@pytest.fixture
def make_token(db):
    def make(tenant, user, *scopes, days=30, name="ERP"):
        with activate(tenant):
            token, secret = tokens.issue(name=name, scopes=list(scopes or ["admin"]),
                                         acting_user=user, created_by=user,
                                         expires_at=utcnow() + timedelta(days=days))
        return token, secret
    return make


@pytest.fixture
def setup(db, client, make_tenant, make_staff, make_company, make_product, make_token):
    """A tenant with a quality department, a staff user of the leading roles, a customer, a
    product model, and an API with a token holding every scope."""
    tenant = make_tenant()
    with activate(tenant):
        department = Department(name="Quality", kind="quality")
        db.session.add(department)
        db.session.flush()
    user = make_staff(tenant, "after_sales", "quality", "manager", department=department)
    company = make_company(tenant, "Acme Motors")
    product = make_product(tenant, "PUMP-100")
    _token, secret = make_token(tenant, user, "admin")
    api = Api(client, tenant, secret, user)
    api.company, api.product, api.department = company, product, department
    return api


@pytest.fixture
def count_statements(db):
    """``with count_statements() as seen:`` — the SQL statements run inside, as a list."""
    @contextmanager
    def counting():
        seen: list[str] = []
        engine = db.engine

        def before(conn, cursor, statement, parameters, context, executemany):
            if not statement.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
                seen.append(statement)
        event.listen(engine, "before_cursor_execute", before)
        try:
            yield seen
        finally:
            event.remove(engine, "before_cursor_execute", before)
    return counting


def complaint_body(api, **changes):
    body = {"channel": "phone", "customer_id": api.company.id, "reporter_name": "Li Wei",
            "product_model": api.product.code, "lot": "L-2026-01", "defect_quantity": 3,
            "title": "Pump leaks at the seal", "description": "Oil under the pump after 2 h.",
            "serial_numbers": ["PX-0001", "PX-0002"], "demands": ["replacement"]}
    body.update(changes)
    return body
