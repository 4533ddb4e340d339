"""Accounts: passwords, throttling, CSRF, server-side sessions, one-time links, tenant walls."""

import re
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from portal.accounts import consume_token, issue_token
from portal.models import LoginSession, OutboxMessage, SignInToken
from portal.tenancy import activate, unscoped
from tests.conftest import PASSWORD, csrf_from


def test_password_hashes_are_argon2id_at_owasp_cost(db, make_tenant, make_staff):
    user = make_staff(make_tenant(), "quality")
    assert user.password_hash.startswith("$argon2id$")
    params = PasswordHasher().check_needs_rehash  # noqa: F841 — see the parameters below
    assert "m=19456,t=2,p=1" in user.password_hash


def test_wrong_password_is_refused_with_a_message(client, make_tenant, make_staff, sign_in):
    tenant = make_tenant()
    user = make_staff(tenant, "quality")
    response = sign_in(client, tenant, user.email, password="not-the-password")
    assert response.status_code == 422
    assert "The e-mail or password is not right." in response.get_data(as_text=True)
    assert user.email in response.get_data(as_text=True)  # what was typed is kept
    assert client.get(f"/t/{tenant.slug}/staff/").status_code == 302


def test_unknown_email_gives_the_same_answer(client, make_tenant, sign_in):
    tenant = make_tenant()
    response = sign_in(client, tenant, "nobody@example.com")
    assert response.status_code == 422
    assert "The e-mail or password is not right." in response.get_data(as_text=True)


def test_invalid_email_is_explained(client, make_tenant, sign_in):
    tenant = make_tenant()
    response = sign_in(client, tenant, "not-an-address")
    assert response.status_code == 422
    assert "Enter a valid e-mail address." in response.get_data(as_text=True)


def test_throttled_per_account_and_address_pair(client, app, make_tenant, make_staff, sign_in):
    tenant = make_tenant()
    user = make_staff(tenant, "quality")
    for _ in range(app.config["SIGNIN_FREE_FAILURES"]):
        assert sign_in(client, tenant, user.email, password="wrong").status_code == 422
    # Even the right password waits now, with a clear message.
    response = sign_in(client, tenant, user.email)
    assert response.status_code == 422
    assert "Too many failed attempts. Wait 30 seconds" in response.get_data(as_text=True)


def test_throttled_per_address_only_at_abusive_volume(client, app, make_tenant, sign_in,
                                                      monkeypatch):
    tenant = make_tenant()
    monkeypatch.setitem(app.config, "SIGNIN_MAX_FAILURES_PER_ADDRESS", 3)
    for n in range(3):
        sign_in(client, tenant, f"guess{n}@example.com", password="wrong")
    response = sign_in(client, tenant, "another@example.com", password="wrong")
    assert "Too many failed attempts" in response.get_data(as_text=True)


def test_missing_csrf_token_is_refused(client, make_tenant, make_staff):
    tenant = make_tenant()
    user = make_staff(tenant, "quality")
    response = client.post(f"/t/{tenant.slug}/staff/sign-in",
                           data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "Form expired" in response.get_data(as_text=True)
    assert client.get(f"/t/{tenant.slug}/staff/").status_code == 302


def test_cookie_captured_before_logout_is_refused_after(client, app, make_tenant, make_staff,
                                                        sign_in):
    tenant = make_tenant()
    user = make_staff(tenant, "quality")
    sign_in(client, tenant, user.email)
    captured = client.get_cookie("session").value
    assert client.get(f"/t/{tenant.slug}/staff/").status_code == 200
    page = client.get(f"/t/{tenant.slug}/staff/").get_data(as_text=True)
    client.post(f"/t/{tenant.slug}/staff/sign-out", data={"csrf_token": csrf_from(page)})

    thief = app.test_client()
    thief.set_cookie("session", captured)
    assert thief.get(f"/t/{tenant.slug}/staff/").status_code == 302


def test_password_change_ends_other_sessions(app, client, make_tenant, make_staff, sign_in):
    tenant = make_tenant()
    user = make_staff(tenant, "quality")
    other = app.test_client()
    sign_in(other, tenant, user.email)
    sign_in(client, tenant, user.email)
    page = client.get(f"/t/{tenant.slug}/staff/account/password").get_data(as_text=True)
    response = client.post(f"/t/{tenant.slug}/staff/account/password", data={
        "csrf_token": csrf_from(page), "current_password": PASSWORD,
        "new_password": "a-brand-new-passphrase", "confirm": "a-brand-new-passphrase"})
    assert response.status_code == 303
    assert client.get(f"/t/{tenant.slug}/staff/").status_code == 200  # this browser stays
    assert other.get(f"/t/{tenant.slug}/staff/").status_code == 302  # the other is out


def test_password_change_validation(client, make_tenant, make_staff, sign_in):
    tenant = make_tenant()
    user = make_staff(tenant, "quality")
    sign_in(client, tenant, user.email)
    url = f"/t/{tenant.slug}/staff/account/password"
    token = csrf_from(client.get(url).get_data(as_text=True))
    response = client.post(url, data={"csrf_token": token, "current_password": "wrong",
                                      "new_password": "short", "confirm": "different"})
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Use at least 10 characters." in text
    assert "The two passwords differ." in text


def test_admin_signs_a_user_out_everywhere(app, client, make_tenant, make_staff, sign_in):
    tenant = make_tenant()
    admin = make_staff(tenant, "admin")
    victim = make_staff(tenant, "quality")
    victim_browser = app.test_client()
    sign_in(victim_browser, tenant, victim.email)
    assert victim_browser.get(f"/t/{tenant.slug}/staff/").status_code == 200

    sign_in(client, tenant, admin.email)
    page = client.get(f"/t/{tenant.slug}/staff/admin/users").get_data(as_text=True)
    response = client.post(f"/t/{tenant.slug}/staff/admin/users/{victim.id}/sign-out-everywhere",
                           data={"csrf_token": csrf_from(page)})
    assert response.status_code == 303
    assert victim_browser.get(f"/t/{tenant.slug}/staff/").status_code == 302


def test_only_admins_sign_others_out(client, make_tenant, make_staff, sign_in):
    tenant = make_tenant()
    user = make_staff(tenant, "quality")
    sign_in(client, tenant, user.email)
    assert client.get(f"/t/{tenant.slug}/staff/admin/users").status_code == 403


def test_user_of_tenant_a_cannot_sign_in_on_tenant_b(client, make_tenant, make_staff, sign_in):
    a, b = make_tenant(), make_tenant()
    user = make_staff(a, "quality")
    response = sign_in(client, b, user.email)
    assert response.status_code == 422


def test_session_of_tenant_a_is_nobody_on_tenant_b(client, make_tenant, make_staff, sign_in):
    a, b = make_tenant(), make_tenant()
    user = make_staff(a, "admin")
    make_staff(b, "admin")
    sign_in(client, a, user.email)
    assert client.get(f"/t/{a.slug}/staff/").status_code == 200
    assert client.get(f"/t/{b.slug}/staff/").status_code == 302


def test_staff_cannot_use_the_customer_area_and_back(client, make_tenant, make_staff,
                                                     make_contact, sign_in):
    tenant = make_tenant()
    staff = make_staff(tenant, "quality")
    contact = make_contact(tenant)
    sign_in(client, tenant, staff.email)
    assert client.get(f"/t/{tenant.slug}/account/password").status_code == 302
    sign_in(client, tenant, contact.email, staff=False)
    assert client.get(f"/t/{tenant.slug}/staff/").status_code == 302
    assert client.get(f"/t/{tenant.slug}/account/password").status_code == 200


def test_deactivated_user_is_signed_out(client, db, make_tenant, make_staff, sign_in):
    tenant = make_tenant()
    user = make_staff(tenant, "quality")
    sign_in(client, tenant, user.email)
    with activate(tenant):
        user.active = False
        db.session.flush()
    assert client.get(f"/t/{tenant.slug}/staff/").status_code == 302


def test_session_cookie_flags(client, make_tenant, make_staff, sign_in):
    tenant = make_tenant()
    user = make_staff(tenant, "quality")
    response = sign_in(client, tenant, user.email)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_secure_cookie_in_production(monkeypatch):
    from portal import config

    monkeypatch.setenv("CLOSELOOP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    assert config.load("/tmp/unused")["SESSION_COOKIE_SECURE"] is True


def test_sign_in_redirects_only_within_the_site(client, make_tenant, make_staff):
    tenant = make_tenant()
    user = make_staff(tenant, "quality")
    url = f"/t/{tenant.slug}/staff/sign-in"
    token = csrf_from(client.get(url).get_data(as_text=True))
    response = client.post(url, data={"email": user.email, "password": PASSWORD,
                                      "csrf_token": token, "next": "https://evil.example.com/"})
    assert response.headers["Location"] == f"/t/{tenant.slug}/staff/"


# -- one-time sign-in links ----------------------------------------------------------------

def _request_link(client, tenant, email):
    page = client.get(f"/t/{tenant.slug}/sign-in").get_data(as_text=True)
    return client.post(f"/t/{tenant.slug}/sign-in/link",
                       data={"email": email, "csrf_token": csrf_from(page)})


def _link_from_outbox(db, tenant):
    with unscoped():
        message = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.tenant_id == tenant.id, OutboxMessage.job == "jobs.mail.send_email")
            .order_by(OutboxMessage.id.desc())).first()
    assert message is not None, "no e-mail queued"
    text = message.args[2]
    return re.search(r"http://[^\s]+/sign-in/link/[\w\-]+", text).group(0)


def test_sign_in_link_is_single_use(client, app, db, make_tenant, make_contact):
    tenant = make_tenant()
    contact = make_contact(tenant)
    response = _request_link(client, tenant, contact.email)
    assert response.status_code == 303
    link = _link_from_outbox(db, tenant).replace("http://localhost", "")

    # A GET (a mail scanner following the link) signs nobody in and uses nothing.
    assert client.get(link).status_code == 200
    assert client.get(f"/t/{tenant.slug}/account/password").status_code == 302
    page = client.get(link).get_data(as_text=True)
    response = client.post(link, data={"csrf_token": csrf_from(page)})
    assert response.status_code == 303
    assert client.get(f"/t/{tenant.slug}/account/password").status_code == 200

    other = app.test_client()
    page = other.get(link).get_data(as_text=True)
    response = other.post(link, data={"csrf_token": csrf_from(page)}, follow_redirects=True)
    assert "expired or was already used" in response.get_data(as_text=True)
    assert other.get(f"/t/{tenant.slug}/account/password").status_code == 302


def test_sign_in_link_expires(db, app, make_tenant, make_contact):
    tenant = make_tenant()
    contact = make_contact(tenant)
    with app.test_request_context(), activate(tenant):
        token = issue_token(contact)
        row = db.session.scalar(select(SignInToken))
        row.expires_at = row.expires_at - timedelta(hours=1)
        db.session.flush()
        assert consume_token(token) is None


def test_sign_in_link_does_not_reveal_unknown_addresses(client, db, make_tenant):
    tenant = make_tenant()
    response = _request_link(client, tenant, "stranger@example.com")
    assert response.status_code == 303
    with unscoped():
        assert db.session.scalars(select(OutboxMessage)).all() == []


def test_sign_in_link_of_another_tenant_does_nothing(client, db, make_tenant, make_contact):
    a, b = make_tenant(), make_tenant()
    contact = make_contact(a)
    _request_link(client, a, contact.email)
    link = _link_from_outbox(db, a).replace("http://localhost", "").replace(
        f"/t/{a.slug}/", f"/t/{b.slug}/")
    page = client.get(link).get_data(as_text=True)
    response = client.post(link, data={"csrf_token": csrf_from(page)}, follow_redirects=True)
    assert "expired or was already used" in response.get_data(as_text=True)


def test_logout_revokes_the_session_row(client, db, make_tenant, make_staff, sign_in):
    tenant = make_tenant()
    user = make_staff(tenant, "quality")
    sign_in(client, tenant, user.email)
    page = client.get(f"/t/{tenant.slug}/staff/").get_data(as_text=True)
    client.post(f"/t/{tenant.slug}/staff/sign-out", data={"csrf_token": csrf_from(page)})
    with activate(tenant):
        rows = db.session.scalars(select(LoginSession)).all()
    assert len(rows) == 1 and rows[0].revoked_at is not None


@pytest.mark.parametrize("target", ["//evil.example.com", "https://evil.example.com",
                                    "/\\evil.example.com", "javascript:alert(1)"])
def test_safe_next_refuses_other_sites(target):
    from portal.web import safe_next

    assert safe_next(target, "/home") == "/home"


def test_contact_without_password_can_set_one(client, make_tenant, make_contact, sign_in, db):
    """Visitors who became contacts by e-mail link have no password yet: they set one
    without being asked for a current password, then can sign in with it."""
    from portal.accounts import issue_token

    tenant = make_tenant()
    contact = make_contact(tenant, password_hash=None)
    with client.application.test_request_context(), activate(tenant):
        token = issue_token(contact)
        db.session.flush()
    link = f"/t/{tenant.slug}/sign-in/link/{token}"
    client.post(link, data={"csrf_token": csrf_from(client.get(link).get_data(as_text=True))})
    url = f"/t/{tenant.slug}/account/password"
    page = client.get(url).get_data(as_text=True)
    assert 'name="current_password"' not in page
    response = client.post(url, data={"csrf_token": csrf_from(page),
                                      "new_password": "my-first-passphrase",
                                      "confirm": "my-first-passphrase"})
    assert response.status_code == 303
    other = client.application.test_client()
    assert sign_in(other, tenant, contact.email, password="my-first-passphrase",
                   staff=False).status_code == 303
