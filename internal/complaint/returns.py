"""Returned parts (RMA): each return or exchange request's goods — receipt into quarantine
(logistics), first analysis and grade (after-sales), appraisal with its verdict, origin and
photos (quality), good parts issued (after-sales), closing — with each step's signature and
deadline clock, the appraisal's photos and its printed form (售后服务三包材料退换鉴定单)."""

from __future__ import annotations

from flask import abort, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.complaints.permissions import Refused
from portal.complaints.vocabulary import (
    PART_ORIGIN_LABELS,
    REQUEST_LABELS,
    RETURN_CONDITION_LABELS,
    RETURN_GRADE_LABELS,
    RETURN_STATE_LABELS,
    RETURN_VERDICT_LABELS,
)
from portal.deadlines.clocks import humanize_minutes
from portal.extensions import db
from portal.models import GoodsReturn, Supplier
from portal.returns import appraisal, clocks, records
from portal.storage import attachment_response

from .. import blueprint
from ..return_forms import AnalyseForm, AppraiseForm, CloseReturnForm, IssueForm, ReceiveForm
from .base import Case, load, panel, run

LABELS = {"kinds": REQUEST_LABELS, "states": RETURN_STATE_LABELS,
          "conditions": RETURN_CONDITION_LABELS, "grades": RETURN_GRADE_LABELS,
          "verdicts": RETURN_VERDICT_LABELS, "origins": PART_ORIGIN_LABELS}


@blueprint.app_template_global("return_of_supplier_request")
def return_of_supplier_request(scar_id: int) -> GoodsReturn | None:
    """For the supplier request's pages (staff and supplier): the appraisal it came from."""
    return records.for_supplier_request(scar_id)


def _suppliers() -> list[tuple[str, str]]:
    rows = db.session.execute(select(Supplier.id, Supplier.name, Supplier.code)
                              .where(Supplier.active).order_by(Supplier.name)).all()
    return [("", "—")] + [(str(i), f"{name} ({code})") for i, name, code in rows]


def _steps(case: Case, ret: GoodsReturn) -> dict[str, bool]:
    """Which step's form this user gets for this return now."""
    return {
        "receive": case.may("return_receive") and records.may_receive_now(ret),
        "analyse": case.may("return_analyse") and ret.state == "received",
        "appraise": case.may("return_appraise") and ret.state == "analysed",
        "issue": case.may("return_issue") and appraisal.may_issue_now(ret),
        "close": case.may("return_close") and ret.state != "closed"
        and ret.appraised_at is not None,
    }


FORMS = {"receive": ReceiveForm, "analyse": AnalyseForm, "appraise": AppraiseForm,
         "issue": IssueForm, "close": CloseReturnForm}


@panel("returns", "#returns")
def context(case: Case, forms: dict) -> dict | None:
    items = records.returns_of(case.complaint.id)
    if not items:
        return None
    steps, views = {}, {}
    suppliers = None
    for ret in items:
        steps[ret.id] = _steps(case, ret)
        for step, shown in steps[ret.id].items():
            if not shown:
                continue
            key = f"{step}-{ret.id}"
            choices = None
            if step == "appraise":
                suppliers = suppliers or _suppliers()
                choices = {"supplier_id": suppliers}
            data = {"quantity_received": ret.quantity_requested} if step == "receive" else (
                {"issued_quantity": ret.defective_quantity} if step == "issue" else None)
            views[key] = case.form(FORMS[step], key, forms, data=data, choices=choices)
    return {"items": items, "steps": steps, "forms": views, "labels": LABELS,
            "clocks": clocks.views([r.id for r in items]), "humanize": humanize_minutes,
            "staff_names": case.ref["staff_names"],
            "supplier_names": dict(db.session.execute(select(Supplier.id, Supplier.name)).all())}


def _return(complaint_id: int, return_id: int) -> GoodsReturn:
    ret = records.return_of(complaint_id, return_id)
    if ret is None:
        abort(404)
    return ret


def _on_field(form, operation):
    """Run ``operation``; a refusal naming one of the form's fields is shown beside it."""
    def run_it(complaint):
        try:
            operation(complaint)
        except Refused as error:
            name = "photos" if error.code == "evidence" else error.code
            field = getattr(form, name, None) if name in form._fields else None
            if field is not None:
                field.errors = [*field.errors, error.message]
            raise
    return run_it


def _post(complaint_id: int, return_id: int, step: str, operation, message):
    ret = _return(complaint_id, return_id)
    form = FORMS[step]()
    return run(complaint_id, "returns", f"{step}-{return_id}", form,
               _on_field(form, lambda c: operation(c, ret, form)), message)


@blueprint.post("/complaints/<int:complaint_id>/returns/<int:return_id>/receive")
def receive_return(complaint_id: int, return_id: int):
    return _post(complaint_id, return_id, "receive", lambda c, r, f: records.receive(
        c, r, current_user, quantity_received=f.quantity_received.data,
        received_on=f.received_on.data, condition=f.condition.data,
        location=f.warehouse_location.data, tag=f.quarantine_tag.data, note=f.note.data),
        _("Receipt recorded."))


@blueprint.post("/complaints/<int:complaint_id>/returns/<int:return_id>/analyse")
def analyse_return(complaint_id: int, return_id: int):
    return _post(complaint_id, return_id, "analyse", lambda c, r, f: records.analyse(
        c, r, current_user, analysis=f.analysis.data, grade=f.grade.data),
        _("First analysis signed."))


def _int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return -1  # not a number: refused as "not on the list" by the operation


@blueprint.post("/complaints/<int:complaint_id>/returns/<int:return_id>/appraise")
def appraise_return(complaint_id: int, return_id: int):
    return _post(complaint_id, return_id, "appraise", lambda c, r, f: appraisal.appraise(
        c, r, current_user, verdict=f.verdict.data, appraisal=f.appraisal.data,
        defective_quantity=f.defective_quantity.data, origin=f.origin.data,
        supplier_id=_int(f.supplier_id.data), part_number=f.part_number.data,
        photos=request.files.getlist("photos")), _("Appraisal signed."))


@blueprint.post("/complaints/<int:complaint_id>/returns/<int:return_id>/issue")
def issue_parts(complaint_id: int, return_id: int):
    return _post(complaint_id, return_id, "issue", lambda c, r, f: appraisal.issue(
        c, r, current_user, issued_quantity=f.issued_quantity.data, note=f.note.data),
        _("Good parts issued."))


@blueprint.post("/complaints/<int:complaint_id>/returns/<int:return_id>/close")
def close_return(complaint_id: int, return_id: int):
    return _post(complaint_id, return_id, "close",
                 lambda c, r, f: records.close_return(c, r, current_user), _("Return closed."))


@blueprint.get("/complaints/<int:complaint_id>/returns/<int:return_id>/photos/<int:index>")
def return_photo(complaint_id: int, return_id: int, index: int):
    load(complaint_id, joined=False)
    ret = _return(complaint_id, return_id)
    photos = ret.evidence or []
    if index >= len(photos):
        abort(404)
    return attachment_response(photos[index]["key"], photos[index]["name"])


@blueprint.get("/complaints/<int:complaint_id>/returns/<int:return_id>/appraisal.pdf")
def appraisal_pdf(complaint_id: int, return_id: int):
    from portal.returns.printout import appraisal_form_pdf

    from .exports import pdf_response

    complaint = load(complaint_id)
    ret = _return(complaint_id, return_id)
    return pdf_response(appraisal_form_pdf(complaint, ret), f"{ret.rma_number}.pdf")
