"""Intake and serial numbers: what the customer (or staff filing for them) reported, the
serial numbers matched against the shipment catalogue with each one's warranty (judged on
the day the complaint came in), and the installation date staff may record per serial."""

from __future__ import annotations

from flask import abort
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.complaints.vocabulary import WARRANTY_BASIS_LABELS, WARRANTY_LABELS
from portal.extensions import db
from portal.models import SerialNumber
from portal.suppliers import warranty

from .. import blueprint
from ..forms import CHANNEL_LABELS, DEMAND_LABELS, InstallationForm
from .base import Case, panel, run


@panel("intake", "#intake")
def context(case: Case, forms: dict) -> dict:
    complaint = case.complaint
    posted = forms.get("installation")
    return {"serials": case.serials, "channel_labels": CHANNEL_LABELS,
            "demand_labels": DEMAND_LABELS, "locale": case.locale,
            "warranties": warranty.serial_warranties(complaint, case.serials),
            "warranty": warranty.Warranty(complaint.warranty_status, complaint.warranty_ends_on),
            "received_on": warranty.received_on(complaint),
            "warranty_labels": WARRANTY_LABELS, "basis_labels": WARRANTY_BASIS_LABELS,
            "may_install": case.may("installation"),
            "installation": posted, "posted_id": getattr(posted, "serial_id", None)}


@blueprint.post("/complaints/<int:complaint_id>/serials/<int:serial_id>/installation")
def record_installation(complaint_id: int, serial_id: int):
    serial = db.session.scalar(select(SerialNumber).where(
        SerialNumber.id == serial_id, SerialNumber.complaint_id == complaint_id))
    if serial is None:
        abort(404)
    form = InstallationForm()
    form.serial_id = serial_id
    return run(complaint_id, "intake", "installation", form,
               lambda c: warranty.record_installation(c, serial, current_user,
                                                      form.installed_on.data),
               _("Installation date saved."))
