"""Filing by staff: a complaint recorded on a customer's behalf (phone, e-mail, visit) or a
production exception, with the same operation the portal's intake uses."""

from __future__ import annotations

import uuid
from http import HTTPStatus

from flask import abort, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal import uow
from portal.complaints import casework
from portal.complaints.permissions import Refused, may
from portal.extensions import db
from portal.models import CustomerCompany, ProductModel
from portal.tenancy import current_tenant
from portal.web import render

from .. import blueprint
from ..forms import CHANNEL_LABELS, FilingForm, opts
from .base import as_id, blank, done


def _choices(rows):
    return opts(blank(rows))

@blueprint.route("/complaints/new", methods=["GET", "POST"])
def file_complaint():
    production = request.values.get("production") == "1"
    if not may(current_user, "production" if production else "file"):
        abort(403)
    form = FilingForm()
    form.channel.choices = opts((c, CHANNEL_LABELS[c]) for c in
                                (("incoming", "in_process", "outgoing") if production
                                 else ("phone", "email", "visit")))
    form.company.choices = _choices(db.session.execute(
        select(CustomerCompany.id, CustomerCompany.name).order_by(CustomerCompany.name)).all())
    form.product_model.choices = _choices(db.session.execute(
        select(ProductModel.id, ProductModel.code).order_by(ProductModel.code)).all())
    if request.method == "GET":
        form.submission_key.data = uuid.uuid4().hex
        if production:
            form.reporter_name.data = current_user.name
    if form.validate_on_submit():
        if not production and not form.company.data:
            form.company.errors = [_("Choose the customer.")]
        elif not production and not form.serial_list():
            form.serials.errors = [_("Give at least one serial number.")]
        else:
            company_id = as_id(form.company.data)
            company = db.session.get(CustomerCompany, company_id) if company_id else None
            data = {
                "source": "production" if production else "staff",
                "channel": form.channel.data, "reporter_name": form.reporter_name.data.strip(),
                "reporter_phone": form.reporter_phone.data or None,
                "reporter_email": form.reporter_email.data or None,
                "reporter_company": company.name if company else None,
                "customer_company_id": company.id if company else None,
                "product_model_id": as_id(form.product_model.data),
                "specification": form.specification.data or None,
                "shipped_on": form.shipped_on.data, "lot": form.lot.data or None,
                "defect_quantity": form.defect_quantity.data,
                "title": form.title.data.strip(), "description": form.description.data.strip(),
                "demands": form.demands.data or ["answer"],
            }
            try:
                complaint, _created = casework.file_complaint(
                    current_tenant, current_user, data=data, serials=form.serial_list(),
                    submission_key=(form.submission_key.data or None))
            except Refused as error:
                uow.rollback()
                abort(403 if error.code == "forbidden" else 422)
            return done(complaint, _("Complaint %(number)s recorded.", number=complaint.number))
    status = 422 if request.method == "POST" else 200
    return render("internal/file.html", None, HTTPStatus(status), form=form,
                  production=production)
