"""Requests and approvals: customer demands turned into requests (replacement, exchange,
return, claim), the approval chain signed step by step, shipping, receiving and paying."""

from __future__ import annotations

from flask import abort
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.complaints import requests
from portal.complaints.operations import money
from portal.extensions import db
from portal.models import ServiceRequest

from .. import blueprint
from ..forms import REQUEST_LABELS, DecisionForm, FinishForm, RequestForm, ShipForm
from .base import Case, panel, run
from .containment import HIDDEN_IN


@panel("requests", "#requests")
def context(case: Case, forms: dict) -> dict | None:
    items = case.service_requests
    if case.complaint.status in HIDDEN_IN and not items:
        return None
    user = case.user
    posted = {key: forms[key] for key in ("decision", "ship") if key in forms}
    posted_id = next((getattr(f, "request_id", None) for f in posted.values()), None)
    decide = {r.id for r in items if requests.may_decide(r, user)}
    ship = {r.id for r in items if r.kind in ("replacement", "exchange")
            and r.status == "open" and case.may("ship")}
    return {
        "items": items, "labels": REQUEST_LABELS, "staff_names": case.ref["staff_names"],
        "decide": decide, "ship": ship,
        "finish": {r.id for r in items if requests.may_finish(r, user)},
        "decision": case.form(DecisionForm, "decision", forms) if decide else None,
        "ship_form": case.form(ShipForm, "ship", forms) if ship else None,
        "posted_id": posted_id,
        "may_create": case.may("request"),
        "create": case.form(RequestForm, "request", forms)
        if case.may("request") and case.wants("request", forms) else None,
    }


@blueprint.post("/complaints/<int:complaint_id>/requests")
def create_request(complaint_id: int):
    form = RequestForm()
    return run(complaint_id, "requests", "request", form,
               lambda c: requests.create_request(c, current_user, kind=form.kind.data,
                                                 quantity=form.quantity.data,
                                                 amount=money(form.amount.data),
                                                 note=form.note.data,
                                                 note_shown=form.customer_sees.data),
               _("Request created."))


def _request_of(complaint_id: int, request_id: int) -> ServiceRequest:
    item = db.session.scalar(select(ServiceRequest).where(
        ServiceRequest.id == request_id, ServiceRequest.complaint_id == complaint_id))
    if item is None:
        abort(404)
    return item


@blueprint.post("/complaints/<int:complaint_id>/requests/<int:request_id>/decide")
def decide_request(complaint_id: int, request_id: int):
    item = _request_of(complaint_id, request_id)
    form = DecisionForm()
    form.request_id = request_id
    return run(complaint_id, "requests", "decision", form,
               lambda c: requests.decide(c, item, current_user,
                                         approve=form.decision.data == "approve",
                                         note=form.note.data,
                                         note_shown=form.customer_sees.data),
               _("Decision signed."))


@blueprint.post("/complaints/<int:complaint_id>/requests/<int:request_id>/ship")
def ship_request(complaint_id: int, request_id: int):
    item = _request_of(complaint_id, request_id)
    form = ShipForm()
    form.request_id = request_id
    return run(complaint_id, "requests", "ship", form,
               lambda c: requests.ship(c, item, current_user, carrier=form.carrier.data,
                                       carrier_name=form.carrier_name.data,
                                       tracking_number=form.tracking_number.data),
               _("Shipment recorded."))


@blueprint.post("/complaints/<int:complaint_id>/requests/<int:request_id>/finish")
def finish_request(complaint_id: int, request_id: int):
    item = _request_of(complaint_id, request_id)
    form = FinishForm()
    return run(complaint_id, "requests", "finish", form,
               lambda c: requests.finish(c, item, current_user, note=form.note.data,
                                         note_shown=form.customer_sees.data),
               _("Request completed."))
