"""The answer to the customer: composed when the workflow allows it (the "answer" step), read
only afterwards with the customer's verdict."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_login import current_user

from portal.complaints import casework, workflow

from .. import blueprint
from ..forms import AnswerForm
from .base import Case, panel, run


@panel("answer", "#answer")
def context(case: Case, forms: dict) -> dict | None:
    if workflow.can(case.complaint, case.user, "answer"):
        return {"form": case.form(AnswerForm, "answer", forms)}
    if case.complaint.answer:
        return {"form": None}
    return None


@blueprint.post("/complaints/<int:complaint_id>/answer")
def answer(complaint_id: int):
    form = AnswerForm()
    message = f"{(form.measures.data or '').strip()}\n\n{(form.changes.data or '').strip()}"
    return run(complaint_id, "answer", "answer", form,
               lambda c: casework.transition(c, current_user, "answer", message,
                                             form.version.data),
               _("Answer sent to the customer."))
