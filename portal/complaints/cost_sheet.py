"""The cost-transfer sheet (质量事故费用转移单) as a printed form: what the complaint cost per
responsible department (or supplier, for charge-backs) and category, the entries behind it —
corrected and voided ones listed with their reason but counted nowhere — and the sign-off
of the departments that bear the cost, on the frame of every form (``pdf/_layout.html``)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import select

from ..extensions import db
from ..models import CostEntry, Department, StaffUser
from ..printing import bilingual_labels, render_pdf, signoff
from ..tenancy import current_tenant
from . import vocabulary as v


def _charged_to(rows, departments: dict, suppliers: dict) -> dict:
    """(bearer, currency) -> amount per category and "total", of the active entries; a
    charge-back's bearer is its supplier."""
    table: dict = defaultdict(lambda: defaultdict(Decimal))
    for row in rows:
        if row.state != "active":
            continue
        bearer = suppliers.get(row.id) or departments.get(row.responsible_department_id, "—")
        table[(bearer, row.currency)][row.category] += row.amount
        table[(bearer, row.currency)]["total"] += row.amount
    return {key: dict(value) for key, value in table.items()}


def numbers(rows) -> dict[int, int]:
    """Entry id -> its number on the complaint (1, 2, …), as the panel and the sheet show
    them and a correction refers to them."""
    return {row.id: n for n, row in enumerate(rows, start=1)}


def context(complaint) -> dict:
    from ..suppliers.requests import supplier_costs

    rows = db.session.scalars(select(CostEntry).where(CostEntry.complaint_id == complaint.id)
                              .order_by(CostEntry.id)).all()
    departments = dict(db.session.execute(select(Department.id, Department.name)).all())
    staff = dict(db.session.execute(select(StaffUser.id, StaffUser.name)).all())
    suppliers = supplier_costs(complaint.id)
    totals: dict = defaultdict(Decimal)
    for row in rows:
        if row.state == "active":
            totals[row.currency] += row.amount
    categories = [c for c in v.COST_CATEGORIES if any(r.category == c for r in rows)]
    return {
        "tenant": current_tenant, "doc_number": complaint.number, "complaint": complaint,
        "company": complaint.company, "costs": rows, "suppliers": suppliers,
        "numbers": numbers(rows),
        "charged": _charged_to(rows, departments, suppliers), "totals": dict(totals),
        "categories": categories, "cost_labels": bilingual_labels(v.COST_LABELS),
        "states": bilingual_labels(v.COST_STATE_LABELS), "departments": departments,
        "staff_names": staff,
        "signoffs": [signoff(v.SIGNOFF_LABELS[k])
                     for k in ("prepared", "department", "finance", "approved")],
    }


def pdf(complaint) -> bytes:
    return render_pdf("pdf/cost_transfer.html", **context(complaint))
