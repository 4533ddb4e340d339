"""Effectiveness: quality's verdict on whether the actions worked (not effective: back to
analysis, with the reason), with evidence files and the recurrence check it schedules (three
months later by default), and later the recurrence check's outcome."""

from __future__ import annotations

from flask import abort, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.complaints import effectiveness
from portal.complaints.vocabulary import RECURRENCE_RESULT_LABELS
from portal.extensions import db
from portal.models import EffectivenessCheck, utcnow

from .. import blueprint
from ..eight_d_forms import RecurrenceForm, VerdictForm
from .base import Case, panel, run


@panel("effectiveness", "#effectiveness")
def context(case: Case, forms: dict) -> dict | None:
    verifying = case.may("effectiveness")
    check = effectiveness.latest_check(case.complaint) if (
        verifying or case.complaint.effective is not None) else None
    if not verifying and check is None:
        return None
    context = {"check": check, "staff_names": case.ref["staff_names"],
               "recurrence_labels": RECURRENCE_RESULT_LABELS}
    if verifying:
        context["form"] = case.form(VerdictForm, "effectiveness", forms,
                                    {"follow_up_on": effectiveness.default_follow_up()})
    if check is not None and check.effective and check.follow_up_on and \
            check.follow_up_at is None and case.may("recurrence_check") and \
            (check.follow_up_on <= utcnow().date() or "recurrence" in forms):
        context["recurrence"] = case.form(RecurrenceForm, "recurrence", forms)
    return context


@blueprint.post("/complaints/<int:complaint_id>/effectiveness", endpoint="effectiveness")
def effectiveness_verdict(complaint_id: int):
    form = VerdictForm()
    return run(complaint_id, "effectiveness", "effectiveness", form,
               lambda c: effectiveness.verify(
                   c, current_user, effective=form.verdict.data == "effective",
                   note=form.note.data, files=request.files.getlist("evidence"),
                   follow_up_on=form.follow_up_on.data, expected_version=form.version.data),
               _("Verdict recorded."))


def _check_of(complaint_id: int, check_id: int) -> EffectivenessCheck:
    check = db.session.scalar(select(EffectivenessCheck).where(
        EffectivenessCheck.id == check_id, EffectivenessCheck.complaint_id == complaint_id))
    if check is None:
        abort(404)
    return check


@blueprint.post("/complaints/<int:complaint_id>/effectiveness/<int:check_id>/recurrence")
def recurrence_check(complaint_id: int, check_id: int):
    check = _check_of(complaint_id, check_id)
    form = RecurrenceForm()
    return run(complaint_id, "effectiveness", "recurrence", form,
               lambda c: effectiveness.record_recurrence_check(
                   c, current_user, check, result=form.result.data, note=form.note.data,
                   files=request.files.getlist("evidence")),
               _("Recurrence check recorded."))


@blueprint.get("/complaints/<int:complaint_id>/effectiveness/<int:check_id>/<which>/<int:index>")
def effectiveness_evidence(complaint_id: int, check_id: int, which: str, index: int):
    from portal.storage import attachment_response

    check = _check_of(complaint_id, check_id)
    files = {"verdict": check.evidence, "follow-up": check.follow_up_evidence}.get(which)
    if files is None or not (0 <= index < len(files)):
        abort(404)
    return attachment_response(files[index]["key"], files[index]["name"])
