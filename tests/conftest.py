"""Shared fixtures: the app on the real PostgreSQL (a schema per test session), a transaction
rolled back per test, factories, and a signed-in client helper.

Settings: TEST_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test) and
TEST_REDIS_URL (default redis://127.0.0.1:6379/0). Set TEST_DATABASE_URL=sqlite to run the
fast unit tests without PostgreSQL (integration tests then skip themselves).
"""

from __future__ import annotations

import contextvars
import os
import re
import uuid
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_sqlalchemy.session import Session as FlaskSession

from portal import create_app
from portal.accounts import hash_password
from portal.extensions import db as _db
from portal.models import (
    Contact,
    CustomerCompany,
    Department,
    ProductModel,
    StaffUser,
    Tenant,
)
from portal.tenancy import activate, unscoped

pytest_plugins = ["tests.browser_support"]

DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PASSWORD = "correct-horse-battery"

# Hashing at argon2id's production cost for every factory user would make tests slow.
_PASSWORD_HASH = hash_password(PASSWORD)


def _schema_name() -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"test_{worker}_{uuid.uuid4().hex[:8]}"


def make_app(schema: str | None, **overrides):
    """An app on the test database; on PostgreSQL its connections use ``schema``."""
    settings = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": DATABASE_URL,
        "REDIS_URL": None,
        "MAIL_URL": None,
        "S3_BUCKET": None,
        "SERVER_NAME": None,
        # Rate-limit counters in memory, emptied before each test (the fixture below): every
        # test client comes from 127.0.0.1 and must not inherit another test's count.
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    if schema:
        settings["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "pool_pre_ping": True,
            "connect_args": {"options": f"-csearch_path={schema}"},
        }
    settings.update(overrides)
    return create_app(settings)


class IsolatedClient(FlaskClient):
    """Runs each request in an empty context, as production does: its own app context and
    database session (sharing the test's transaction), and no tenant left active by the
    test. Without this, requests would reuse the test's session and identity map."""

    def open(self, *args, **kwargs):
        return contextvars.copy_context().run(self._open_fresh, *args, **kwargs)

    def _open_fresh(self, *args, **kwargs):
        from flask.globals import _cv_app, _cv_request

        from portal import tenancy

        _cv_app.set(None)
        _cv_request.set(None)
        tenancy._active_tenant_id.set(None)
        tenancy._unscoped.set(False)
        return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def pg_schema():
    """A fresh PostgreSQL schema for this test session, migrated to head, dropped after."""
    if DATABASE_URL.startswith("sqlite"):
        yield None
        return
    schema = _schema_name()
    engine = sa.create_engine(DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture(scope="session")
def app(pg_schema, tmp_path_factory):
    if DATABASE_URL.startswith("sqlite"):
        path = tmp_path_factory.mktemp("db") / "test.sqlite3"
        application = make_app(None, SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}",
                               LOCAL_STORAGE_DIR=str(tmp_path_factory.mktemp("storage")))
    else:
        application = make_app(pg_schema,
                               LOCAL_STORAGE_DIR=str(tmp_path_factory.mktemp("storage")))
    application.test_client_class = IsolatedClient
    with application.app_context():
        from flask_migrate import upgrade

        upgrade()
        _db.engine.dispose()
    yield application
    with application.app_context():
        _db.engine.dispose()


class _BoundSession(FlaskSession):
    """Every query goes to the test's connection (Flask-SQLAlchemy picks engines by mapper)."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        return bind if bind is not None else self.bind


@pytest.fixture
def db(app):
    """The database, inside a transaction rolled back after the test. Commits in the code
    under test become savepoints."""
    with app.app_context():
        connection = _db.engine.connect()
        outer = connection.begin()
        original = _db.session
        _db.session = _db._make_scoped_session({
            "bind": connection, "join_transaction_mode": "create_savepoint",
            "class_": _BoundSession,
        })
        try:
            yield _db
        finally:
            _db.session.remove()
            _db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    from portal.extensions import limiter

    if getattr(limiter, "_storage", None) is not None:
        limiter.reset()
    yield


@pytest.fixture
def client(app, db):
    return app.test_client()


# -- factories -----------------------------------------------------------------------------

@pytest.fixture
def make_tenant(db):
    counter = iter(range(1, 10_000))

    def make(slug: str | None = None, **fields) -> Tenant:
        n = next(counter)
        with unscoped():
            # English by default, so tests can assert the msgids; Chinese tests ask for it.
            fields.setdefault("default_locale", "en")
            tenant = Tenant(slug=slug or f"tenant{n}-{uuid.uuid4().hex[:4]}",
                            name=fields.pop("name", f"Tenant {n}"), **fields)
            db.session.add(tenant)
            db.session.flush()
        return tenant

    return make


@contextmanager
def _as(tenant):
    with activate(tenant):
        yield


@pytest.fixture
def make_staff(db):
    def make(tenant: Tenant, *roles: str, email: str | None = None, **fields) -> StaffUser:
        with _as(tenant):
            department = fields.pop("department", None)
            if department is None:
                department = Department(name=f"Dept {uuid.uuid4().hex[:6]}", kind="quality")
                db.session.add(department)
                db.session.flush()
            user = StaffUser(email=email or f"{'-'.join(roles) or 'staff'}-{uuid.uuid4().hex[:6]}@staff.example.com",
                             name=fields.pop("name", "Staff " + ",".join(roles)),
                             roles=list(roles), department_id=department.id,
                             password_hash=_PASSWORD_HASH, **fields)
            db.session.add(user)
            db.session.flush()
        return user

    return make


@pytest.fixture
def make_company(db):
    def make(tenant: Tenant, name: str | None = None) -> CustomerCompany:
        with _as(tenant):
            company = CustomerCompany(name=name or f"Company {uuid.uuid4().hex[:6]}")
            db.session.add(company)
            db.session.flush()
        return company

    return make


@pytest.fixture
def make_contact(db, make_company):
    def make(tenant: Tenant, company: CustomerCompany | None = None, **fields) -> Contact:
        company = company or make_company(tenant)
        with _as(tenant):
            contact = Contact(company_id=company.id,
                              email=fields.pop("email", f"c-{uuid.uuid4().hex[:8]}@customer.example.com"),
                              name=fields.pop("name", "Customer Contact"),
                              password_hash=fields.pop("password_hash", _PASSWORD_HASH), **fields)
            db.session.add(contact)
            db.session.flush()
        return contact

    return make


@pytest.fixture
def make_product(db):
    def make(tenant: Tenant, code: str | None = None) -> ProductModel:
        with _as(tenant):
            product = ProductModel(code=code or f"M-{uuid.uuid4().hex[:5]}", name_zh="型号",
                                   name_en="Model", specification="spec")
            db.session.add(product)
            db.session.flush()
        return product

    return make


@pytest.fixture
def make_complaint(db, make_contact):
    from portal.complaints.operations import submit_complaint

    def make(tenant: Tenant, contact: Contact | None = None, **data):
        contact = contact or make_contact(tenant)
        with _as(tenant):
            fields = {"reporter_name": contact.name, "reporter_email": contact.email,
                      "title": "Machine stops", "description": "It stops after ten minutes.",
                      "defect_quantity": 1, "demands": ["answer"]}
            fields.update(data)
            complaint, _ = submit_complaint(tenant, contact, data=fields)
        return complaint

    return make


# -- web helpers ---------------------------------------------------------------------------

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                   r'type="hidden" name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


@pytest.fixture
def sign_in():
    """Sign a client in through the real form (CSRF included). Returns the response."""

    def do(client, tenant: Tenant, email: str, password: str = PASSWORD, staff: bool = True):
        path = f"/t/{tenant.slug}/staff/sign-in" if staff else f"/t/{tenant.slug}/sign-in"
        token = csrf_from(client.get(path).get_data(as_text=True))
        return client.post(path, data={"email": email, "password": password,
                                       "csrf_token": token})

    return do
