"""Containment: up to three immediate measures, each with an owner and a due time, and the
"mark done" of each (shared with corrective actions: see actions.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.complaints import casework
from portal.extensions import db
from portal.models import StaffUser
from portal.tenancy import current_tenant

from .. import blueprint
from ..forms import ACTION_LABELS, ActionDoneForm, ActionForm, opts
from .base import Case, as_id, blank, checked, panel, reference, run

HIDDEN_IN = ("received", "verifying", "waiting_customer", "rejected")
KINDS = {"containment": ("containment",), "corrective": ("corrective", "preventive")}


def action_items(case: Case, group: str, forms: dict) -> dict:
    """What a list of actions needs: the actions of ``group``, who may mark each done, and
    the posted "done" form if it was refused."""
    items = [a for a in case.actions if a.kind in KINDS[group]]
    closed = case.complaint.status in ("closed", "rejected")
    done = forms.get("done")
    return {"items": items, "staff_names": case.ref["staff_names"],
            "completable": {a.id for a in items if not a.done_at and not closed
                            and casework.may_complete(a, case.user, case.complaint)},
            "done": case.form(ActionDoneForm, "done", forms) if done is not None else None,
            "done_id": getattr(done, "action_id", None)}


def add_form(case: Case, group: str, forms: dict):
    kinds = [(k, ACTION_LABELS[k]) for k in KINDS[group]]
    return case.form(ActionForm, group, forms, {"kind": KINDS[group][0]},
                     {"owner": blank(case.ref["staff"]), "kind": kinds})


@panel("containment", "#containment")
def context(case: Case, forms: dict) -> dict | None:
    listing = action_items(case, "containment", forms)
    if case.complaint.status in HIDDEN_IN and not listing["items"]:
        return None
    context = {"list": listing,
               "editable": case.may("containment") and len(listing["items"]) < 3}
    if context["editable"]:
        context["add"] = add_form(case, "containment", forms)
    return context


def aware(value: datetime | None) -> datetime | None:
    """A local date and time typed in the tenant's time zone, as UTC."""
    if value is None:
        return None
    from zoneinfo import ZoneInfo

    return value.replace(tzinfo=ZoneInfo(current_tenant.timezone)).astimezone(UTC)


@blueprint.post("/complaints/<int:complaint_id>/actions/<group>")
def add_action(complaint_id: int, group: str):
    if group not in KINDS:
        abort(404)
    form = ActionForm()
    form.owner.choices = checked(
        request.form.get("owner"), reference()["staff"],
        lambda: db.session.execute(select(StaffUser.id, StaffUser.name)).all(), with_blank=False)
    form.kind.choices = opts((k, ACTION_LABELS[k]) for k in KINDS[group])
    name = "containment" if group == "containment" else "actions"
    return run(complaint_id, name, group, form,
               lambda c: casework.add_action(c, current_user, kind=form.kind.data,
                                             title=form.title.data,
                                             description=form.description.data,
                                             owner_id=as_id(form.owner.data),
                                             due_at=aware(form.due_at.data),
                                             customer_sees=form.customer_sees.data),
               _("Action added."))
