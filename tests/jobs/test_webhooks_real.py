"""A webhook through the real thing: outbox -> Redis -> `flask worker` -> a local receiver
that fails once; the retry is an outbox job due later (RQ's scheduler holds it), then the
delivery lands, signed as docs/webhooks.md says."""

from __future__ import annotations

import json
import uuid

import pytest

from portal import uow, webhooks
from tests.webhooks.conftest import documented_verify, receiver  # noqa: F401  (fixtures)

from .conftest import needs_services, wait_for

pytestmark = [needs_services, pytest.mark.services]


def test_a_failed_delivery_is_retried_by_the_worker_and_lands(real, receiver,  # noqa: F811
                                                               documented_verify):  # noqa: F811
    from portal.complaints.operations import submit_complaint
    from portal.models import Tenant, WebhookDelivery

    app = real.app_with(WEBHOOK_ALLOW_PRIVATE="127.0.0.1/32", WEBHOOK_BACKOFF_SECONDS=1)
    with real.tenant_context(app=app) as db:
        tenant = Tenant(slug=f"w{uuid.uuid4().hex[:8]}", name="Hook Works", default_locale="en")
        db.session.add(tenant)
        db.session.commit()
        tenant_id = tenant.id
    receiver.reply_with(500)
    with real.tenant_context(tenant_id, app=app) as db:
        tenant = db.session.get(Tenant, tenant_id)
        subscription = webhooks.create_subscription(None, name="MES", url=receiver.url,
                                                    events=["submitted"])
        secret = webhooks.subscription_secret(subscription)
        complaint, _ = submit_complaint(tenant, None, data={
            "reporter_name": "Buyer", "reporter_email": "b@buyer.example.com",
            "title": "Loose cable", "description": "It comes loose.", "defect_quantity": 1,
            "demands": ["answer"]})
        number = complaint.number
        uow.commit()

    real.start_worker(WEBHOOK_ALLOW_PRIVATE="127.0.0.1/32", WEBHOOK_BACKOFF_SECONDS="1")
    wait_for(lambda: len(receiver.requests) >= 2, timeout=60,
             what="the first attempt and its retry at the receiver")

    def delivered():
        with real.tenant_context(tenant_id, app=app) as db:
            row = db.session.query(WebhookDelivery).one()
            return row if row.status == "delivered" else None

    row = wait_for(delivered, timeout=30, what="the delivery recorded as delivered")
    assert (row.attempts, row.response_code) == (2, 200)
    last = receiver.requests[-1]
    assert documented_verify(secret, last["headers"]["Closeloop-Signature"], last["body"])
    assert json.loads(last["body"])["complaint"]["number"] == number
