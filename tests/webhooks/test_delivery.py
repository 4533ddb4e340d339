"""Webhook deliveries to a real local receiver: signed (checked with the documented snippet),
retried with exponential backoff, paused after failing in a row (admins told), replayed, sent
once however often the job runs, no redirects followed, timeouts kept."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from jobs.webhooks import deliver
from portal import uow, webhooks
from portal.models import Notification, OutboxMessage, WebhookDelivery, utcnow
from portal.tenancy import activate, unscoped


@pytest.fixture
def loopback(app, monkeypatch):
    """Tests allow loopback explicitly (nothing else private)."""
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", "127.0.0.1/32")
    monkeypatch.setitem(app.config, "WEBHOOK_TIMEOUT_SECONDS", 2)
    monkeypatch.setitem(app.config, "WEBHOOK_BACKOFF_SECONDS", 30)
    monkeypatch.setitem(app.config, "WEBHOOK_ATTEMPTS", 6)
    monkeypatch.setitem(app.config, "WEBHOOK_PAUSE_AFTER", 15)


@pytest.fixture
def hooked(db, loopback, receiver, make_tenant, make_staff):
    tenant = make_tenant()
    admin = make_staff(tenant, "admin")
    with activate(tenant):
        subscription = webhooks.create_subscription(
            admin, name="BI", url=receiver.url, events=["submitted", "closed"])
        uow.commit()
    return tenant, admin, subscription


def _file(tenant, make_complaint):
    complaint = make_complaint(tenant)
    with activate(tenant):
        number = complaint.number
        uow.commit()  # after commit the outbox relays: in process here, so it is sent now
    return number


def _deliveries(db, tenant):
    with activate(tenant):
        db.session.expire_all()
        return list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)
                                       .options(joinedload(WebhookDelivery.subscription))))


def test_delivery_is_signed_and_verified_with_the_documented_snippet(
        db, hooked, receiver, make_complaint, documented_verify):
    tenant, _admin, subscription = hooked
    number = _file(tenant, make_complaint)

    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert request["path"] == "/hooks/closeloop?source=test"
    with activate(tenant):
        secret = webhooks.subscription_secret(subscription)
    header = request["headers"]["Closeloop-Signature"]
    assert documented_verify(secret, header, request["body"])
    assert not documented_verify(secret, header, request["body"] + b" ")
    assert not documented_verify("whsec_other", header, request["body"])
    payload = json.loads(request["body"])
    assert payload["event"] == "submitted" and request["headers"]["Closeloop-Event"] == "submitted"
    assert payload["complaint"]["number"] == number
    assert payload["tenant"] == tenant.slug
    assert request["headers"]["Closeloop-Event-Id"] == payload["id"]

    [delivery] = _deliveries(db, tenant)
    assert (delivery.status, delivery.response_code, delivery.attempts) == ("delivered", 200, 1)
    assert delivery.duration_ms is not None and delivery.delivered_at is not None


def test_an_old_signature_is_refused_by_the_snippet(documented_verify):
    body = b'{"event":"closed"}'
    old = webhooks.sign("whsec_x", body, timestamp=1_000_000_000)
    assert not documented_verify("whsec_x", old, body)
    assert documented_verify("whsec_x", webhooks.sign("whsec_x", body), body)


def test_failures_are_retried_with_exponential_backoff(db, hooked, receiver, make_complaint):
    tenant, _admin, subscription = hooked
    receiver.reply_with(500, 503)
    _file(tenant, make_complaint)
    [delivery] = _deliveries(db, tenant)
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("retrying", 1, 500)
    first_delay = delivery.next_attempt_at - delivery.last_attempt_at
    assert first_delay == timedelta(seconds=30)
    with unscoped():
        retry = db.session.scalar(select(OutboxMessage).where(
            OutboxMessage.job_id == webhooks.deliver_job_id(delivery, 2)))
    assert retry.run_at == delivery.next_attempt_at and retry.relayed_at is None  # not yet due

    assert deliver(tenant.id, delivery.id) == "retrying"  # the scheduled retry runs
    [delivery] = _deliveries(db, tenant)
    assert delivery.attempts == 2 and delivery.response_code == 503
    assert delivery.next_attempt_at - delivery.last_attempt_at == timedelta(seconds=60)

    assert deliver(tenant.id, delivery.id) == "delivered"
    [delivery] = _deliveries(db, tenant)
    assert delivery.attempts == 3 and delivery.subscription.consecutive_failures == 0
    assert len(receiver.requests) == 3
    assert len({r["headers"]["Closeloop-Event-Id"] for r in receiver.requests}) == 1


def test_the_last_attempt_fails_the_delivery(app, db, hooked, receiver, make_complaint,
                                             monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ATTEMPTS", 2)
    tenant, _admin, _subscription = hooked
    receiver.reply_with(500, 500)
    _file(tenant, make_complaint)
    [delivery] = _deliveries(db, tenant)
    assert deliver(tenant.id, delivery.id) == "failed"
    [delivery] = _deliveries(db, tenant)
    assert delivery.next_attempt_at is None and delivery.attempts == 2


def test_a_receiver_failing_in_a_row_is_paused_and_admins_are_told(
        app, db, hooked, receiver, make_complaint, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_PAUSE_AFTER", 3)
    tenant, admin, subscription = hooked
    receiver.reply_with(500, 500, 500)
    _file(tenant, make_complaint)
    [delivery] = _deliveries(db, tenant)
    deliver(tenant.id, delivery.id)
    deliver(tenant.id, delivery.id)
    [delivery] = _deliveries(db, tenant)
    assert delivery.subscription.paused_at is not None
    with activate(tenant):
        told = db.session.scalars(select(Notification).where(
            Notification.event == "webhook.paused")).all()
        assert [n.recipient for n in told] == [admin.get_id()]
    assert told[0].data["name"] == "BI"

    # Paused: the pending retry is not sent, and new events make no deliveries.
    assert deliver(tenant.id, delivery.id) == "skipped"
    assert _deliveries(db, tenant)[0].status == "cancelled"
    _file(tenant, make_complaint)
    assert len(_deliveries(db, tenant)) == 1
    assert len(receiver.requests) == 3


def test_a_job_run_twice_sends_once(db, hooked, receiver, make_complaint):
    tenant, _admin, _subscription = hooked
    _file(tenant, make_complaint)
    [delivery] = _deliveries(db, tenant)
    assert deliver(tenant.id, delivery.id) == "skipped"
    assert deliver(tenant.id, delivery.id) == "skipped"
    assert len(receiver.requests) == 1
    # A claim another run holds is not taken again (until it is stale).
    with activate(tenant):
        delivery = db.session.get(WebhookDelivery, delivery.id)
        delivery.status, delivery.claimed_at = "sending", utcnow()
        db.session.flush()
        assert webhooks.claim(delivery.id) is None
        assert webhooks.claim(delivery.id) is None
        with unscoped():  # the holder may have died: one look again once the claim is stale
            rechecks = db.session.scalars(select(OutboxMessage).where(
                OutboxMessage.job_id.like(f"webhook-{tenant.id}-{delivery.id}-recheck-%"))).all()
        assert len(rechecks) == 1
        assert rechecks[0].run_at > utcnow() + timedelta(minutes=9)
        delivery.claimed_at = utcnow() - timedelta(hours=1)
        db.session.flush()
        assert webhooks.claim(delivery.id) is not None


def test_replay_sends_the_same_event_again(db, hooked, receiver, make_complaint):
    tenant, _admin, _subscription = hooked
    _file(tenant, make_complaint)
    [delivery] = _deliveries(db, tenant)
    with activate(tenant):
        webhooks.replay(db.session.get(WebhookDelivery, delivery.id))
        uow.commit()
    assert len(receiver.requests) == 2
    assert receiver.requests[0]["body"] == receiver.requests[1]["body"]
    [delivery] = _deliveries(db, tenant)
    assert delivery.attempts == 2 and delivery.status == "delivered"


def test_redirects_are_not_followed(db, hooked, receiver, make_complaint):
    tenant, _admin, _subscription = hooked
    receiver.reply_with(302, headers={"Location": "http://169.254.169.254/latest/meta-data"})
    _file(tenant, make_complaint)
    [delivery] = _deliveries(db, tenant)
    assert (delivery.status, delivery.response_code) == ("retrying", 302)
    assert delivery.error == "redirect not followed"
    assert len(receiver.requests) == 1


def test_a_slow_receiver_times_out(app, db, hooked, receiver, make_complaint, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_TIMEOUT_SECONDS", 1)
    tenant, _admin, _subscription = hooked
    receiver.holding = True
    _file(tenant, make_complaint)
    receiver.hold.set()
    [delivery] = _deliveries(db, tenant)
    assert delivery.status == "retrying" and delivery.response_code is None
    assert "Timeout" in delivery.error
    assert 900 <= delivery.duration_ms < 5000


def test_an_address_refused_at_send_time_is_not_called(app, db, hooked, receiver,
                                                       make_complaint, monkeypatch):
    """Subscribed while allowed; at send time the address is checked again (as after a DNS
    answer changed to an internal address) and nothing is sent."""
    tenant, _admin, _subscription = hooked
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", None)
    _file(tenant, make_complaint)
    [delivery] = _deliveries(db, tenant)
    assert delivery.status == "retrying" and delivery.error.startswith("refused:")
    assert receiver.requests == []
