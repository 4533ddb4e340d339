"""Staff pages of supplier corrective action requests (SCARs): the list, opening one against a
complaint, and a request's page with its link (re-send, revoke), quality's decision,
replacement deliveries and charge-backs. The scorecard is in supplier_scorecard.py; the
supplier's own page behind the link in customer/supplier_answers.py."""

from __future__ import annotations

from http import HTTPStatus

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal import uow
from portal.accounts.forms import ConfirmForm
from portal.complaints.permissions import Refused
from portal.complaints.vocabulary import COST_LABELS, COST_STATE_LABELS
from portal.extensions import db
from portal.models import (
    SUPPLIER_REQUEST_STATES,
    Complaint,
    Supplier,
    SupplierEvidence,
    SupplierRequest,
)
from portal.storage import attachment_response
from portal.suppliers import printout
from portal.suppliers import requests as scars
from portal.suppliers.warranty import STATUS_LABELS as WARRANTY_LABELS
from portal.suppliers.warranty import serial_status
from portal.tenancy import current_tenant
from portal.web import render

from . import blueprint
from .complaint.exports import pdf_response
from .supplier_forms import ChargeForm, DecisionForm, DeliveryForm, RequestForm


def _may(roles) -> None:
    if not current_user.has_role(*roles):
        abort(403)


def _suppliers():
    return db.session.scalars(select(Supplier).where(Supplier.active)
                              .order_by(Supplier.name)).all()


@blueprint.get("/suppliers/requests")
def supplier_requests():
    _may(scars.VIEW_ROLES)
    query = select(SupplierRequest).order_by(SupplierRequest.id.desc())
    supplier_id = request.args.get("supplier", type=int)
    state = request.args.get("state", "")
    if supplier_id:
        query = query.where(SupplierRequest.supplier_id == supplier_id)
    if state in SUPPLIER_REQUEST_STATES:
        query = query.where(SupplierRequest.state == state)
    rows = db.session.scalars(query.limit(300)).all()
    return render("internal/suppliers/requests.html", rows=rows, state=state,
                  supplier_id=supplier_id, suppliers=_suppliers(),
                  states=scars.STATE_LABELS, may_open=current_user.has_role(*scars.OPEN_ROLES))


def _request_form(formdata=True) -> RequestForm:
    form = RequestForm() if formdata else RequestForm(formdata=None)
    form.supplier_id.choices = [(s.id, f"{s.name} ({s.code})") for s in _suppliers()]
    return form


@blueprint.route("/suppliers/requests/new", methods=["GET", "POST"])
def supplier_request_new():
    _may(scars.OPEN_ROLES)
    if request.method == "GET":
        form = _request_form(formdata=False)
        complaint = db.session.get(Complaint, request.args.get("complaint", 0, type=int))
        form.complaint_number.data = complaint.number if complaint else ""
        form.defective_quantity.data = complaint.defect_quantity if complaint else None
        return render("internal/suppliers/new.html", form=form)
    form = _request_form()
    if form.validate_on_submit():
        complaint = db.session.scalar(select(Complaint).where(
            Complaint.number == form.complaint_number.data.strip()))
        if complaint is None:
            form.complaint_number.errors.append(_("No complaint has this number."))
        else:
            try:
                scar = scars.open_request(
                    current_tenant, complaint, current_user, supplier_id=form.supplier_id.data,
                    contact_id=None, part_number=form.part_number.data, defect=form.defect.data,
                    defective_quantity=form.defective_quantity.data,
                    replacement_quantity=form.replacement_quantity.data or 0,
                    asks=form.asks.data)
            except scars.RequestError as exc:
                uow.rollback()
                getattr(form, exc.field, form.supplier_id).errors.append(str(exc.message))
            else:
                uow.commit()
                flash(_("Request %(number)s sent to the supplier.", number=scar.number),
                      "success")
                return redirect(url_for("internal.supplier_request", scar_id=scar.id),
                                code=303)
    return render("internal/suppliers/new.html", None, HTTPStatus.UNPROCESSABLE_ENTITY,
                  form=form)


def _charge_form(formdata=True) -> ChargeForm:
    form = ChargeForm() if formdata else ChargeForm(formdata=None)
    form.category.choices = list(COST_LABELS.items())
    return form


def _detail(scar, status=HTTPStatus.OK, **forms):
    forms.setdefault("decision_form", DecisionForm(formdata=None))
    forms.setdefault("delivery_form", DeliveryForm(formdata=None))
    forms.setdefault("charge_form", _charge_form(formdata=False))
    complaint = scar.complaint
    warranty = [(s.value, *serial_status(s)) for s in complaint.serial_numbers]
    return render("internal/suppliers/request.html", None, status, scar=scar,
                  complaint=complaint, warranty=warranty, warranty_labels=WARRANTY_LABELS,
                  states=scars.STATE_LABELS, asks=scars.ASK_LABELS,
                  link_state=scars.link_state(scar), action_form=ConfirmForm(),
                  may_act=current_user.has_role(*scars.OPEN_ROLES),
                  category_labels=COST_LABELS, cost_states=COST_STATE_LABELS, **forms)


@blueprint.get("/suppliers/requests/<int:scar_id>")
def supplier_request(scar_id: int):
    _may(scars.VIEW_ROLES)
    return _detail(db.get_or_404(SupplierRequest, scar_id))


def _act(scar_id: int, form, operation, done: str, form_name: str):
    _may(scars.OPEN_ROLES)
    scar = db.get_or_404(SupplierRequest, scar_id)
    if form.validate_on_submit():
        try:
            operation(scar, form)
        except (scars.RequestError, Refused) as exc:
            uow.rollback()
            scar = db.get_or_404(SupplierRequest, scar_id)
            field = getattr(form, getattr(exc, "field", ""), None)
            (field.errors if field is not None else form.form_errors).append(str(exc.message))
        else:
            uow.commit()
            flash(done, "success")
            return redirect(url_for("internal.supplier_request", scar_id=scar.id), code=303)
    elif isinstance(form, ConfirmForm):
        abort(400)
    if isinstance(form, ConfirmForm):
        flash(" ".join(form.form_errors), "error")
        return redirect(url_for("internal.supplier_request", scar_id=scar.id), code=303)
    return _detail(scar, HTTPStatus.UNPROCESSABLE_ENTITY, **{form_name: form})


@blueprint.post("/suppliers/requests/<int:scar_id>/resend")
def supplier_request_resend(scar_id: int):
    return _act(scar_id, ConfirmForm(),
                lambda s, f: scars.send_link(current_tenant, s, current_user),
                _("A new link is on its way; the previous one no longer works."), "action_form")


@blueprint.post("/suppliers/requests/<int:scar_id>/revoke")
def supplier_request_revoke(scar_id: int):
    return _act(scar_id, ConfirmForm(), lambda s, f: scars.revoke_link(s, current_user),
                _("The link no longer works."), "action_form")


@blueprint.post("/suppliers/requests/<int:scar_id>/close")
def supplier_request_close(scar_id: int):
    return _act(scar_id, ConfirmForm(), lambda s, f: scars.close(s, current_user),
                _("Saved."), "action_form")


@blueprint.post("/suppliers/requests/<int:scar_id>/decide")
def supplier_request_decide(scar_id: int):
    return _act(scar_id, DecisionForm(),
                lambda s, f: scars.decide(current_tenant, s, current_user,
                                          accept=f.accept.data, reason=f.reason.data),
                _("Saved."), "decision_form")


@blueprint.post("/suppliers/requests/<int:scar_id>/delivery")
def supplier_request_delivery(scar_id: int):
    return _act(scar_id, DeliveryForm(),
                lambda s, f: scars.record_delivery(s, current_user, f.quantity.data),
                _("Saved."), "delivery_form")


@blueprint.post("/suppliers/requests/<int:scar_id>/charge")
def supplier_request_charge(scar_id: int):
    return _act(scar_id, _charge_form(),
                lambda s, f: scars.charge_back(s, current_user, category=f.category.data,
                                               amount=f.amount.data, currency=f.currency.data,
                                               note=f.note.data),
                _("The cost is charged to the supplier."), "charge_form")


@blueprint.get("/suppliers/requests/<int:scar_id>.pdf")
def supplier_request_pdf(scar_id: int):
    """The request as a printed form to file (portal.suppliers.printout)."""
    _may(scars.VIEW_ROLES)
    scar = db.get_or_404(SupplierRequest, scar_id)
    return pdf_response(printout.pdf(scar, current_tenant), f"{scar.number}.pdf")


@blueprint.get("/suppliers/requests/<int:scar_id>/evidence/<int:evidence_id>")
def supplier_evidence(scar_id: int, evidence_id: int):
    _may(scars.VIEW_ROLES)
    row = db.get_or_404(SupplierEvidence, evidence_id)
    if row.request_id != scar_id:
        abort(404)
    return attachment_response(row.storage_key, row.filename)
