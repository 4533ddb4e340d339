"""Classification and routing: severity, class, cause, failure mode, responsible department
and owner (the routing rules suggest the department); the failure-mode list; the problem the
complaint belongs to."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.complaints import casework
from portal.complaints.operations import ROUTING, classify
from portal.complaints.permissions import check_version, require
from portal.extensions import db
from portal.models import Department, FailureMode, Problem, StaffUser

from .. import blueprint
from ..forms import (
    CAUSE_LABELS,
    ClassifyForm,
    FailureModeForm,
    ProblemCreateForm,
    ProblemLinkForm,
    opts,
)
from .base import Case, as_id, blank, checked, panel, reference, run


def _choices(case: Case) -> dict:
    ref = case.ref
    modes = [(i, name) for i, name in ref["mode_names"].items()]
    return {"failure_mode": blank(modes), "department": blank(ref["departments"]),
            "owner": blank(ref["staff"])}


def suggestion(case: Case) -> str | None:
    """The department the routing rules point at for the cause (operations.ROUTING, as
    ``suggested_department()`` finds it, from the cached list)."""
    cause = case.complaint.cause_category
    if not cause:
        return None
    kind = ROUTING.get(cause, "engineering")
    found = sorted((i, n) for i, n, k in case.ref["department_kinds"] if k == kind)
    return found[0][1] if found else None


@panel("classification", "#classify")
def context(case: Case, forms: dict) -> dict:
    complaint = case.complaint
    context = {"editable": case.may("classify"), "ref": case.ref, "causes": CAUSE_LABELS,
               "add_modes": case.may("failure_modes"), "problems": case.may("problem")}
    if context["editable"]:
        context["suggestion"] = suggestion(case)
        context["classify"] = case.form(ClassifyForm, "classify", forms, {
            "severity": complaint.severity or "", "info_class": complaint.info_class or "",
            "cause_category": complaint.cause_category or "",
            "failure_mode": complaint.failure_mode_id or "",
            "department": complaint.responsible_department_id or "",
            "owner": complaint.owner_id or ""}, _choices(case))
    if context["add_modes"] and case.wants("failure_mode", forms):
        context["failure_mode"] = case.form(FailureModeForm, "failure_mode", forms)
    if context["problems"] and (case.wants("problem", forms) or "problem_link" in forms
                                or "problem_create" in forms):
        context["problem_link"] = case.form(ProblemLinkForm, "problem_link", forms, choices={
            "problem": [("", "—")] + [(str(i), f"{n} {t}") for i, n, t in case.ref["problems"]]})
        context["problem_create"] = case.form(ProblemCreateForm, "problem_create", forms,
                                              {"title": complaint.title})
    return context


@blueprint.post("/complaints/<int:complaint_id>/classify")
def classify_view(complaint_id: int):
    form = ClassifyForm()
    ref, posted = reference(), request.form
    form.failure_mode.choices = checked(
        posted.get("failure_mode"), [(i, c) for i, c, _zh, _en in ref["modes"]],
        lambda: db.session.execute(select(FailureMode.id, FailureMode.code)).all())
    form.department.choices = checked(
        posted.get("department"), ref["departments"],
        lambda: db.session.execute(select(Department.id, Department.name)).all())
    form.owner.choices = checked(
        posted.get("owner"), ref["staff"],
        lambda: db.session.execute(select(StaffUser.id, StaffUser.name)).all())

    def operation(c):
        require(current_user, "classify", c)
        check_version(c, form.version.data)
        classify(c, current_user, severity=form.severity.data or None,
                 info_class=form.info_class.data or None,
                 cause_category=form.cause_category.data or None,
                 failure_mode_id=as_id(form.failure_mode.data),
                 responsible_department_id=as_id(form.department.data),
                 owner_id=as_id(form.owner.data))
        casework.touch(c)
    return run(complaint_id, "classification", "classify", form, operation,
               _("Classification saved."))


@blueprint.post("/complaints/<int:complaint_id>/failure-modes")
def add_failure_mode(complaint_id: int):
    form = FailureModeForm()
    return run(complaint_id, "classification", "failure_mode", form,
               lambda c: casework.add_failure_mode(current_user, code=form.code.data,
                                                   name_zh=form.name_zh.data,
                                                   name_en=form.name_en.data,
                                                   severe=form.severe.data),
               _("Failure mode added."))


@blueprint.post("/complaints/<int:complaint_id>/problem/link")
def link_problem(complaint_id: int):
    form = ProblemLinkForm()
    form.problem.choices = opts((i, i) for i in db.session.scalars(select(Problem.id)))

    def operation(c):
        casework.link_problem(c, current_user, db.get_or_404(Problem, int(form.problem.data)))
    return run(complaint_id, "classification", "problem_link", form, operation,
               _("Linked to the problem."))


@blueprint.post("/complaints/<int:complaint_id>/problem/new")
def create_problem(complaint_id: int):
    form = ProblemCreateForm()
    return run(complaint_id, "classification", "problem_create", form,
               lambda c: casework.create_problem(c, current_user, title=form.title.data,
                                                 analysis=form.analysis.data),
               _("Problem started."))
