"""Costs: what the complaint cost, by category and responsible department (drawn when
opened), and the cost transfer sheet (质量事故费用转移单) with its own context."""

from __future__ import annotations

from flask import abort, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.complaints import costs
from portal.complaints.operations import money
from portal.complaints.permissions import may
from portal.extensions import db
from portal.models import CostEntry, Department
from portal.web import render

from .. import blueprint
from ..forms import COST_LABELS, CostForm
from .base import Case, as_id, blank, checked, load, panel, reference, run


def entries(complaint_id: int) -> list[CostEntry]:
    return db.session.scalars(select(CostEntry).where(CostEntry.complaint_id == complaint_id)
                              .order_by(CostEntry.id)).all()


@panel("costs", "#costs", deferred="opened")
def context(case: Case, forms: dict) -> dict:
    rows = entries(case.complaint.id)
    departments = case.ref["department_names"]
    context = {"costs": rows, "sheet": costs.summarize(rows, departments),
               "labels": COST_LABELS, "departments": departments, "form": None}
    if case.may("cost"):
        context["form"] = case.form(
            CostForm, "cost", forms, {"department": case.complaint.responsible_department_id},
            {"department": blank(case.ref["departments"])[1:]})
    return context


@blueprint.post("/complaints/<int:complaint_id>/costs")
def add_cost(complaint_id: int):
    form = CostForm()
    form.department.choices = checked(
        request.form.get("department"), reference()["departments"],
        lambda: db.session.execute(select(Department.id, Department.name)).all(),
        with_blank=False)
    return run(complaint_id, "costs", "cost", form,
               lambda c: costs.add_cost(c, current_user, category=form.category.data,
                                        amount=money(form.amount.data),
                                        currency=form.currency.data,
                                        department_id=as_id(form.department.data),
                                        note=form.note.data),
               _("Cost recorded."))


@blueprint.get("/complaints/<int:complaint_id>/cost-transfer")
def cost_transfer(complaint_id: int):
    """The cost transfer sheet: the entries charged to each department, to print."""
    complaint = load(complaint_id)
    if not may(current_user, "cost_sheet"):
        abort(403)
    case = Case(complaint)
    rows = entries(complaint.id)
    departments = case.ref["department_names"]
    return render("internal/cost_transfer.html", complaint=complaint, company=complaint.company,
                  costs=rows, sheet=costs.summarize(rows, departments),
                  cost_labels=COST_LABELS, departments=departments,
                  staff_names=case.ref["staff_names"])
