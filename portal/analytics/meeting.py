"""The monthly quality meeting pack (质量例会): for one local month, each department's
assessment (complaints owned, on-time rate per clock, actions overdue, recurrences, costs), the
month's class-A problems with their status, the defect-ratio exceptions, and the open escalation
reports; as a page, a PDF (WeasyPrint, with the charts) and an xlsx of the tables."""

from __future__ import annotations

import io
from datetime import date

from flask import render_template
from flask_babel import gettext as _
from sqlalchemy import select

from ..complaints.vocabulary import REPORT_KIND_LABELS, STAFF_STATE_LABELS
from ..extensions import db
from ..models import Complaint, Department, EscalationReport, FailureMode, ProductModel, Tenant
from ..spreadsheets import neutralise
from . import dashboard, loop, money
from .counts import Counts
from .labels import CLOCK_LABELS, Names
from .pareto import complaint_filters
from .period import Slice, add_months
from .sql import tune_for_aggregates

REPORT_DONE = ("issued", "closed")
# The PDF lists at most this many class-A problems (open ones first); the page and the xlsx
# list them all. A few hundred table rows take WeasyPrint tens of seconds.
PDF_CLASS_A_ROWS = 40


def _departments(s: Slice, clocks: list, link) -> list[dict]:
    owned = {k: v[0] for k, v in Counts(s).by("department").items()}
    overdue = loop.overdue_actions(s)
    recurring = {r["department"]: r["count"] for r in loop.recurrences(s, by_department=True)}
    costs = dict(money.costs(s)["by_department"])
    rates: dict = {}
    for row in clocks:
        rates.setdefault(row.department_id, {})[row.kind] = row
    rows = []
    for department in db.session.scalars(select(Department).order_by(Department.name)):
        key = department.id
        rows.append({"id": key, "name": department.name, "owned": owned.get(key, 0),
                     "clocks": rates.get(key, {}), "overdue": overdue.get(key, 0),
                     "recurrences": recurring.get(key, 0), "cost": costs.get(key, 0),
                     "queue": link(s.queue_args(status=dashboard.COUNTED_STATUSES,
                                                department=key))})
    return rows


def _class_a(s: Slice) -> list:
    return db.session.execute(
        select(Complaint.id, Complaint.number, Complaint.title, Complaint.status,
               ProductModel.code, Department.name, FailureMode.name_zh, FailureMode.name_en)
        .outerjoin(ProductModel, ProductModel.id == Complaint.product_model_id)
        .outerjoin(Department, Department.id == Complaint.responsible_department_id)
        .outerjoin(FailureMode, FailureMode.id == Complaint.failure_mode_id)
        .where(*complaint_filters(s), Complaint.info_class == "A")
        .order_by((Complaint.status == "closed").asc(), Complaint.created_at)).all()


def _open_reports() -> list:
    return db.session.execute(
        select(EscalationReport, ProductModel.code, FailureMode.name_zh, FailureMode.name_en)
        .outerjoin(ProductModel, ProductModel.id == EscalationReport.product_model_id)
        .outerjoin(FailureMode, FailureMode.id == EscalationReport.failure_mode_id)
        .where(EscalationReport.status.not_in(REPORT_DONE))
        .order_by(EscalationReport.due_at.nulls_last(), EscalationReport.id)).all()


def build(tenant: Tenant, month: date, link) -> dict:
    """Everything the pack shows for ``month`` (any day of it), in the active tenant."""
    tune_for_aggregates()
    s = Slice.for_month(tenant.timezone, month)
    year = Slice(zone=tenant.timezone, period="range", start=add_months(month, -11),
                 end=add_months(month, 1))
    names = Names()
    clocks = dashboard.clock_section(s, names, link)
    ratio = dashboard.ratio_section(year, tenant, names, link)
    key = f"{month:%Y-%m}"
    exceptions = []
    for model in ratio.rows:
        point = model.points[-1]
        if (point.ratio is not None and point.ratio > ratio.extra["exception"]) \
                or any(w.endswith(key) for w in model.warnings):
            exceptions.append({"model": model, "point": point})
    return {
        "tenant": tenant, "month": month, "key": key, "slice": s,
        "departments": _departments(s, clocks.rows, link), "clock_kinds": loop.CLOCK_KINDS,
        "clock_labels": CLOCK_LABELS, "clocks": clocks,
        "class_a": _class_a(s), "state_labels": STAFF_STATE_LABELS,
        "pdf_class_a_rows": PDF_CLASS_A_ROWS,
        "ratio": ratio, "exceptions": exceptions,
        "reports": _open_reports(), "report_kinds": REPORT_KIND_LABELS,
        "pareto": dashboard.pareto_section(s, "department", "complaints", names, link),
        "causes": dashboard.pareto_section(s, "cause", "complaints", names, link),
        "costs": dashboard.cost_section(s, names, link),
        "locale": names.locale,
    }


def pdf(tenant: Tenant, month: date, link) -> bytes:
    """The pack as PDF in the current locale (force_locale around the call picks it)."""
    from weasyprint import HTML

    html = render_template("internal/analytics/meeting_pdf.html", pack=build(tenant, month, link))
    return HTML(string=html).write_pdf()


def _sheet(book, title: str, header: list, rows) -> None:
    sheet = book.create_sheet(title[:31])
    sheet.append(header)
    for row in rows:
        sheet.append([neutralise(v) for v in row])


def workbook(tenant: Tenant, month: date) -> bytes:
    """The pack's tables as an .xlsx workbook, headings in both languages."""
    from openpyxl import Workbook

    pack = build(tenant, month, lambda args: "")
    book = Workbook(write_only=True)
    kinds = list(pack["clock_kinds"])
    _sheet(book, "Departments 部门考核",
           ["Department 部门", "Complaints owned 责任投诉", *[f"On time {k} 按时率" for k in kinds],
            "Actions overdue 逾期措施", "Recurrences 重复发生", "Cost CNY 质量成本"],
           [[d["name"], d["owned"],
             *[(round(d["clocks"][k].rate, 4) if k in d["clocks"] and d["clocks"][k].rate
                is not None else None) for k in kinds],
             d["overdue"], d["recurrences"], float(d["cost"])] for d in pack["departments"]])
    _sheet(book, "Class A A类问题", ["Number 编号", "Title 标题", "Model 型号",
                                     "Department 责任部门", "Status 状态"],
           [[r.number, r.title, r.code, r.name, str(pack["state_labels"].get(r.status, r.status))]
            for r in pack["class_a"]])
    _sheet(book, "Ratio exceptions 比率异常", ["Model 型号", "Month 月份", "Defective 不良",
                                               "Shipped 发货", "Ratio ‰ 不良率"],
           [[e["model"].code, e["point"].month, e["point"].defects, e["point"].shipped,
             round(e["point"].ratio * 1000, 3) if e["point"].ratio is not None else None]
            for e in pack["exceptions"]])
    _sheet(book, "Open reports 未结报告", ["Number 编号", "Kind 类型", "Model 型号",
                                           "Failure mode 失效模式", "Lot 批次", "Due 截止"],
           [[r.number, str(pack["report_kinds"].get(r.kind, r.kind)), code, zh or en, r.lot,
             r.due_at.replace(tzinfo=None) if r.due_at else None]
            for r, code, zh, en in pack["reports"]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def subject(tenant: Tenant, month: date) -> str:
    return _("Quality meeting pack %(month)s — %(name)s", month=f"{month:%Y-%m}",
             name=tenant.name)
