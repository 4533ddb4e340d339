"""Webhook deliveries: claim (committed, so a second run of the job sends nothing), send,
record the outcome (and queue the next attempt)."""

from portal import uow, webhooks

from . import tenant_job


@tenant_job
def deliver(delivery_id: int) -> str:
    delivery = webhooks.claim(delivery_id)
    if delivery is None:
        return "skipped"
    uow.commit()
    result = webhooks.attempt(delivery)
    webhooks.record(delivery, result)
    return delivery.status
