"""Tenant sign-up: the form's rules, the e-mail confirmation (single use, POST only), and the
tenant going live with its administrator signed in."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.extensions import db as _db
from portal.models import OutboxMessage, StaffUser, Tenant
from portal.signup import RESERVED_SLUGS
from portal.tenancy import activate
from tests.conftest import csrf_from

GOOD = {"company_name": "Hangzhou Pumps Co.", "slug": "hz-pumps", "admin_name": "Lin Wei",
        "email": "Lin@HZ-Pumps.example.com", "password": "a-long-password",
        "confirm": "a-long-password", "default_locale": "en", "timezone": "Asia/Shanghai"}



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

def _post(client, **changes):
    token = csrf_from(client.get("/signup").get_data(as_text=True))
    return client.post("/signup", data={**GOOD, **changes, "csrf_token": token})


def _confirmation_link(to: str) -> str:
    messages = _db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.job == "jobs.mail.send_email").order_by(OutboxMessage.id)).all()
    texts = [m.args[2] for m in messages if m.args[0] == to]
    assert texts, f"no mail to {to}"
    return re.search(r"http://\S+/signup/\S+/confirm/\S+", texts[-1]).group(0)


def test_sign_up_creates_a_pending_tenant_and_mails_a_link(client, db):
    response = _post(client)
    assert response.status_code == 303
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "hz-pumps"))
    assert tenant.status == "pending" and tenant.default_locale == "en"
    assert tenant.setting("first_run_done") is False
    with activate(tenant):
        admin = db.session.scalar(select(StaffUser))
    assert admin.email == "lin@hz-pumps.example.com" and admin.roles == ["admin"]
    assert admin.password_hash.startswith("$argon2id$")
    # pending: the tenant's pages do not exist yet
    assert client.get("/t/hz-pumps/").status_code == 404
    link = _confirmation_link(admin.email)
    path = _link_path(link)
    # a GET (a mail scanner) changes nothing
    page = client.get(path)
    assert page.status_code == 200 and "Confirm and continue" in page.get_data(as_text=True)
    db.session.refresh(tenant)
    assert tenant.status == "pending"
    token = csrf_from(page.get_data(as_text=True))
    done = client.post(path, data={"csrf_token": token})
    assert done.status_code == 303 and done.headers["Location"].endswith(
        "/t/hz-pumps/staff/admin/welcome")
    db.session.refresh(tenant)
    assert tenant.status == "active"
    welcome = client.get("/t/hz-pumps/staff/admin/welcome")
    assert welcome.status_code == 200 and "Getting started" in welcome.get_data(as_text=True)
    # single use
    again = client.get(path)
    assert "expired or was already used" in again.get_data(as_text=True)
    token = csrf_from(again.get_data(as_text=True))
    assert client.post(path, data={"csrf_token": token}).status_code == 303


def _link_path(link: str) -> str:
    return "/" + link.split("/", 3)[3]


@pytest.mark.parametrize("slug,message", [
    ("ab", "3 to 40"), ("Has Space", "3 to 40"), ("-dash", "3 to 40"), ("über", "3 to 40"),
    ("staff", "reserved"), ("operator", "reserved"), ("admin", "reserved"), ("www", "reserved"),
    ("api", "reserved"), ("static", "reserved"),
])
def test_slug_rules(client, db, slug, message):
    response = _post(client, slug=slug)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(Tenant).where(Tenant.name == GOOD["company_name"])) is None


def test_reserved_words_cover_the_platform_paths():
    assert {"staff", "admin", "api", "static", "t", "www", "operator"} <= RESERVED_SLUGS


def test_taken_slug_and_other_rules(client, db, make_tenant):
    make_tenant(slug="taken-co")
    body = _post(client, slug="taken-co").get_data(as_text=True)
    assert "already taken" in body
    body = _post(client, slug="new-co", password="short", confirm="short").get_data(as_text=True)
    assert "at least 10" in body
    body = _post(client, slug="new-co", confirm="different-password").get_data(as_text=True)
    assert "differ" in body
    body = _post(client, slug="new-co", email="not-an-email").get_data(as_text=True)
    assert "valid e-mail" in body
    response = _post(client, slug="new-co", timezone="Mars/Olympus")
    assert response.status_code == 422
    # nothing typed is lost
    assert 'value="Hangzhou Pumps Co."' in response.get_data(as_text=True)


def test_slug_check_fragment(client, db, make_tenant):
    make_tenant(slug="busy-co")
    assert "already taken" in client.get("/signup/check-slug?slug=busy-co").get_data(as_text=True)
    assert "is free" in client.get("/signup/check-slug?slug=free-co").get_data(as_text=True)


def test_expired_confirmation_is_refused_and_can_be_resent(client, db):
    from datetime import timedelta

    from portal.models import SignInToken

    _post(client, slug="late-co")
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "late-co"))
    with activate(tenant):
        row = db.session.scalar(select(SignInToken))
        row.expires_at = row.expires_at - timedelta(days=3)
        row.created_at = row.created_at - timedelta(days=3)  # resending is rate-limited
        db.session.flush()
    link = _confirmation_link(GOOD["email"].lower())
    page = client.get(_link_path(link))
    assert "expired" in page.get_data(as_text=True)
    token = csrf_from(page.get_data(as_text=True))
    client.post(_link_path(link), data={"csrf_token": token})
    db.session.refresh(tenant)
    assert tenant.status == "pending"
    # resend: a new link that works
    sent = client.get("/signup/late-co/sent")
    client.post("/signup/late-co/resend", data={"csrf_token": csrf_from(sent.get_data(as_text=True))})
    new_link = _confirmation_link(GOOD["email"].lower())
    assert new_link != link
    page = client.get(_link_path(new_link))
    client.post(_link_path(new_link), data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    db.session.refresh(tenant)
    assert tenant.status == "active"
