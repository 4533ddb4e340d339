"""Printable and spreadsheet exports: the 8D report and the feedback analysis and improvement
sheet (问题反馈分析改善表) as PDF with bilingual labels, rendered from HTML by WeasyPrint with
the Noto Sans CJK fonts; and the queue view as an Excel workbook (openpyxl)."""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

from flask import render_template
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import (
    Action,
    Complaint,
    Department,
    EffectivenessCheck,
    EightDMember,
    EightDReport,
    StaffUser,
)
from ..spreadsheets import neutralise
from . import eight_d, vocabulary

# The label tables the PDFs read (the staff page's forms pass the same ones).
PDF_LABELS = {"severities": vocabulary.SEVERITY_LABELS, "causes": vocabulary.CAUSE_LABELS,
              "demand_labels": vocabulary.DEMAND_LABELS}


def _pdf(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html).write_pdf()


def pdf_context(complaint: Complaint, labels: dict) -> dict:
    """What both PDFs show: the complaint with its customer, product and serial numbers, its
    actions, the 8D report (or None) with its sections, and the names of staff and
    departments. ``labels`` are the label tables of the vocabulary (severities, causes,
    demand_labels), given by the caller."""
    report = db.session.scalar(select(EightDReport).where(
        EightDReport.complaint_id == complaint.id).options(
            selectinload(EightDReport.sections),
            selectinload(EightDReport.members).joinedload(EightDMember.staff)))
    actions = db.session.scalars(select(Action).where(Action.complaint_id == complaint.id)
                                 .order_by(Action.id)).all()
    from .eight_d_team import members_of

    return {
        "complaint": complaint, "company": complaint.company, "product": complaint.product_model,
        "actions": actions, "report": report,
        "sections": {s.discipline: s for s in (report.sections if report else [])},
        "members": members_of(report) if report else [],
        "check": db.session.scalar(select(EffectivenessCheck).where(
            EffectivenessCheck.complaint_id == complaint.id)
            .order_by(EffectivenessCheck.id.desc()).limit(1)),
        "disciplines": eight_d.DISCIPLINES, "titles": discipline_titles(), "w_keys": eight_d.FIVE_W_TWO_H,
        "is_dims": eight_d.IS_IS_NOT, "action_kinds_of": eight_d.ACTION_KINDS_OF,
        "staff_names": dict(db.session.execute(select(StaffUser.id, StaffUser.name)).all()),
        "departments": dict(db.session.execute(select(Department.id, Department.name)).all()),
        "tenant": _tenant(complaint), "both": bilingual,
        "roles": vocabulary.EIGHT_D_ROLE_LABELS,
        "results": vocabulary.VALIDATION_RESULT_LABELS,
        "recurrence_results": vocabulary.RECURRENCE_RESULT_LABELS,
        **labels,
    }


def _tenant(complaint: Complaint):
    from ..models import Tenant

    return db.session.get(Tenant, complaint.tenant_id)


def discipline_titles() -> dict[int, str]:
    """Each discipline's printed heading: "D2 Problem description 问题描述"."""
    from flask_babel import force_locale

    with force_locale("en"):
        return {d: f"{label} {zh.split(' ', 1)[1]}"
                for d, (label, zh) in eight_d.DISCIPLINES.items()}


def bilingual(label) -> str:
    """A vocabulary label as the printed forms show it: English, then Chinese (once when the
    two read the same)."""
    from flask_babel import force_locale

    with force_locale("en"):
        english = str(label)
    with force_locale("zh_CN"):
        chinese = str(label)
    return english if english == chinese else f"{english} {chinese}"


def eight_d_pdf(context: dict) -> bytes:
    """The complaint's 8D report as PDF, from ``pdf_context()``."""
    return _pdf(render_template("pdf/eight_d.html", doc_number=context["complaint"].number,
                                **context))


def customer_eight_d_pdf(context: dict) -> bytes:
    """The customer's 8D: the summary and the sections marked for the customer, nothing
    else (the rest of the 8D is internal)."""
    return _pdf(render_template("pdf/eight_d_customer.html",
                                doc_number=context["complaint"].number, **context))


QUEUE_COLUMNS = ("Number 编号", "Received 接收时间（{zone}）", "Title 标题", "Customer 客户",
                 "Product 型号", "Status 状态", "Severity 级别", "Class 类别",
                 "Department 责任部门", "Owner 负责人", "Defective units 不良数量")


def queue_workbook(rows, labels, zone: str = "UTC") -> bytes:
    """The queue view's rows as an .xlsx workbook (text cells neutralised against formulas):
    labels in the reader's language, times in the tenant's ``zone``, named in the header."""
    from openpyxl import Workbook

    tz = ZoneInfo(zone)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Complaints")
    sheet.append([c.format(zone=zone) for c in QUEUE_COLUMNS])
    for row in rows:
        sheet.append([neutralise(v) for v in (
            row.number, row.created_at.astimezone(tz).replace(tzinfo=None, microsecond=0),
            row.title, row.company_name or row.reporter_company or row.reporter_name,
            row.product_code, str(labels.get(row.status, row.status)),
            str(vocabulary.SEVERITY_LABELS[row.severity]) if row.severity in vocabulary.SEVERITY_LABELS else None,
            row.info_class, row.department_name, row.owner_name, row.defect_quantity)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
