"""Who is told about a domain event, and how: the one place mapping each event of
``portal.events`` to its recipients and notification kinds.

Subscribed by the app factory (``portal.events.register``). It runs inside the transaction of
the operation that announced the event, and writes through ``notify()``: one in-app row per
recipient (unless they switched it off), an e-mail Delivery if they want one and the tenant
sends e-mail, one robot message per group robot subscribed to the kind — all sent by
``jobs.notify.deliver`` through the outbox, with RQ's retries. The dedupe key is the event's
id and the kind, extended per recipient by ``plan()``, so a repeated announcement of the same
event (or a job run twice) writes and sends nothing new; a delivery already sent is skipped.

Staff hear about their own work (``STAFF_KINDS``); the customer — the complaint's contact, or
the visitor who filed it — hears about the steps they wait for (``CUSTOMER_KINDS``), by an
e-mail with a link that signs them straight in (``customer_link``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ..complaints import audience
from ..extensions import db
from ..models import ApprovalStep, ServiceRequest, StaffUser, TimelineEvent

# Which customer kind each domain event becomes (None: the customer is not told).
CUSTOMER_EVENTS = {
    "information_requested": "customer.information_requested",
    "accepted": "customer.accepted",
    "rejected": "customer.rejected",
    "request_shipped": "customer.shipped",
    "request_received": "customer.received",
    "answered": "customer.answered",
    "closed": "customer.closed",
}


@dataclass
class Visitor:
    """The person who filed a complaint without an account: told at the e-mail they left.
    No in-app bell to fill, so their rows are written read."""

    complaint_id: int
    email: str | None
    active: bool = True
    locale: str | None = None

    @property
    def notification_prefs(self) -> dict:
        from .messages import CUSTOMER_KINDS

        return {kind: {"in_app": False, "email": True} for kind in CUSTOMER_KINDS}

    def get_id(self) -> str:
        return f"complaint:{self.complaint_id}"


def _active_staff() -> list[StaffUser]:
    return list(db.session.scalars(select(StaffUser).where(StaffUser.active.is_(True))
                                   .order_by(StaffUser.id)))


def _with_role(role: str) -> list[StaffUser]:
    return [user for user in _active_staff() if role in (user.roles or ())]


def _of_department(department_id: int | None) -> list[StaffUser]:
    if department_id is None:
        return []
    return list(db.session.scalars(select(StaffUser).where(
        StaffUser.department_id == department_id, StaffUser.active.is_(True))))


def _staff(ident) -> StaffUser | None:
    return db.session.get(StaffUser, ident) if ident else None


def next_signers(request_id: int) -> list[StaffUser]:
    """The people who may sign the next step of a request's approval chain: holders of its
    role who did not sign an earlier step (the same person may not sign twice)."""
    request = db.session.get(ServiceRequest, request_id)
    if request is None or request.status != "pending_approval":
        return []
    steps = list(db.session.scalars(select(ApprovalStep).where(
        ApprovalStep.request_id == request.id).order_by(ApprovalStep.position)))
    step = next((s for s in steps if s.decision is None), None)
    if step is None:
        return []
    signed = {s.decided_by_id for s in steps if s.decided_by_id}
    return [user for user in _with_role(step.role) if user.id not in signed]


def _owner_or(complaint, role: str) -> list[StaffUser]:
    """The complaint's owner; without one, the people of ``role`` (someone must hear it)."""
    owner = _staff(complaint.owner_id)
    return [owner] if owner is not None and owner.active else _with_role(role)


def staff_recipients(event) -> list[tuple[str, list[StaffUser]]]:
    """``[(kind, recipients)]`` of staff to tell about ``event``; the actor is left out (you
    are not told about what you did yourself)."""
    complaint, data = event.complaint, event.data
    result: list[tuple[str, list[StaffUser]]] = []
    if event.name == "submitted":
        result.append(("work.arrived", _with_role("after_sales")))
    elif event.name == "assigned":
        result.append(("work.assigned", [u for u in [_staff(data.get("owner_id"))] if u]))
    elif event.name == "classified":
        department = (data.get("changes") or {}).get("responsible_department_id")
        if department:
            result.append(("work.department", _of_department(department[1])))
    elif event.name in ("action_added", "containment_added"):
        result.append(("work.action_assigned",
                       [u for u in [_staff(data.get("owner_id"))] if u]))
    elif event.name in ("request_created", "approval_needed"):
        result.append(("work.approval_waiting", next_signers(data.get("request_id"))))
    elif event.name in ("information_supplied", "customer_disputed"):
        if getattr(event.actor, "kind", None) in ("contact", "visitor"):
            kind = "work.customer_replied" if event.name == "information_supplied" \
                else "work.customer_disputed"
            result.append((kind, _owner_or(complaint, "quality")))
    elif event.name == "effectiveness_to_verify":
        result.append(("work.to_verify", _with_role("quality")))
    actor_id = getattr(event.actor, "id", None) if getattr(event.actor, "kind", None) == "staff" \
        else None
    return [(kind, [u for u in users if u.id != actor_id]) for kind, users in result]


def customer_recipients(complaint) -> list:
    """The complaint's contact, else the visitor at the e-mail they left."""
    contact = complaint.contact
    if contact is not None:
        return [contact]
    if complaint.reporter_email:
        return [Visitor(complaint.id, complaint.reporter_email)]
    return []


def _customer_data(event) -> dict:
    """What the customer's message says beyond the number: the question, the reason, the
    tracking number. Only texts shown to the customer on the portal are copied."""
    complaint, data = event.complaint, {}
    if event.name in ("information_requested", "answered", "rejected"):
        shown = db.session.scalar(
            select(TimelineEvent).where(TimelineEvent.complaint_id == complaint.id,
                                        TimelineEvent.to_status == data_status(event),
                                        TimelineEvent.customer_visible.is_(True))
            .order_by(TimelineEvent.id.desc()).limit(1))
        if shown is not None and audience.customer_text(shown):
            data["message"] = audience.customer_text(shown)
    if event.name in ("request_shipped", "request_received"):
        request = db.session.get(ServiceRequest, event.data.get("request_id"))
        if request is not None:
            data.update(request_kind=request.kind, tracking_number=request.tracking_number)
    return data


def data_status(event) -> str | None:
    return event.data.get("to_status")


def on_event(event) -> None:
    """The subscriber: tell the staff whose work it is, and the customer when they wait."""
    from . import notify

    complaint = event.complaint
    for kind, users in staff_recipients(event):
        if users:
            notify(kind, users, complaint=complaint,
                   dedupe_key=f"event:{event.id}:{kind}")
    kind = CUSTOMER_EVENTS.get(event.name)
    if event.name == "containment_started" and _tenant_of(complaint).setting(
            "tell_customer_containment"):
        kind = "customer.containment"
    if kind is None:
        return
    recipients = [r for r in customer_recipients(complaint)
                  if r.get_id() != _principal(event.actor)]
    if recipients:
        notify(kind, recipients, complaint=complaint, data=_customer_data(event),
               dedupe_key=f"event:{event.id}:{kind}")


def _tenant_of(complaint):
    from ..models import Tenant

    return db.session.get(Tenant, complaint.tenant_id)


def _principal(actor) -> str | None:
    try:
        return actor.get_id() if actor is not None else None
    except (AttributeError, TypeError):
        return None
