"""The warranty return appraisal form (售后服务三包材料退换鉴定单) as a bilingual PDF in the
layout of the paper form: the customer and product, the goods returned and received into
quarantine, after-sales' first analysis, quality's verdict and the part's origin (ticked boxes
as on paper), the handling (material waste, supplier request, good parts issued) and each
step's signature (name, role, time). Rendered by WeasyPrint in the shared frame
(pdf/_layout.html: logo, the RMA and complaint number on every page, page count)."""

from __future__ import annotations

from flask import render_template
from flask_babel import force_locale
from sqlalchemy import select

from ..complaints.vocabulary import (
    PART_ORIGIN_LABELS,
    RETURN_CONDITION_LABELS,
    RETURN_GRADE_LABELS,
    RETURN_VERDICT_LABELS,
    ROLE_LABELS,
)
from ..extensions import db
from ..models import Complaint, GoodsReturn, StaffUser, Supplier, Tenant


def bilingual(labels: dict, value) -> str:
    """A vocabulary label in English and Chinese ("Misuse 使用不当"); "—" for no value."""
    if value not in labels:
        return "—"
    with force_locale("en"):
        english = str(labels[value])
    with force_locale("zh_CN"):
        chinese = str(labels[value])
    return english if english == chinese else f"{english} {chinese}"


def _choices(labels: dict) -> list[tuple[str, str]]:
    return [(value, bilingual(labels, value)) for value in labels]


def context(complaint: Complaint, ret: GoodsReturn) -> dict:
    """What the form prints (the tenant, the complaint, the return and the names it signs)."""
    names = dict(db.session.execute(select(StaffUser.id, StaffUser.name)).all())

    def signoff(step: str, role: str, by_id, at) -> dict:
        return {"role": f"{step} · {bilingual(ROLE_LABELS, role)}", "name": names.get(by_id),
                "at": at}

    supplier = db.session.get(Supplier, ret.supplier_id) if ret.supplier_id else None
    return {
        "tenant": db.session.get(Tenant, complaint.tenant_id), "complaint": complaint,
        "ret": ret, "company": complaint.company, "product": complaint.product_model,
        "supplier": supplier, "scar": ret.supplier_request,
        "doc_number": f"{ret.rma_number} · {complaint.number}",
        "condition": bilingual(RETURN_CONDITION_LABELS, ret.condition),
        "grade": bilingual(RETURN_GRADE_LABELS, ret.grade),
        "verdicts": _choices(RETURN_VERDICT_LABELS), "origins": _choices(PART_ORIGIN_LABELS),
        "signoffs": [
            signoff("Receipt 接收入库", "logistics", ret.received_by_id, ret.received_at),
            signoff("First analysis 初步分析", "after_sales", ret.analysed_by_id,
                    ret.analysed_at),
            signoff("Appraisal 鉴定", "quality", ret.appraised_by_id, ret.appraised_at),
            signoff("Good parts issued 领用合格品", "after_sales", ret.issued_by_id,
                    ret.issued_at)],
    }


def appraisal_form_pdf(complaint: Complaint, ret: GoodsReturn) -> bytes:
    from weasyprint import HTML

    return HTML(string=render_template("pdf/appraisal_form.html",
                                       **context(complaint, ret))).write_pdf()
