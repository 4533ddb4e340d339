"""The platform operator area: its own sign-in and sessions, unreachable to tenant users,
tenant overview across tenants, suspension and resumption (nothing deleted), and the CLI."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.accounts import hash_password
from portal.models import OperatorSession, PlatformOperator, StaffUser
from portal.tenancy import activate
from tests.conftest import PASSWORD, csrf_from


@pytest.fixture(autouse=True)
def _english(app):
    """Visitors outside any tenant get the browser's language; these tests read English."""
    original = app.test_client

    def english_client(*args, **kwargs):
        client = original(*args, **kwargs)
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    app.test_client = english_client
    yield
    del app.test_client

def make_operator(db, email="op@closeloop.example.com"):
    operator = PlatformOperator(email=email, name="Olga Operator",
                                password_hash=hash_password(PASSWORD))
    db.session.add(operator)
    db.session.flush()
    return operator


def operator_sign_in(client, email="op@closeloop.example.com", password=PASSWORD):
    token = csrf_from(client.get("/operator/sign-in").get_data(as_text=True))
    return client.post("/operator/sign-in", data={"email": email, "password": password,
                                                   "csrf_token": token})


def test_operator_area_needs_an_operator(client, db):
    response = client.get("/operator/")
    assert response.status_code == 302 and "/operator/sign-in" in response.headers["Location"]


def test_tenant_users_cannot_reach_it(client, db, make_tenant, make_staff, sign_in):
    tenant = make_tenant()
    admin = make_staff(tenant, "admin")
    assert sign_in(client, tenant, admin.email).status_code == 303
    assert client.get("/operator/").status_code == 302
    # the tenant admin's password does not open it either
    make_operator(db)
    assert operator_sign_in(client, admin.email).status_code == 422


def test_operator_session_grants_nothing_in_a_tenant(client, db, make_tenant):
    tenant = make_tenant()
    make_operator(db)
    assert operator_sign_in(client).status_code == 303
    assert client.get(f"/t/{tenant.slug}/staff/").status_code == 302


def test_overview_suspend_and_resume(client, db, make_tenant, make_staff, make_complaint,
                                     sign_in, app):
    busy = make_tenant(name="Busy Works")
    quiet = make_tenant(name="Quiet Works")
    staff = make_staff(busy, "quality")
    make_complaint(busy)
    make_complaint(busy)
    theirs = app.test_client()
    assert sign_in(theirs, busy, staff.email).status_code == 303
    make_operator(db)
    operator_sign_in(client)
    page = client.get("/operator/").get_data(as_text=True)
    assert "Busy Works" in page and "Quiet Works" in page
    row = page.split(f'id="tenant-{busy.id}"')[1].split("</tr>")[0]
    assert "<td>2</td>" in row  # two complaints (and their two contacts)
    token = csrf_from(page)
    assert client.post(f"/operator/tenants/{busy.id}/suspend",
                       data={"csrf_token": token}).status_code == 303
    suspended = theirs.get(f"/t/{busy.slug}/")
    assert suspended.status_code == 503 and "suspended" in suspended.get_data(as_text=True)
    assert theirs.get(f"/t/{quiet.slug}/").status_code == 200
    client.post(f"/operator/tenants/{busy.id}/resume", data={"csrf_token": token})
    assert theirs.get(f"/t/{busy.slug}/").status_code == 200
    # nothing deleted, but the sessions of the suspension ended
    with activate(busy):
        assert db.session.scalar(select(StaffUser).where(StaffUser.id == staff.id)) is not None
    assert theirs.get(f"/t/{busy.slug}/staff/").status_code == 302


def test_operator_sign_out_revokes_the_session(client, db):
    make_operator(db)
    operator_sign_in(client)
    assert client.get("/operator/").status_code == 200
    token = csrf_from(client.get("/operator/").get_data(as_text=True))
    client.post("/operator/sign-out", data={"csrf_token": token})
    assert client.get("/operator/").status_code == 302
    assert db.session.scalar(select(OperatorSession)).revoked_at is not None


def test_operator_sign_in_is_throttled(client, db, app):
    make_operator(db)
    for _ in range(app.config["SIGNIN_FREE_FAILURES"]):
        assert operator_sign_in(client, password="wrong-password").status_code == 422
    response = operator_sign_in(client)
    assert response.status_code == 422 and "Too many" in response.get_data(as_text=True)


def test_unknown_tenant_is_404(client, db):
    make_operator(db)
    operator_sign_in(client)
    token = csrf_from(client.get("/operator/").get_data(as_text=True))
    assert client.post("/operator/tenants/999999/suspend",
                       data={"csrf_token": token}).status_code == 404


def test_create_operator_cli(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-operator", "--email", "Root@Example.com", "--name",
                                 "Root", "--password", "a-long-password"])
    assert result.exit_code == 0, result.output
    operator = db.session.scalar(select(PlatformOperator)
                                 .where(PlatformOperator.email == "root@example.com"))
    assert operator is not None and operator.password_hash.startswith("$argon2id$")
    short = runner.invoke(args=["create-operator", "--email", "x@example.com", "--name", "X",
                                "--password", "short"])
    assert short.exit_code != 0
