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
from ..complaints.timeline import actor_roles
from ..extensions import db
from ..models import ApprovalStep, ServiceRequest, StaffUser, TimelineEvent

# Which customer kind each domain event becomes (None: the customer is not told).
CUSTOMER_EVENTS = {
    "information_requested": "customer.information_requested",
    "accepted": "customer.accepted",
    "rejected": "customer.rejected",
    "request_shipped": "customer.shipped",
    "request_received": "customer.received",
    "return_received": "customer.received",
    "return_appraised": "customer.return_appraised",
    "good_parts_issued": "customer.parts_issued",
    "answered": "customer.answered",
    "closed": "customer.closed",
    "eight_d_sent": "customer.eight_d",
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


def _asker(complaint) -> StaffUser | None:
    """Who asked the customer the latest question (an active staff user), if anyone."""
    actor = db.session.scalar(
        select(TimelineEvent.actor).where(TimelineEvent.complaint_id == complaint.id,
                                          TimelineEvent.kind == "transition.request_information")
        .order_by(TimelineEvent.id.desc()).limit(1))
    kind, _, ident = (actor or "").partition(":")
    user = _staff(int(ident)) if kind == "staff" and ident.isdigit() else None
    return user if user is not None and user.active else None


def _by_customer(event) -> bool:
    return getattr(event.actor, "kind", None) in ("contact", "visitor")


def _replied(event) -> list[tuple[str, list[StaffUser]]]:
    """The customer answered a question: whoever asked it waits for it (else the owner, else
    after-sales, who verify); a dispute or a reply outside a question: the owner, else
    quality."""
    if not _by_customer(event):
        return []
    complaint = event.complaint
    if event.name == "information_supplied":
        asker = _asker(complaint)
        return [("work.customer_replied",
                 [asker] if asker is not None else _owner_or(complaint, "after_sales"))]
    kind = "work.customer_disputed" if event.name == "customer_disputed" \
        else "work.customer_replied"
    return [(kind, _owner_or(complaint, "quality"))]


def _to_fulfil(event) -> list[tuple[str, list[StaffUser]]]:
    """A request ready to be carried out: a replacement or exchange as soon as it is made,
    an approved return (logistics receives it) or claim (finance pays it)."""
    request = db.session.get(ServiceRequest, event.data.get("request_id"))
    if request is None:
        return []
    ready = (request.status == "open" and event.name == "request_created") or \
        (request.status == "approved" and event.name in ("request_approved", "request_created"))
    if not ready:
        return []
    return [("work.request_to_fulfil",
             _with_role("finance" if request.kind == "claim" else "logistics"))]


def _owner_of(event) -> list[StaffUser]:
    return [u for u in [_staff(event.data.get("owner_id"))] if u]


def _department(event) -> list[tuple[str, list[StaffUser]]]:
    """Routed to a department: its people, but the owner, who is told as such."""
    department = (event.data.get("changes") or {}).get("responsible_department_id")
    if not department:
        return []
    owner_id = event.complaint.owner_id
    return [("work.department",
             [u for u in _of_department(department[1]) if u.id != owner_id])]


# event -> function(event) returning [(kind, recipients)]
_STAFF_ROUTES = {
    "submitted": lambda e: [("work.arrived", _with_role("after_sales"))],
    "accepted": lambda e: [] if "quality" in actor_roles(e.actor)
    else [("work.to_classify", _with_role("quality"))],
    "assigned": lambda e: [("work.assigned", _owner_of(e))],
    "classified": _department,
    "action_added": lambda e: [("work.action_assigned", _owner_of(e))],
    "containment_added": lambda e: [("work.action_assigned", _owner_of(e))],
    "request_created": lambda e: [("work.approval_waiting",
                                   next_signers(e.data.get("request_id"))), *_to_fulfil(e)],
    "approval_needed": lambda e: [("work.approval_waiting",
                                   next_signers(e.data.get("request_id")))],
    "request_approved": _to_fulfil,
    "information_supplied": _replied,
    "customer_disputed": _replied,
    "customer_replied": _replied,
    "effectiveness_to_verify": lambda e: [("work.to_verify", _with_role("quality"))],
    "return_received": lambda e: _return_recipients(e),
    "return_appraised": lambda e: _return_recipients(e),
}


def staff_recipients(event) -> list[tuple[str, list[StaffUser]]]:
    """``[(kind, recipients)]`` of staff to tell about ``event``; the actor is left out (you
    are not told about what you did yourself)."""
    route = _STAFF_ROUTES.get(event.name)
    result = route(event) if route is not None else []
    actor_id = getattr(event.actor, "id", None) if getattr(event.actor, "kind", None) == "staff" \
        else None
    return [(kind, [u for u in users if u.id != actor_id]) for kind, users in result]


def _of_kind(kind: str) -> list[StaffUser]:
    """The active people of the tenant's departments of ``kind`` (production, purchasing)."""
    from ..models import Department

    return list(db.session.scalars(select(StaffUser).join(
        Department, Department.id == StaffUser.department_id).where(
        Department.kind == kind, StaffUser.active.is_(True)).order_by(StaffUser.id)))


def _return_recipients(event) -> list[tuple[str, list[StaffUser]]]:
    """A return received: after-sales analyse it, quality will appraise it. Appraised: a
    self-made part's verdict goes to production, a purchased part's to purchasing, and
    after-sales hear it (they issue good parts against it)."""
    if event.name == "return_received":
        return [("work.return_received", _with_role("after_sales") + _with_role("quality"))]
    department = "purchasing" if event.data.get("origin") == "purchased" else "production"
    return [("work.return_appraised", _of_kind(department) + _with_role("after_sales"))]


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
    if event.name in ("return_received", "return_appraised", "good_parts_issued"):
        data.update(_return_data(event))
    if event.name in ("request_shipped", "request_received"):
        request = db.session.get(ServiceRequest, event.data.get("request_id"))
        if request is not None:
            data.update(request_kind=request.kind, tracking_number=request.tracking_number,
                        carrier=request.carrier, carrier_name=request.carrier_name)
    return data


def _return_data(event) -> dict:
    """The RMA number, and what the customer's page shows of the step: the verdict's
    customer words (as a code, rendered in the recipient's language), the quantity."""
    data = {"rma": event.data.get("rma")}
    if event.name == "return_appraised":
        data["verdict"] = event.data.get("verdict")
    else:
        data["quantity"] = event.data.get("quantity")
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
