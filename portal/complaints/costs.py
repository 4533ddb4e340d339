"""Cost entries of a complaint and its cost-transfer sheet (质量事故费用转移单): what the
case cost, in which category, and which department bears it.

An entry is never edited or deleted: a correction records a new entry that replaces it
(``correct_cost``), a void takes it out (``void_cost``), each with a reason, who and when, and a
timeline entry. The original stays on the sheet marked corrected or voided; only active
entries (``ACTIVE``) count in any total — the sheet, the cost-transfer PDF, supplier
charge-backs and the analytics."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import select

from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models import (
    COST_CATEGORIES,
    Complaint,
    CostEntry,
    Department,
    ServiceRequest,
    SupplierCharge,
    utcnow,
)
from .permissions import Refused, require
from .timeline import record

# The filter every total applies: corrected and voided entries count nowhere.
ACTIVE = CostEntry.state == "active"
REASON_MAX = 2000


def _check(category: str, amount: Decimal | None, department_id: int | None) -> None:
    if category not in COST_CATEGORIES:
        raise Refused("invalid", _l("Choose a value from the list."))
    if amount is None or amount <= 0:
        raise Refused("amount", _l("Enter an amount above zero."))
    if department_id is not None and db.session.get(Department, department_id) is None:
        raise Refused("invalid", _l("Choose a value from the list."))


def add_cost(complaint: Complaint, actor, *, category: str, amount: Decimal,
             currency: str = "CNY", department_id: int | None = None,
             note: str | None = None) -> CostEntry:
    require(actor, "cost", complaint)
    _check(category, amount, department_id)
    entry = CostEntry(complaint_id=complaint.id, category=category, amount=amount,
                      currency=currency, responsible_department_id=department_id,
                      note=(note or "").strip() or None, created_by_id=actor.id,
                      chargeable=_chargeable(complaint, category))
    db.session.add(entry)
    db.session.flush()
    record(complaint, actor, "cost.added", message=entry.note,
           data={"cost_id": entry.id, "category": category, "amount": str(amount),
                 "currency": currency, "department_id": department_id,
                 "chargeable": entry.chargeable})
    complaint.updated_at = utcnow()
    db.session.flush()
    return entry


def _chargeable(complaint: Complaint, category: str) -> bool:
    """A cost of the kind of a chargeable request (replacement, on-site service) of the
    complaint is carried as chargeable to the customer."""
    return db.session.scalar(select(ServiceRequest.id).where(
        ServiceRequest.complaint_id == complaint.id, ServiceRequest.kind == category,
        ServiceRequest.chargeable.is_(True)).limit(1)) is not None


def summarize(entries: list[CostEntry], department_names: dict[int, str]) -> dict:
    """The cost-transfer sheet's figures: per responsible department (and currency) the
    amount per category and in total, and the grand totals per currency, of the active
    entries (corrected and voided ones are listed on the sheet but count nowhere)."""
    by_department: dict = defaultdict(lambda: defaultdict(Decimal))
    totals: dict = defaultdict(Decimal)
    for entry in entries:
        if entry.state != "active":
            continue
        name = department_names.get(entry.responsible_department_id, "—")
        by_department[(name, entry.currency)][entry.category] += entry.amount
        by_department[(name, entry.currency)]["total"] += entry.amount
        totals[entry.currency] += entry.amount
    return {"by_department": {k: dict(v) for k, v in by_department.items()},
            "totals": dict(totals)}


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise Refused("message_required", _l("Say why."))
    if len(text) > REASON_MAX:
        raise Refused("invalid", _l("Keep it under %(n)d characters.", n=REASON_MAX))
    return text


def _close(entry: CostEntry, actor, state: str, reason: str) -> None:
    if entry.state != "active":
        raise Refused("not_from_status", _l("This cost entry was already corrected or voided."))
    entry.state, entry.state_reason = state, reason
    entry.state_by_id, entry.state_at = actor.id, utcnow()


def correct_cost(complaint: Complaint, entry: CostEntry, actor, *, reason: str, category: str,
                 amount: Decimal, currency: str = "CNY", department_id: int | None = None,
                 note: str | None = None) -> CostEntry:
    """Replace ``entry`` by a new entry with the corrected values; the original stays,
    marked corrected and pointing to its replacement. A charge-back to a supplier follows the
    replacement."""
    require(actor, "cost_correct", complaint)
    if entry.complaint_id != complaint.id:
        raise Refused("invalid", _l("Choose a value from the list."))
    text = _reason(reason)
    _check(category, amount, department_id)
    _close(entry, actor, "corrected", text)
    new = CostEntry(complaint_id=complaint.id, category=category, amount=amount,
                    currency=currency, responsible_department_id=department_id,
                    note=(note or "").strip() or None, created_by_id=actor.id)
    db.session.add(new)
    db.session.flush()
    entry.replaced_by_id = new.id
    charge = db.session.scalar(select(SupplierCharge).where(
        SupplierCharge.cost_entry_id == entry.id))
    if charge is not None:
        db.session.add(SupplierCharge(request_id=charge.request_id,
                                      supplier_id=charge.supplier_id, cost_entry_id=new.id))
    record(complaint, actor, "cost.corrected", message=text,
           data={"cost_id": entry.id, "new_cost_id": new.id,
                 "from": f"{entry.amount} {entry.currency}", "to": f"{amount} {currency}",
                 "category": category, "department_id": department_id})
    complaint.updated_at = utcnow()
    db.session.flush()
    return new


def void_cost(complaint: Complaint, entry: CostEntry, actor, *, reason: str) -> CostEntry:
    """Take ``entry`` out of every total; it stays listed, marked voided, with the reason."""
    require(actor, "cost_correct", complaint)
    if entry.complaint_id != complaint.id:
        raise Refused("invalid", _l("Choose a value from the list."))
    text = _reason(reason)
    _close(entry, actor, "voided", text)
    record(complaint, actor, "cost.voided", message=text,
           data={"cost_id": entry.id, "amount": str(entry.amount), "currency": entry.currency,
                 "category": entry.category})
    complaint.updated_at = utcnow()
    db.session.flush()
    return entry
