"""Webhooks out: a tenant subscribes URLs to domain events (portal/events.py); each event
becomes one delivery per subscription, a JSON body signed with HMAC-SHA256, sent by
``jobs.webhooks.deliver`` through the outbox.

The signature header is ``Closeloop-Signature: t=<unix seconds>,v1=<hex>`` where ``v1`` is
HMAC-SHA256 with the subscription's secret over ``"<t>.<body>"`` (docs/webhooks.md shows how
to verify it). A failed attempt is retried with exponential backoff (``WEBHOOK_BACKOFF_SECONDS``
doubling, ``WEBHOOK_ATTEMPTS`` in all), each retry an outbox job due later; a subscription
failing ``WEBHOOK_PAUSE_AFTER`` attempts in a row is paused and the tenant's admins are told.
Everything here flushes and never commits, except that the job commits its claim before it
sends (so a delivery is sent once, however often its job runs).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select, update

from ..extensions import db
from ..models import StaffUser, Tenant, WebhookDelivery, WebhookSubscription, utcnow
from ..queueing import enqueue
from ..secretbox import InvalidToken, decrypt, encrypt
from ..tenancy import active_tenant_id
from .net import RefusedAddress, Result, check_url, post

__all__ = ["RefusedAddress", "create_subscription", "deliver_job_id", "on_event", "payload",
           "replay", "resume", "sign", "subscription_secret", "update_subscription"]

SIGNATURE_HEADER = "Closeloop-Signature"
STALE_CLAIM = timedelta(minutes=10)


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The signature header's value for ``body`` sent at ``timestamp``."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def subscription_secret(subscription: WebhookSubscription) -> str | None:
    """The signing secret; None when it cannot be read (the encryption key changed)."""
    try:
        return decrypt(subscription.secret_encrypted)
    except InvalidToken:
        return None


def create_subscription(actor, *, name: str, url: str, events: list[str]) -> WebhookSubscription:
    """Subscribe ``url`` (checked: RefusedAddress when it may not be called) with a new secret."""
    check_url(url)
    subscription = WebhookSubscription(
        name=name, url=url, events=list(events), created_by_id=getattr(actor, "id", None),
        secret_encrypted=encrypt("whsec_" + secrets.token_urlsafe(32)))
    db.session.add(subscription)
    db.session.flush()
    return subscription


def update_subscription(subscription: WebhookSubscription, *, name: str | None = None,
                        url: str | None = None, events: list[str] | None = None,
                        active: bool | None = None) -> None:
    """Change what was given: a new URL is checked as on creation (RefusedAddress), events
    keep the catalogue's order, ``active`` switches sending on (resuming a paused receiver) or
    off. The secret stays. Flushes."""
    from ..events import EVENTS

    if url is not None and url != subscription.url:
        check_url(url)
        subscription.url = url
    if name is not None:
        subscription.name = name
    if events is not None:
        subscription.events = [e for e in EVENTS if e in events]
    if active is True and not subscription.active:
        resume(subscription)
    elif active is False:
        subscription.enabled = False
    db.session.flush()


def rotate_secret(subscription: WebhookSubscription) -> None:
    subscription.secret_encrypted = encrypt("whsec_" + secrets.token_urlsafe(32))


def resume(subscription: WebhookSubscription) -> None:
    subscription.paused_at = None
    subscription.consecutive_failures = 0
    subscription.enabled = True


def payload(event) -> dict:
    """What a receiver gets: the event, the complaint as it is now, who acted."""
    from ..events import describe_actor

    complaint = event.complaint
    tenant = db.session.get(Tenant, complaint.tenant_id)
    base = (current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    return {
        "id": event.id,
        "event": event.name,
        "occurred_at": event.occurred_at.isoformat(),
        "tenant": tenant.slug,
        "complaint": {
            "id": complaint.id, "number": complaint.number, "status": complaint.status,
            "title": complaint.title, "severity": complaint.severity,
            "info_class": complaint.info_class, "cause_category": complaint.cause_category,
            "channel": complaint.channel, "source": complaint.source,
            "customer_company_id": complaint.customer_company_id,
            "product_model_id": complaint.product_model_id, "owner_id": complaint.owner_id,
            "responsible_department_id": complaint.responsible_department_id,
            "url": f"{base}/t/{tenant.slug}/staff/complaints/{complaint.id}",
        },
        "actor": describe_actor(event.actor),
        "data": event.data,
    }


def deliver_job_id(delivery: WebhookDelivery, attempt: int) -> str:
    return f"webhook-{delivery.tenant_id}-{delivery.id}-{attempt}"


def on_event(event) -> None:
    """The events subscriber: one delivery per active subscription to this event, queued."""
    if active_tenant_id() != event.complaint.tenant_id:
        return  # seeding across tenants (the demo) sends nothing
    subscriptions = [s for s in db.session.scalars(
        select(WebhookSubscription).where(WebhookSubscription.enabled.is_(True),
                                          WebhookSubscription.paused_at.is_(None)))
        if event.name in (s.events or ())]
    if not subscriptions:
        return
    body = json.dumps(payload(event), ensure_ascii=False, separators=(",", ":"), default=str)
    for subscription in subscriptions:
        delivery = WebhookDelivery(subscription_id=subscription.id, event=event.name,
                                   event_id=event.id, complaint_id=event.complaint.id,
                                   body=body, status="pending")
        db.session.add(delivery)
        db.session.flush()
        enqueue("jobs.webhooks.deliver", delivery.id, job_id=deliver_job_id(delivery, 1))


def claim(delivery_id: int) -> WebhookDelivery | None:
    """Take the delivery for one attempt (the caller commits before sending). None when it was
    delivered or cancelled, or another run is sending it right now."""
    now = utcnow()
    taken = db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id,
               or_(WebhookDelivery.status.in_(("pending", "retrying")),
                   (WebhookDelivery.status == "sending")
                   & (WebhookDelivery.claimed_at < now - STALE_CLAIM)))
        .values(status="sending", claimed_at=now)
        .returning(WebhookDelivery.id)
        .execution_options(synchronize_session=False)
    ).scalar()
    if taken is None:
        _recheck_later(delivery_id)
        return None
    delivery = db.session.get(WebhookDelivery, delivery_id, populate_existing=True)
    if not delivery.subscription.active:
        delivery.status = "cancelled"
        delivery.error = "subscription paused or switched off"
        return None
    return delivery


def _recheck_later(delivery_id: int) -> None:
    """Another run holds the delivery. Should that run have died mid-send, the claim goes
    stale: look again then, so the delivery is not left "sending" for ever (a receiver may
    then get it twice, which the event id lets it notice)."""
    from sqlalchemy.exc import IntegrityError

    delivery = db.session.get(WebhookDelivery, delivery_id, populate_existing=True)
    if delivery is None or delivery.status != "sending" or delivery.claimed_at is None:
        return
    due = delivery.claimed_at + STALE_CLAIM + timedelta(seconds=30)
    try:
        with db.session.begin_nested():
            enqueue("jobs.webhooks.deliver", delivery.id, run_at=due,
                    job_id=f"webhook-{delivery.tenant_id}-{delivery.id}-recheck-"
                           f"{int(delivery.claimed_at.timestamp())}")
    except IntegrityError:
        pass  # already planned by an earlier run


def attempt(delivery: WebhookDelivery) -> Result:
    """Sign and send the delivery now (network only; nothing written)."""
    subscription = delivery.subscription
    secret = subscription_secret(subscription)
    if secret is None:
        return Result(None, 0, "the signing secret cannot be read: make a new one")
    body = delivery.body.encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Closeloop-Webhooks/1",
        "Closeloop-Event": delivery.event,
        "Closeloop-Delivery": str(delivery.id),
        "Closeloop-Event-Id": delivery.event_id,
        SIGNATURE_HEADER: sign(secret, body),
    }
    return post(subscription.url, body, headers)


def record(delivery: WebhookDelivery, result: Result) -> None:
    """Write the attempt's outcome; queue the next attempt or pause the subscription."""
    config = current_app.config
    now = utcnow()
    subscription = delivery.subscription
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.response_code = result.status
    delivery.duration_ms = result.duration_ms
    delivery.error = result.error
    if result.ok:
        delivery.status = "delivered"
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        subscription.consecutive_failures = 0
        return
    subscription.consecutive_failures += 1
    if delivery.attempts < int(config["WEBHOOK_ATTEMPTS"]):
        delay = int(config["WEBHOOK_BACKOFF_SECONDS"]) * 2 ** (delivery.attempts - 1)
        delivery.status = "retrying"
        delivery.next_attempt_at = now + timedelta(seconds=delay)
        enqueue("jobs.webhooks.deliver", delivery.id, run_at=delivery.next_attempt_at,
                job_id=deliver_job_id(delivery, delivery.attempts + 1))
    else:
        delivery.status = "failed"
        delivery.next_attempt_at = None
    if (subscription.paused_at is None
            and subscription.consecutive_failures >= int(config["WEBHOOK_PAUSE_AFTER"])):
        pause(subscription)


def pause(subscription: WebhookSubscription) -> None:
    """Stop sending to a receiver that keeps failing, and tell the tenant's admins."""
    from ..notifications import notify

    subscription.paused_at = utcnow()
    admins = [u for u in db.session.scalars(select(StaffUser).where(StaffUser.active.is_(True)))
              if u.has_role("admin")]
    notify("webhook.paused", admins,
           data={"name": subscription.name, "url": subscription.url[:120],
                 "failures": subscription.consecutive_failures},
           dedupe_key=f"webhook-paused-{subscription.id}-{subscription.paused_at.timestamp()}")


def replay(delivery: WebhookDelivery) -> None:
    """Send the delivery again (same body and event id, a new attempt), from the admin page."""
    delivery.status = "pending"
    delivery.claimed_at = None
    delivery.next_attempt_at = None
    db.session.flush()
    enqueue("jobs.webhooks.deliver", delivery.id,
            job_id=f"webhook-replay-{active_tenant_id()}-{delivery.id}-{secrets.token_hex(6)}")
