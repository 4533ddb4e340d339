"""Customer demands turned into work: replacement or exchange goods shipped by logistics, a
return accepted only after the tenant's approval chain has signed, a claim with its amount
approved by a manager and paid by finance. Every step writes the timeline; none commits."""

from __future__ import annotations

from decimal import Decimal

from ..events import announce
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models import ApprovalStep, Complaint, ServiceRequest, Tenant, utcnow
from .permissions import FORBIDDEN, NOT_NOW, Refused, may, require
from .timeline import actor_roles, record
from .vocabulary import CARRIER_LABELS, CARRIERS, CHARGEABLE_KINDS

KINDS = ("replacement", "exchange", "return", "claim", "onsite")
CLAIM_CHAIN = ["manager"]


def create_request(complaint: Complaint, actor, *, kind: str, quantity: int | None = None,
                   amount: Decimal | None = None, note: str | None = None,
                   note_shown: bool = False) -> ServiceRequest:
    """Turn a demand into a request. A return gets the tenant's approval chain, a claim a
    manager's approval; replacement and exchange go straight to logistics."""
    require(actor, "request", complaint)
    if kind not in KINDS:
        raise Refused("invalid", _l("Choose a value from the list."))
    if kind == "claim" and (amount is None or amount <= 0):
        raise Refused("amount", _l("Enter the amount claimed."))
    if kind != "claim" and (quantity is None or quantity <= 0):
        raise Refused("quantity", _l("Enter the quantity."))
    request = ServiceRequest(complaint_id=complaint.id, kind=kind, quantity=quantity,
                             amount=amount, note=(note or "").strip() or None,
                             created_by_id=actor.id,
                             status="pending_approval" if kind in ("return", "claim") else "open",
                             chargeable=is_chargeable(complaint, kind))
    chain = []
    if kind == "return":
        tenant = db.session.get(Tenant, complaint.tenant_id)
        chain = list(tenant.setting("return_approval_chain") or [])
    elif kind == "claim":
        chain = CLAIM_CHAIN
    for position, role in enumerate(chain, start=1):
        request.approvals.append(ApprovalStep(position=position, role=role))
    if not chain and kind in ("return", "claim"):
        request.status = "approved"
    db.session.add(request)
    db.session.flush()
    record(complaint, actor, "request.created", message=request.note,
           data={"request_id": request.id, "kind": kind, "quantity": quantity,
                 "amount": str(amount) if amount is not None else None,
                 "chargeable": request.chargeable},
           shown=note_shown)
    if kind in ("return", "exchange"):  # the goods coming back get their record (RMA)
        from ..returns.records import open_for_request

        open_for_request(complaint, request, actor)
    complaint.updated_at = utcnow()
    db.session.flush()
    announce("request_created", complaint, actor, request_id=request.id, kind=kind)
    return request


def is_chargeable(complaint: Complaint, kind: str) -> bool:
    """Replacement and on-site service asked for a complaint out of warranty (on the day it
    came in) are billed to the customer; in warranty or unknown, they are not."""
    return kind in CHARGEABLE_KINDS and complaint.warranty_status == "expired"


def next_step(request: ServiceRequest) -> ApprovalStep | None:
    if request.status != "pending_approval":
        return None
    return next((s for s in request.approvals if s.decision is None), None)


def _signed_before(request: ServiceRequest, actor) -> bool:
    return any(s.decided_by_id == getattr(actor, "id", None) for s in request.approvals
               if s.decision is not None)


def may_decide(request: ServiceRequest, actor) -> bool:
    """The next step's role is the actor's, and the actor has not signed an earlier step
    (each signature of a chain is a different person)."""
    step = next_step(request)
    return (step is not None and step.role in actor_roles(actor)
            and not _signed_before(request, actor))


def decide(complaint: Complaint, request: ServiceRequest, actor, *, approve: bool,
           note: str | None, note_shown: bool = False) -> ApprovalStep:
    """Sign the next step of the approval chain (approved or refused), by user and time. A
    refusal ends the request; the last approval approves it."""
    step = next_step(request)
    if step is None:
        raise Refused("not_from_status", NOT_NOW)
    if step.role not in actor_roles(actor):
        raise Refused("forbidden", FORBIDDEN)
    if _signed_before(request, actor):
        raise Refused("forbidden", _l("You signed an earlier step of this approval; "
                                              "the next signature must be someone else's."))
    note = (note or "").strip() or None
    if not approve and not note:
        raise Refused("message_required", _l("Please write a message for this step."))
    step.decision = "approved" if approve else "refused"
    step.decided_by_id = actor.id
    step.decided_at = utcnow()
    step.note = note
    if not approve:
        request.status = "refused"
        if request.kind == "return":
            from ..returns.records import on_request_refused

            on_request_refused(request)
    elif next_step(request) is None:
        request.status = "approved"
    record(complaint, actor, "request.approval", message=note,
           data={"request_id": request.id, "kind": request.kind, "role": step.role,
                 "decision": step.decision, "status": request.status},
           shown=note_shown)
    complaint.updated_at = utcnow()
    db.session.flush()
    if request.status in ("approved", "refused"):
        announce(f"request_{request.status}", complaint, actor, request_id=request.id,
                 kind=request.kind)
    else:  # the next signer's turn (portal/notifications/routing.py tells them)
        announce("approval_needed", complaint, actor, request_id=request.id, kind=request.kind)
    return step


def ship(complaint: Complaint, request: ServiceRequest, actor, *, carrier: str | None,
         tracking_number: str, carrier_name: str | None = None) -> None:
    """Logistics ships replacement or exchange goods: by which carrier (one of the common
    ones, or "other" with its name) and under which tracking number."""
    require(actor, "ship")
    if request.kind not in ("replacement", "exchange") or request.status != "open":
        raise Refused("not_from_status", NOT_NOW)
    if carrier not in CARRIERS:
        raise Refused("carrier", _l("Choose the carrier."))
    carrier_name = (carrier_name or "").strip() if carrier == "other" else ""
    if carrier == "other" and not carrier_name:
        raise Refused("carrier_name", _l("Enter the carrier's name."))
    tracking_number = (tracking_number or "").strip()
    if not tracking_number:
        raise Refused("tracking", _l("Enter the tracking number."))
    request.carrier, request.carrier_name = carrier, carrier_name or None
    request.tracking_number = tracking_number
    request.shipped_at = utcnow()
    request.status = "shipped"
    record(complaint, actor, "request.shipped", message=tracking_number,
           data={"request_id": request.id, "kind": request.kind, "carrier": carrier,
                 "carrier_name": request.carrier_name})
    complaint.updated_at = utcnow()
    db.session.flush()
    announce("request_shipped", complaint, actor, request_id=request.id, kind=request.kind)


def carrier_text(carrier: str | None, name: str | None = None) -> str:
    """The carrier as the reader sees it: its label in the reader's language, or the name
    typed for "other"."""
    if carrier == "other":
        return name or str(CARRIER_LABELS["other"])
    return str(CARRIER_LABELS[carrier]) if carrier in CARRIER_LABELS else ""


def may_finish(request: ServiceRequest, actor) -> bool:
    """A claim paid (a return's goods are received on its record: portal/returns/)."""
    if request.kind == "claim":
        return request.status == "approved" and may(actor, "pay")
    return False


def finish(complaint: Complaint, request: ServiceRequest, actor, *, note: str | None,
           note_shown: bool = False) -> None:
    """An approved claim paid (finance)."""
    if not may_finish(request, actor):
        raise Refused("forbidden", FORBIDDEN)
    request.status = "received" if request.kind == "return" else "paid"
    record(complaint, actor, f"request.{request.status}", message=(note or "").strip() or None,
           data={"request_id": request.id, "kind": request.kind}, shown=note_shown)
    complaint.updated_at = utcnow()
    db.session.flush()
    announce(f"request_{request.status}", complaint, actor, request_id=request.id,
             kind=request.kind)
