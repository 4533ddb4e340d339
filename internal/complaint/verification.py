"""Verification: the intake checklist and on-site visits (with photos)."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from flask_login import current_user

from portal.complaints import casework

from .. import blueprint
from ..forms import ChecklistForm, VisitForm, opts
from .base import Case, panel, run

SHOWN_IN = ("received", "verifying", "waiting_customer")


@panel("verification", "#verify")
def context(case: Case, forms: dict) -> dict | None:
    complaint = case.complaint
    event = case.checklist_event
    if complaint.status not in SHOWN_IN and event is None:
        return None
    saved = (event.data or {}).get("items") if event is not None else None
    context = {"checklist": casework.checklist_state(complaint, saved), "event": event,
               "editable": case.may("verify")}
    if context["editable"]:
        confirmed = [k for k, v in (saved or {}).items() if v]
        context["checklist_form"] = case.form(ChecklistForm, "checklist", forms,
                                              {"confirmed": confirmed})
        context["visit"] = case.form(VisitForm, "visit", forms)
    return context


@blueprint.post("/complaints/<int:complaint_id>/checklist")
def checklist(complaint_id: int):
    form = ChecklistForm()
    form.confirmed.choices = opts(casework.CHECKLIST.items())
    return run(complaint_id, "verification", "checklist", form,
               lambda c: casework.save_checklist(c, current_user, confirmed=form.confirmed.data,
                                                 note=form.note.data,
                                                 expected_version=form.version.data,
                                                 shown=form.customer_sees.data),
               _("Checklist saved."))


@blueprint.post("/complaints/<int:complaint_id>/visit")
def visit(complaint_id: int):
    form = VisitForm()
    return run(complaint_id, "verification", "visit", form,
               lambda c: casework.record_onsite_visit(
                   c, current_user, visited_on=form.visited_on.data, visitor=form.visitor.data,
                   notes=form.notes.data, files=request.files.getlist("photos"),
                   shown=form.customer_sees.data),
               _("Visit recorded."))
