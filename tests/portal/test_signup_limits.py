"""Sign-up rate limits: per client address and per e-mail address (counted from the
database), and the confirmation resend; over a limit the form comes back (422) with what was
typed and a message saying how long to wait."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.models import OutboxMessage, SignInToken, Tenant, utcnow
from portal.signup import SIGNUPS_PER_ADDRESS, SIGNUPS_PER_EMAIL
from portal.tenancy import activate
from tests.conftest import csrf_from
from tests.portal.test_signup import GOOD, _english  # noqa: F401  (autouse fixture)


def _post(client, address="203.0.113.7", **changes):
    token = csrf_from(client.get("/signup").get_data(as_text=True))
    return client.post("/signup", data={**GOOD, **changes, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})


def _mails(db) -> int:
    return db.session.scalar(select(func.count(OutboxMessage.id)).where(
        OutboxMessage.job == "jobs.mail.send_email"))


def _age(db, slug: str, delta: timedelta) -> None:
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    tenant.created_at = utcnow() - delta
    db.session.flush()


def test_sign_ups_per_address_are_limited(client, db):
    limit = SIGNUPS_PER_ADDRESS[0]
    for i in range(limit):
        response = _post(client, slug=f"addr-co-{i}", email=f"boss{i}@example.com")
        assert response.status_code == 303, response.get_data(as_text=True)[:300]
    mails = _mails(db)
    refused = _post(client, slug="addr-co-x", email="other@example.com",
                    company_name="Ningbo Valves")
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Too many sign-ups from your network" in body and "try again in 1 hour" in body
    # what was typed is kept
    for kept in ('value="Ningbo Valves"', 'value="addr-co-x"', 'value="other@example.com"',
                 'value="Lin Wei"'):
        assert kept in body, kept
    assert db.session.scalar(select(Tenant).where(Tenant.slug == "addr-co-x")) is None
    assert _mails(db) == mails
    # another address is not affected
    assert _post(client, address="198.51.100.9", slug="addr-co-y",
                 email="y@example.com").status_code == 303
    # the wait shrinks as the oldest sign-up ages, and it ends after the hour
    _age(db, "addr-co-0", timedelta(minutes=40))
    body = _post(client, slug="addr-co-x", email="other@example.com").get_data(as_text=True)
    assert "try again in 20 minutes" in body
    _age(db, "addr-co-0", timedelta(minutes=61))
    assert _post(client, slug="addr-co-x", email="other@example.com").status_code == 303


def test_sign_ups_per_email_are_limited(client, db):
    limit = SIGNUPS_PER_EMAIL[0]
    for i in range(limit):
        assert _post(client, address=f"192.0.2.{i + 1}", slug=f"mail-co-{i}").status_code == 303
    _age(db, "mail-co-0", timedelta(hours=23, minutes=30))
    # another address, same e-mail (in other case): refused beside the field
    refused = _post(client, address="192.0.2.99", slug="mail-co-x",
                    email="LIN@hz-pumps.example.com")
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Too many sign-ups with this e-mail address" in body and "30 minutes" in body
    assert 'value="mail-co-x"' in body and 'value="Hangzhou Pumps Co."' in body
    assert db.session.scalar(select(Tenant).where(Tenant.slug == "mail-co-x")) is None
    # a day later the address may sign up again
    _age(db, "mail-co-0", timedelta(days=1, minutes=1))
    assert _post(client, address="192.0.2.99", slug="mail-co-x").status_code == 303


def test_sign_up_records_who_signed_up(client, db):
    _post(client, address="203.0.113.50", slug="who-co")
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "who-co"))
    assert tenant.signup_address == "203.0.113.50"
    assert tenant.signup_email == "lin@hz-pumps.example.com"


@pytest.fixture
def pending(client, db):
    assert _post(client, slug="resend-co").status_code == 303
    return db.session.scalar(select(Tenant).where(Tenant.slug == "resend-co"))


def _resend(client):
    sent = client.get("/signup/resend-co/sent")
    return client.post("/signup/resend-co/resend",
                       data={"csrf_token": csrf_from(sent.get_data(as_text=True))})


def test_resend_is_limited_per_sign_up(client, db, pending):
    mails = _mails(db)
    refused = _resend(client)
    assert refused.status_code == 429
    assert "ask for another in 2 minutes" in refused.get_data(as_text=True)
    assert _mails(db) == mails
    with activate(pending):
        row = db.session.scalar(select(SignInToken))
        row.created_at = utcnow() - timedelta(minutes=3)
        db.session.flush()
    assert _resend(client).status_code == 303
    assert _mails(db) == mails + 1
    assert _resend(client).status_code == 429  # the new link restarts the interval
    # at most ten links a day, however patient the sender
    with activate(pending):
        for row in db.session.scalars(select(SignInToken)):
            row.created_at = utcnow() - timedelta(hours=1)
        for _ in range(8):
            db.session.add(SignInToken(token_hash=f"{_:064d}", principal=row.principal,
                                       purpose=row.purpose, created_at=utcnow() - timedelta(
                                           hours=2), expires_at=utcnow()))
        db.session.flush()
    assert _resend(client).status_code == 429
    assert _mails(db) == mails + 1
