"""The complaint's PDFs: the 8D report and the feedback analysis and improvement sheet, each
from its own context (portal.complaints.exports.pdf_context), not the page's."""

from __future__ import annotations

from flask import abort, make_response

from portal.complaints import improvement_sheet
from portal.complaints.exports import customer_eight_d_pdf as build_customer_eight_d
from portal.complaints.exports import eight_d_pdf as build_eight_d
from portal.complaints.exports import pdf_context
from portal.tenancy import current_tenant

from .. import blueprint
from ..forms import CAUSE_LABELS, DEMAND_LABELS, SEVERITY_LABELS
from .base import load

LABELS = {"severities": SEVERITY_LABELS, "causes": CAUSE_LABELS, "demand_labels": DEMAND_LABELS}


def pdf_response(data: bytes, filename: str):
    response = make_response(data)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blueprint.get("/complaints/<int:complaint_id>/8d.pdf")
def eight_d_pdf(complaint_id: int):
    complaint = load(complaint_id)
    context = pdf_context(complaint, LABELS)
    if context["report"] is None:
        abort(404)
    return pdf_response(build_eight_d(context), f"8D-{complaint.number}.pdf")


@blueprint.get("/complaints/<int:complaint_id>/8d-customer.pdf")
def eight_d_customer_pdf(complaint_id: int):
    """What the customer's 8D would show now (the one sent is kept as it was sent)."""
    complaint = load(complaint_id)
    context = pdf_context(complaint, LABELS)
    if context["report"] is None:
        abort(404)
    return pdf_response(build_customer_eight_d(context), f"8D-{complaint.number}-customer.pdf")


@blueprint.get("/complaints/<int:complaint_id>/improvement-sheet.pdf")
def improvement_pdf(complaint_id: int):
    complaint = load(complaint_id)
    return pdf_response(improvement_sheet.pdf(complaint, current_tenant),
                        f"sheet-{complaint.number}.pdf")
