"""Cost entries of a complaint and its cost-transfer sheet (质量事故费用转移单): what the
case cost, in which category, and which department bears it."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import select

from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models import COST_CATEGORIES, Complaint, CostEntry, Department, ServiceRequest, utcnow
from .permissions import Refused, require
from .timeline import record


def add_cost(complaint: Complaint, actor, *, category: str, amount: Decimal,
             currency: str = "CNY", department_id: int | None = None,
             note: str | None = None) -> CostEntry:
    require(actor, "cost", complaint)
    if category not in COST_CATEGORIES:
        raise Refused("invalid", _l("Choose a value from the list."))
    if amount is None or amount <= 0:
        raise Refused("amount", _l("Enter an amount above zero."))
    if department_id is not None and db.session.get(Department, department_id) is None:
        raise Refused("invalid", _l("Choose a value from the list."))
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
    amount per category and in total, and the grand totals per currency."""
    by_department: dict = defaultdict(lambda: defaultdict(Decimal))
    totals: dict = defaultdict(Decimal)
    for entry in entries:
        name = department_names.get(entry.responsible_department_id, "—")
        by_department[(name, entry.currency)][entry.category] += entry.amount
        by_department[(name, entry.currency)]["total"] += entry.amount
        totals[entry.currency] += entry.amount
    return {"by_department": {k: dict(v) for k, v in by_department.items()},
            "totals": dict(totals)}
