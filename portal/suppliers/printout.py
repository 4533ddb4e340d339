"""The supplier corrective action request (供应商纠正预防措施要求) as a printed form: what is
asked of the supplier, their answer, quality's decision, replacement parts and the costs
charged back (corrected and voided ones listed, counted nowhere), with the sign-offs the
product records (issued, answered, decided) on the frame of every form
(``pdf/_layout.html``); the request and complaint numbers head every page."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import select

from ..complaints import vocabulary as v
from ..extensions import db
from ..models import StaffUser, SupplierRequest
from ..printing import bilingual, bilingual_labels, render_pdf, signer_roles, signoff
from .requests import ASK_LABELS


class _Signed:
    """A sign-off read from the request's own columns (it has no timeline of its own)."""

    def __init__(self, name: str | None, at, staff_id: int | None = None):
        self.actor = f"staff:{staff_id}" if staff_id else None
        self.actor_name, self.created_at = name or "—", at


def _signoffs(scar: SupplierRequest, staff: dict) -> list[dict]:
    issued = _Signed(staff.get(scar.opened_by_id), scar.created_at, scar.opened_by_id)
    answered = _Signed(f"{scar.answered_by or '—'} · {scar.supplier.name}", scar.answered_at) \
        if scar.answered_at else None
    decided = _Signed(staff.get(scar.decided_by_id), scar.decided_at, scar.decided_by_id) \
        if scar.decided_at else None
    roles = signer_roles([issued, decided])
    return [signoff(v.SIGNOFF_LABELS["issued"], issued, roles=roles),
            signoff(v.SIGNOFF_LABELS["supplier"], answered),
            signoff(v.SIGNOFF_LABELS["decided"], decided, roles=roles),
            signoff(v.SIGNOFF_LABELS["approved"])]


def context(scar: SupplierRequest, tenant) -> dict:
    ids = {scar.opened_by_id, scar.decided_by_id} - {None}
    staff = dict(db.session.execute(select(StaffUser.id, StaffUser.name)
                                    .where(StaffUser.id.in_(ids))).all()) if ids else {}
    charges = [c.cost_entry for c in scar.charges]
    totals: dict = defaultdict(Decimal)
    for entry in charges:
        if entry.state == "active":
            totals[entry.currency] += entry.amount
    complaint = scar.complaint
    return {
        "tenant": tenant, "doc_number": f"{scar.number} · {complaint.number}", "scar": scar,
        "complaint": complaint, "charges": charges, "totals": dict(totals),
        "asks": bilingual_labels(ASK_LABELS),
        "state": bilingual(v.SUPPLIER_REQUEST_STATE_LABELS[scar.state]),
        "cost_labels": bilingual_labels(v.COST_LABELS),
        "cost_states": bilingual_labels(v.COST_STATE_LABELS),
        "decision": bilingual(v.SUPPLIER_REQUEST_STATE_LABELS[
            "accepted" if scar.state in ("accepted", "closed") else "rejected"]),
        "late": bool(scar.answered_at and scar.answered_at > scar.due_at),
        "signoffs": _signoffs(scar, staff),
    }


def pdf(scar: SupplierRequest, tenant) -> bytes:
    return render_pdf("pdf/supplier_request.html", **context(scar, tenant))
