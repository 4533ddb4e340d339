"""Next steps: the status changes the workflow allows this user now, and the exports.

A status change redraws most of the page, so under htmx a successful one reloads the page
(``HX-Refresh``); a refused one answers with this panel and the reason."""

from __future__ import annotations

from flask import flash, make_response
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.complaints import casework, vocabulary, workflow
from portal.extensions import db
from portal.models import SupplierRequest
from portal.suppliers import requests as scars
from portal.web import is_htmx

from .. import blueprint
from ..forms import TransitionForm
from .base import Case, panel, run

# "answer" and "not_effective" have their own forms (the answer composer, the verdict).
COMPOSED = {"answer", "not_effective"}

@blueprint.app_template_global("button_label")
def button_label(transition) -> str:
    return str(vocabulary.button_label(transition.name))


@panel("steps", "#actions")
def context(case: Case, forms: dict) -> dict:
    posted = forms.get("transition")
    return {
        "transitions": [t for t in workflow.available(case.complaint, case.user)
                        if t.name not in COMPOSED],
        "posted": posted.name if posted is not None else None,
        "message": posted.message.data if posted is not None else "",
        "shown": bool(posted.customer_sees.data) if posted is not None else False,
        "has_report": case.has_report,
        "cost_sheet": case.may("cost_sheet"),
        "supplier_requests": _supplier_requests(case),
    }


def _supplier_requests(case: Case) -> list[tuple[int, str]]:
    """The complaint's supplier corrective action requests, for their PDFs' links."""
    if not case.user.has_role(*scars.VIEW_ROLES):
        return []
    return db.session.execute(select(SupplierRequest.id, SupplierRequest.number).where(
        SupplierRequest.complaint_id == case.complaint.id).order_by(SupplierRequest.id)).all()


@blueprint.post("/complaints/<int:complaint_id>/transition/<name>")
def transition(complaint_id: int, name: str):
    form = TransitionForm()
    form.name = name
    response = run(complaint_id, "steps", "transition", form,
                   lambda c: casework.transition(c, current_user, name, form.message.data,
                                                 form.version.data,
                                                 shown=form.customer_sees.data), _("Done."))
    if is_htmx() and response.status_code == 200:  # done: the whole page changes
        reload = make_response("", 200)
        reload.headers["HX-Refresh"] = "true"
        flash(_("Done."), "success")
        return reload
    return response
