"""Root cause and actions: the 5 Whys and 5M1E analysis with the root cause, the corrective
and preventive actions, marking an action done with evidence (containment ones too), and
the evidence files."""

from __future__ import annotations

from flask import abort, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.complaints import casework
from portal.extensions import db
from portal.models import Action

from .. import blueprint
from ..forms import FIVE_M_ONE_E, ActionDoneForm, RootCauseForm
from .base import Case, panel, run
from .containment import action_items, add_form

SHOWN_IN = ("analysis", "corrective_action", "verifying_effectiveness", "answered", "closed")


def _analysis(case: Case) -> dict:
    """The root cause form's initial values: the recorded cause and the D4 section's chain."""
    content = case.report_outline[1]
    factors = {x["category"]: x["text"] for x in content.get("factors", [])}
    whys = {f"why{i + 1}": w for i, w in enumerate(content.get("whys", [])[:5])}
    return {"root_cause": case.complaint.root_cause or "", **whys, **factors}


@panel("actions", "#analysis")
def context(case: Case, forms: dict) -> dict | None:
    complaint = case.complaint
    if complaint.status not in SHOWN_IN and not complaint.root_cause:
        return None
    context = {"list": action_items(case, "corrective", forms), "factors": FIVE_M_ONE_E,
               "edit_cause": case.may("root_cause"), "add_action": case.may("corrective")}
    if context["edit_cause"]:
        context["root_cause"] = case.form(RootCauseForm, "root_cause", forms, _analysis(case),
                                          {})
    if context["add_action"]:
        context["add"] = add_form(case, "corrective", forms)
    return context


@blueprint.post("/complaints/<int:complaint_id>/root-cause")
def root_cause(complaint_id: int):
    form = RootCauseForm()
    return run(complaint_id, "actions", "root_cause", form,
               lambda c: casework.record_root_cause(c, current_user, text=form.root_cause.data,
                                                    whys=form.whys(), factors=form.factors(),
                                                    expected_version=form.version.data),
               _("Root cause recorded."))


def _action_of(complaint_id: int, action_id: int) -> Action:
    action = db.session.scalar(select(Action).where(Action.id == action_id,
                                                    Action.complaint_id == complaint_id))
    if action is None:
        abort(404)
    return action


@blueprint.post("/complaints/<int:complaint_id>/actions/<int:action_id>/done")
def action_done(complaint_id: int, action_id: int):
    action = _action_of(complaint_id, action_id)
    form = ActionDoneForm()
    form.action_id = action_id
    name = "containment" if action.kind == "containment" else "actions"
    return run(complaint_id, name, "done", form,
               lambda c: casework.complete_action(c, action, current_user,
                                                  result=form.result.data,
                                                  files=request.files.getlist("evidence")),
               _("Action marked done."))


@blueprint.get("/complaints/<int:complaint_id>/evidence/<int:action_id>/<int:index>")
def evidence(complaint_id: int, action_id: int, index: int):
    from portal.storage import attachment_response

    action = _action_of(complaint_id, action_id)
    if not (0 <= index < len(action.evidence or [])):
        abort(404)
    item = action.evidence[index]
    return attachment_response(item["key"], item["name"])


