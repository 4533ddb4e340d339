"""Sending notifications: one Delivery (an e-mail, a robot message) per job, retried by RQ."""

from __future__ import annotations

from portal import uow
from portal.extensions import db
from portal.models import Delivery, utcnow

from . import tenant_job


@tenant_job
def deliver(delivery_id: int) -> str:
    """Send the delivery unless already sent. On failure the attempt and error are committed
    (the tenant admin sees them) and the exception re-raised so RQ's Retry tries again."""
    from portal.notifications import send_delivery

    delivery = db.session.get(Delivery, delivery_id)
    if delivery is None or delivery.status == "sent":
        return "skipped"
    delivery.attempts = (delivery.attempts or 0) + 1
    try:
        send_delivery(delivery)
    except Exception as exc:
        db.session.rollback()
        delivery = db.session.get(Delivery, delivery_id)
        delivery.attempts = (delivery.attempts or 0) + 1
        delivery.status = "failed"
        delivery.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        uow.commit()
        raise
    delivery.status = "sent"
    delivery.sent_at = utcnow()
    delivery.last_error = None
    return "sent"
