"""The 8D report of a complaint: D1–D8, each section signed by its author with a time, and a
customer-facing summary. D4 carries the 5-Why chain and 5M1E entries in ``content``; D5 and
D7 list the corrective and preventive actions, which are tracked ``Action`` rows."""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models import Complaint, EightDReport, EightDSection, utcnow
from .permissions import Refused, require
from .timeline import record

DISCIPLINES = {
    1: (_l("D1 Team"), "D1 小组成立"),
    2: (_l("D2 Problem description"), "D2 问题描述"),
    3: (_l("D3 Containment"), "D3 临时措施"),
    4: (_l("D4 Root cause"), "D4 根本原因"),
    5: (_l("D5 Chosen corrective actions"), "D5 纠正措施"),
    6: (_l("D6 Implementation and validation"), "D6 实施与验证"),
    7: (_l("D7 Prevent recurrence"), "D7 预防再发生"),
    8: (_l("D8 Closure and recognition"), "D8 结案与表彰"),
}


def report_of(complaint: Complaint) -> EightDReport | None:
    return db.session.scalar(select(EightDReport).where(EightDReport.complaint_id == complaint.id))


def start_report(complaint: Complaint, actor, *, requested_by_customer: bool = False) -> EightDReport:
    """Open the complaint's 8D report (once); D2 and D3 start from what is known."""
    require(actor, "eight_d", complaint)
    report = report_of(complaint)
    if report is not None:
        return report
    report = EightDReport(complaint_id=complaint.id, requested_by_customer=requested_by_customer)
    db.session.add(report)
    complaint.eight_d_requested = True
    db.session.flush()
    record(complaint, actor, "eight_d.started",
           data={"requested_by_customer": requested_by_customer})
    if complaint.root_cause:
        write_section(report, actor, 4, text=complaint.root_cause)
    if complaint.description:
        write_section(report, actor, 2, text=complaint.description)
    return report


def write_section(report: EightDReport, actor, discipline: int, *, text: str | None,
                  content: dict | None = None) -> EightDSection:
    """Write (or rewrite) one discipline, signed by ``actor`` now. Flushes."""
    if discipline not in DISCIPLINES:
        raise Refused("invalid", _l("Choose a value from the list."))
    section = next((s for s in report.sections if s.discipline == discipline), None)
    if section is None:
        section = EightDSection(report_id=report.id, discipline=discipline)
        report.sections.append(section)
    section.text = (text or "").strip() or None
    if content is not None:
        section.content = content
    section.author_id = actor.id
    section.updated_at = utcnow()
    db.session.flush()
    return section


def save_section(complaint: Complaint, actor, discipline: int, *, text: str,
                 content: dict | None = None) -> EightDSection:
    require(actor, "eight_d", complaint)
    report = report_of(complaint)
    if report is None:
        raise Refused("no_report", _l("Start the 8D report first."))
    section = write_section(report, actor, discipline, text=text, content=content)
    record(complaint, actor, "eight_d.section", message=section.text,
           data={"discipline": discipline})
    complaint.updated_at = utcnow()
    db.session.flush()
    return section


def save_summary(complaint: Complaint, actor, *, summary: str) -> None:
    """The customer-facing summary of the 8D (what the customer is shown and sent)."""
    require(actor, "eight_d", complaint)
    report = report_of(complaint)
    if report is None:
        raise Refused("no_report", _l("Start the 8D report first."))
    report.customer_summary = summary.strip()
    record(complaint, actor, "eight_d.summary", message=report.customer_summary,
           customer_visible=True)
    complaint.updated_at = utcnow()
    db.session.flush()
