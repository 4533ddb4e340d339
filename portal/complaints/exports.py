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
from ..models import Action, Complaint, Department, EightDReport, StaffUser
from ..spreadsheets import neutralise
from . import eight_d
from .vocabulary import SEVERITY_LABELS


def _pdf(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html).write_pdf()


def pdf_context(complaint: Complaint, labels: dict) -> dict:
    """What both PDFs show: the complaint with its customer, product and serial numbers, its
    actions, the 8D report (or None) with its sections, and the names of staff and
    departments. ``labels`` are the label tables of the vocabulary (severities, causes,
    demand_labels), given by the caller."""
    report = db.session.scalar(select(EightDReport).where(
        EightDReport.complaint_id == complaint.id).options(selectinload(EightDReport.sections)))
    actions = db.session.scalars(select(Action).where(Action.complaint_id == complaint.id)
                                 .order_by(Action.id)).all()
    return {
        "complaint": complaint, "company": complaint.company, "product": complaint.product_model,
        "actions": actions, "report": report,
        "sections": {s.discipline: s for s in (report.sections if report else [])},
        "disciplines": eight_d.DISCIPLINES,
        "staff_names": dict(db.session.execute(select(StaffUser.id, StaffUser.name)).all()),
        "departments": dict(db.session.execute(select(Department.id, Department.name)).all()),
        **labels,
    }


def eight_d_pdf(context: dict) -> bytes:
    """The complaint's 8D report as PDF, from ``pdf_context()``."""
    return _pdf(render_template("pdf/eight_d.html", **context))


def improvement_sheet_pdf(context: dict) -> bytes:
    """The feedback analysis and improvement sheet (问题反馈分析改善表) as PDF, from
    ``pdf_context()``."""
    return _pdf(render_template("pdf/improvement_sheet.html", **context))


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
            str(SEVERITY_LABELS[row.severity]) if row.severity in SEVERITY_LABELS else None,
            row.info_class, row.department_name, row.owner_name, row.defect_quantity)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
