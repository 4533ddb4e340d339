"""Costs: what the complaint cost, by category and responsible department (drawn when
opened), each entry correctable or voidable with a reason (the original stays listed, marked),
and the cost transfer sheet (质量事故费用转移单) as a PDF with its own context
(portal.complaints.cost_sheet)."""

from __future__ import annotations

from flask import abort, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.complaints import cost_sheet, costs
from portal.complaints.operations import money
from portal.complaints.permissions import may
from portal.complaints.vocabulary import COST_STATE_LABELS
from portal.extensions import db
from portal.models import CostEntry, Department

from .. import blueprint
from ..forms import COST_LABELS, CostCorrectForm, CostForm, CostVoidForm
from . import fields
from .base import Case, as_id, blank, checked, load, panel, reference, run
from .exports import pdf_response


def entries(complaint_id: int) -> list[CostEntry]:
    return db.session.scalars(select(CostEntry).where(CostEntry.complaint_id == complaint_id)
                              .order_by(CostEntry.id)).all()


@panel("costs", "#costs", deferred="opened")
def context(case: Case, forms: dict) -> dict:
    rows = entries(case.complaint.id)
    departments = case.ref["department_names"]
    context = {"costs": rows, "sheet": costs.summarize(rows, departments),
               "labels": COST_LABELS, "states": COST_STATE_LABELS, "departments": departments,
               "staff_names": case.ref["staff_names"], "form": None, "changes": {},
               "numbers": cost_sheet.numbers(rows)}
    choices = {"department": blank(case.ref["departments"])[1:]}
    if case.may("cost"):
        context["form"] = case.form(
            CostForm, "cost", forms, {"department": case.complaint.responsible_department_id},
            choices)
    if case.may("cost_correct"):
        context["changes"] = {row.id: _change_forms(case, row, forms, choices)
                              for row in rows if row.state == "active"}
    return context


def _change_forms(case: Case, row: CostEntry, forms: dict, choices: dict) -> dict:
    """The correction form (filled with the entry's values) and the void form of one entry,
    each as posted when it was just refused for this entry."""
    def posted(key):
        form = forms.get(key)
        return form if getattr(form, "cost_id", None) == row.id else None

    values = {"category": row.category, "amount": row.amount, "currency": row.currency,
              "department": row.responsible_department_id, "note": row.note}
    return {"correct": fields.view(CostCorrectForm, f"cost-correct-{row.id}", values, choices,
                                   bound=posted("cost_correct"), locale=case.locale),
            "void": fields.view(CostVoidForm, f"cost-void-{row.id}", None, None,
                                bound=posted("cost_void"), locale=case.locale),
            "open": bool(posted("cost_correct") or posted("cost_void"))}


def _department_choices(form) -> None:
    form.department.choices = checked(
        request.form.get("department"), reference()["departments"],
        lambda: db.session.execute(select(Department.id, Department.name)).all(),
        with_blank=False)


@blueprint.post("/complaints/<int:complaint_id>/costs")
def add_cost(complaint_id: int):
    form = CostForm()
    _department_choices(form)
    return run(complaint_id, "costs", "cost", form,
               lambda c: costs.add_cost(c, current_user, category=form.category.data,
                                        amount=money(form.amount.data),
                                        currency=form.currency.data,
                                        department_id=as_id(form.department.data),
                                        note=form.note.data),
               _("Cost recorded."))


def _entry_of(complaint_id: int, cost_id: int) -> CostEntry:
    entry = db.session.scalar(select(CostEntry).where(
        CostEntry.id == cost_id, CostEntry.complaint_id == complaint_id))
    if entry is None:
        abort(404)
    return entry


@blueprint.post("/complaints/<int:complaint_id>/costs/<int:cost_id>/correct")
def correct_cost(complaint_id: int, cost_id: int):
    entry = _entry_of(complaint_id, cost_id)
    form = CostCorrectForm()
    form.cost_id = cost_id
    _department_choices(form)
    return run(complaint_id, "costs", "cost_correct", form,
               lambda c: costs.correct_cost(c, entry, current_user, reason=form.reason.data,
                                            category=form.category.data,
                                            amount=money(form.amount.data),
                                            currency=form.currency.data,
                                            department_id=as_id(form.department.data),
                                            note=form.note.data),
               _("Cost corrected; the original stays listed as corrected."))


@blueprint.post("/complaints/<int:complaint_id>/costs/<int:cost_id>/void")
def void_cost(complaint_id: int, cost_id: int):
    entry = _entry_of(complaint_id, cost_id)
    form = CostVoidForm()
    form.cost_id = cost_id
    return run(complaint_id, "costs", "cost_void", form,
               lambda c: costs.void_cost(c, entry, current_user, reason=form.reason.data),
               _("Cost voided; it stays listed and counts in no total."))


@blueprint.get("/complaints/<int:complaint_id>/cost-transfer.pdf")
def cost_transfer(complaint_id: int):
    """The cost transfer sheet as a PDF: the entries charged to each department, with its
    sign-off, to print and file."""
    complaint = load(complaint_id)
    if not may(current_user, "cost_sheet"):
        abort(403)
    return pdf_response(cost_sheet.pdf(complaint), f"cost-transfer-{complaint.number}.pdf")
