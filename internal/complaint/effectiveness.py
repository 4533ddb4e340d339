"""Effectiveness: quality's verdict on whether the actions worked (not effective: back to
analysis, with the reason)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_login import current_user

from portal.complaints import casework

from .. import blueprint
from ..forms import EffectivenessForm
from .base import Case, panel, run


@panel("effectiveness", "#effectiveness")
def context(case: Case, forms: dict) -> dict | None:
    if not case.may("effectiveness"):
        return None
    return {"form": case.form(EffectivenessForm, "effectiveness", forms)}


@blueprint.post("/complaints/<int:complaint_id>/effectiveness")
def effectiveness(complaint_id: int):
    form = EffectivenessForm()
    return run(complaint_id, "effectiveness", "effectiveness", form,
               lambda c: casework.verify_effectiveness(
                   c, current_user, effective=form.verdict.data == "effective",
                   note=form.note.data, expected_version=form.version.data),
               _("Verdict recorded."))
