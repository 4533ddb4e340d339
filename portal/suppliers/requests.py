"""Supplier corrective action requests (SCARs). Quality opens one against a complaint for a
purchased part; the supplier's contact answers through a one-time link (only its SHA-256 is
stored; it expires, can be re-sent — which replaces it — and revoked); quality accepts or
rejects the answer with a reason; replacement deliveries and charge-backs are recorded.
Every step goes on the complaint's timeline as an internal event. Operations flush; the
caller commits."""

from __future__ import annotations

import calendar
import hashlib
import secrets
from datetime import datetime, timedelta
from decimal import Decimal

from flask import url_for
from sqlalchemy import select

from ..complaints import costs
from ..complaints.operations import next_counter_value
from ..complaints.timeline import SYSTEM, record
from ..complaints.vocabulary import SUPPLIER_REQUEST_STATE_LABELS as STATE_LABELS  # noqa: F401
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..mail import queue_mail
from ..models import (
    SUPPLIER_ASKS,
    Complaint,
    Supplier,
    SupplierCharge,
    SupplierContact,
    SupplierRequest,
    Tenant,
    utcnow,
)

OPEN_ROLES = ("quality", "manager")  # open, re-send, revoke, decide, deliveries, charge-back
VIEW_ROLES = ("quality", "manager", "after_sales", "finance", "admin")
DEFAULT_ANSWER_MONTHS = 1  # tenant setting "supplier_answer_months" overrides
LINK_GRACE_DAYS = 14  # a link stays usable this long past the due time
TEXT_LIMIT = 4000

ASK_LABELS = {"replacement": _l("Replacement parts"), "eight_d": _l("8D report"),
              "credit": _l("Credit note")}


class RequestError(Exception):
    """A refused operation; ``field`` names the form field, ``message`` says why."""

    def __init__(self, field: str, message):
        super().__init__(str(message))
        self.field = field
        self.message = message


def _require(actor, roles=OPEN_ROLES) -> None:
    if not actor.has_role(*roles):
        raise PermissionError("role")


def answer_months(tenant: Tenant) -> int:
    value = (tenant.settings or {}).get("supplier_answer_months", DEFAULT_ANSWER_MONTHS)
    return value if isinstance(value, int) and 0 < value <= 12 else DEFAULT_ANSWER_MONTHS


def add_months(when: datetime, months: int) -> datetime:
    """The same day ``months`` later (the month's last day when it has fewer days)."""
    month = when.month - 1 + months
    year, month = when.year + month // 12, month % 12 + 1
    return when.replace(year=year, month=month,
                        day=min(when.day, calendar.monthrange(year, month)[1]))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _clean(text: str | None, field: str, required: bool = True) -> str | None:
    text = (text or "").strip()
    if not text:
        if required:
            raise RequestError(field, _l("This field is required."))
        return None
    if len(text) > TEXT_LIMIT:
        raise RequestError(field, _l("At most %(max)d characters.", max=TEXT_LIMIT))
    return text


def open_request(tenant: Tenant, complaint: Complaint, actor, *, supplier_id: int,
                 contact_id: int | None, part_number: str, defect: str,
                 defective_quantity: int, replacement_quantity: int = 0,
                 asks: list[str]) -> SupplierRequest:
    """Open a request and e-mail the supplier's contact its link."""
    _require(actor)
    supplier = db.session.get(Supplier, supplier_id)
    if supplier is None or not supplier.active:
        raise RequestError("supplier_id", _l("Choose a value from the list."))
    contact = db.session.get(SupplierContact, contact_id) if contact_id else None
    if contact is None:
        contact = next((c for c in supplier.contacts if c.active), None)
    if contact is None or contact.supplier_id != supplier.id or not contact.active:
        raise RequestError("contact_id", _l("This supplier has no active contact to write to."))
    if not asks or set(asks) - set(SUPPLIER_ASKS):
        raise RequestError("asks", _l("Choose at least one thing to ask for."))
    if not defective_quantity or defective_quantity < 1:
        raise RequestError("defective_quantity", _l("Enter a whole number of at least 1."))
    now = utcnow()
    scar = SupplierRequest(
        number=f"SCAR-{now.year}-{next_counter_value(f'scar-{now.year}'):04d}",
        complaint_id=complaint.id, supplier_id=supplier.id, contact_id=contact.id,
        part_number=_clean(part_number, "part_number")[:60], defect=_clean(defect, "defect"),
        defective_quantity=defective_quantity,
        replacement_quantity=max(replacement_quantity or 0, 0), asks=list(asks),
        opened_by_id=actor.id, due_at=add_months(now, answer_months(tenant)))
    db.session.add(scar)
    db.session.flush()
    _event(scar, actor, "supplier_request.opened", message=scar.defect,
           supplier=supplier.name, part_number=scar.part_number)
    send_link(tenant, scar, actor, first=True)
    return scar


def _event(scar: SupplierRequest, actor, kind: str, message: str | None = None, **data):
    record(scar.complaint or db.session.get(Complaint, scar.complaint_id), actor, kind,
           message=message, customer_visible=False,
           data={"supplier_request_id": scar.id, "number": scar.number, **data})


def send_link(tenant: Tenant, scar: SupplierRequest, actor, first: bool = False) -> str:
    """Issue a fresh link (the previous one stops working) and e-mail it. Returns the token."""
    _require(actor)
    if scar.state not in ("sent", "rejected"):
        raise RequestError("state", _l("The supplier has answered already."))
    contact = scar.contact
    if contact is None or not contact.active:
        raise RequestError("contact_id", _l("This supplier has no active contact to write to."))
    token = secrets.token_urlsafe(32)
    now = utcnow()
    scar.token_hash = token_hash(token)
    scar.token_sent_at = now
    scar.token_revoked_at = None
    scar.token_expires_at = max(scar.due_at, now) + timedelta(days=LINK_GRACE_DAYS)
    locale = contact.locale or scar.supplier.locale or tenant.default_locale
    queue_mail(contact.email, "supplier_request", locale, scar=scar, contact=contact,
               tenant=tenant, complaint=scar.complaint,
               link=url_for("customer.public_supplier_answer", tenant_slug=tenant.slug,
                            token=token, _external=True))
    if not first:
        _event(scar, actor, "supplier_request.link_sent", email=contact.email)
    db.session.flush()
    return token


def revoke_link(scar: SupplierRequest, actor) -> None:
    _require(actor)
    scar.token_hash = None
    scar.token_revoked_at = utcnow()
    _event(scar, actor, "supplier_request.link_revoked")
    db.session.flush()


def find_by_token(token: str) -> SupplierRequest | None:
    if not token or len(token) > 100:
        return None
    return db.session.scalar(select(SupplierRequest).where(
        SupplierRequest.token_hash == token_hash(token)))


def link_state(scar: SupplierRequest | None, now: datetime | None = None) -> str:
    """open, expired, used (answered) or unknown (no such link, revoked or replaced)."""
    if scar is None or scar.token_hash is None:
        return "unknown"
    if scar.state != "sent":
        return "used"
    if (now or utcnow()) >= scar.token_expires_at:
        return "expired"
    return "open"


def submit_answer(scar: SupplierRequest, *, name: str, containment: str, root_cause: str,
                  corrective_action: str) -> None:
    """The supplier's answer through the link; the link is used up."""
    if link_state(scar) != "open":
        raise RequestError("state", _l("This link can no longer be used."))
    scar.answered_by = _clean(name, "name")[:120]
    scar.containment = _clean(containment, "containment")
    scar.root_cause = _clean(root_cause, "root_cause")
    scar.corrective_action = _clean(corrective_action, "corrective_action")
    scar.answered_at = utcnow()
    scar.state = "answered"  # the link stays findable, to say it has been used
    _event(scar, SYSTEM, "supplier_request.answered", message=scar.root_cause,
           answered_by=scar.answered_by, on_time=scar.answered_at <= scar.due_at)
    db.session.flush()


def decide(tenant: Tenant, scar: SupplierRequest, actor, *, accept: bool,
           reason: str | None) -> None:
    """Accept or reject the answer. A rejection needs a reason and sends a fresh link."""
    _require(actor)
    if scar.state != "answered":
        raise RequestError("state", _l("There is no answer to decide on."))
    reason = _clean(reason, "reason", required=not accept)
    scar.decided_by_id, scar.decided_at = actor.id, utcnow()
    scar.decision_reason = reason
    scar.state = "accepted" if accept else "rejected"
    _event(scar, actor, "supplier_request.accepted" if accept else "supplier_request.rejected",
           message=reason)
    if not accept:
        send_link(tenant, scar, actor)
        scar.state = "sent"
    db.session.flush()


def record_delivery(scar: SupplierRequest, actor, quantity: int) -> None:
    _require(actor)
    if not quantity or quantity < 1 or quantity > 1_000_000:
        raise RequestError("quantity", _l("Enter a whole number of at least 1."))
    scar.replacement_delivered += quantity
    _event(scar, actor, "supplier_request.parts_delivered", quantity=quantity,
           delivered=scar.replacement_delivered)
    db.session.flush()


def charge_back(scar: SupplierRequest, actor, *, category: str, amount: Decimal,
                currency: str = "CNY", note: str | None = None) -> SupplierCharge:
    """A cost entry on the complaint, attributed to the supplier."""
    _require(actor)
    complaint = scar.complaint
    label = f"{scar.number} · {scar.supplier.name}"
    entry = costs.add_cost(complaint, actor, category=category, amount=amount,
                           currency=currency, note=f"{label}: {note}" if note else label)
    charge = SupplierCharge(request_id=scar.id, supplier_id=scar.supplier_id,
                            cost_entry_id=entry.id)
    db.session.add(charge)
    _event(scar, actor, "supplier_request.charged_back", amount=str(amount),
           currency=currency, cost_id=entry.id)
    db.session.flush()
    return charge


def supplier_costs(complaint_id: int) -> dict[int, str]:
    """Cost entry id -> the supplier it is charged back to, for a complaint's cost sheet."""
    return dict(db.session.execute(
        select(SupplierCharge.cost_entry_id, Supplier.name)
        .join(Supplier, Supplier.id == SupplierCharge.supplier_id)
        .join(SupplierRequest, SupplierRequest.id == SupplierCharge.request_id)
        .where(SupplierRequest.complaint_id == complaint_id)).all())


def close(scar: SupplierRequest, actor) -> None:
    _require(actor)
    if scar.state != "accepted":
        raise RequestError("state", _l("Only an accepted answer can be closed."))
    scar.state = "closed"
    _event(scar, actor, "supplier_request.closed")
    db.session.flush()


def overdue(now: datetime | None = None) -> list[SupplierRequest]:
    now = now or utcnow()
    return list(db.session.scalars(select(SupplierRequest).where(
        SupplierRequest.state == "sent", SupplierRequest.due_at <= now,
        SupplierRequest.escalated_at.is_(None))))


def escalate_all_overdue(now: datetime | None = None) -> int:
    """The deadline sweep's step for supplier answers: every tenant's late requests, once
    each (portal/deadlines/sweep.run calls it). Returns how many."""
    from ..tenancy import activate, unscoped

    now = now or utcnow()
    with unscoped():
        tenants = set(db.session.scalars(select(SupplierRequest.tenant_id).where(
            SupplierRequest.state == "sent", SupplierRequest.due_at <= now,
            SupplierRequest.escalated_at.is_(None))))
    count = 0
    for tenant_id in sorted(tenants):
        with activate(tenant_id):
            count += escalate_overdue(now)
    return count


def escalate_overdue(now: datetime | None = None) -> int:
    """Mark the active tenant's late requests escalated, once, on their complaints'
    timelines. Returns how many."""
    late = overdue(now)
    for scar in late:
        scar.escalated_at = now or utcnow()
        _event(scar, SYSTEM, "supplier_request.overdue", supplier=scar.supplier.name)
    db.session.flush()
    return len(late)
