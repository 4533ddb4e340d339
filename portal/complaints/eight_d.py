"""The 8D report of a complaint: D1–D8, each section signed by its author with a time, with
evidence files and a mark for what the customer's 8D shows, and a customer-facing summary.
Structured content per discipline (``CONTENT_FIELDS``): D2 the problem in 5W2H with an
is/is-not table, D4 the 5-Why chain and 5M1E entries (from the root cause) with the occurrence
and escape points, D6 the validation and its result. D3, D5 and D7 list the containment,
corrective and preventive actions, which are tracked ``Action`` rows; D3 records each
containment measure's verified effect. The team (D1) and its sign-offs (D8) and sending the
customer's PDF are in eight_d_team.py.

Every function checks its guard, writes the timeline, flushes, never commits."""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models import Action, Complaint, EightDReport, EightDSection, utcnow
from .permissions import Refused, require
from .timeline import record
from .vocabulary import VALIDATION_RESULTS

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

# D2: the problem in 5W2H, and the is/is-not table's dimensions.
FIVE_W_TWO_H = ("what", "where", "when", "who", "why", "how", "how_many")
IS_IS_NOT = ("what", "where", "when", "extent")
CONTENT_FIELDS = {
    2: (*FIVE_W_TWO_H, *(f"is_{d}" for d in IS_IS_NOT), *(f"is_not_{d}" for d in IS_IS_NOT)),
    4: ("occurrence_point", "escape_point"),
    6: ("validation", "result"),
}
# The action kinds each discipline lists.
ACTION_KINDS_OF = {3: ("containment",), 5: ("corrective",), 7: ("preventive",)}
MAX_EVIDENCE = 10


def report_of(complaint: Complaint) -> EightDReport | None:
    return db.session.scalar(select(EightDReport).where(EightDReport.complaint_id == complaint.id))


def start_report(complaint: Complaint, actor, *, requested_by_customer: bool = False) -> EightDReport:
    """Open the complaint's 8D report (once); D2 and D4 start from what is known."""
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
    """Write (or rewrite) one discipline, signed by ``actor`` now. ``content`` is laid over
    what the section holds (the root cause form writes D4's chain, the 8D form its points).
    Flushes."""
    if discipline not in DISCIPLINES:
        raise Refused("invalid", _l("Choose a value from the list."))
    section = section_of(report, discipline)
    if section is None:
        section = EightDSection(report_id=report.id, discipline=discipline, evidence=[],
                                content={}, customer_visible=False)
        report.sections.append(section)
    section.text = (text or "").strip() or None
    if content is not None:
        section.content = {**(section.content or {}), **content}
    section.author_id = actor.id
    section.updated_at = utcnow()
    db.session.flush()
    return section


def section_of(report: EightDReport, discipline: int) -> EightDSection | None:
    return next((s for s in report.sections if s.discipline == discipline), None)


def _required_report(complaint: Complaint, actor) -> EightDReport:
    require(actor, "eight_d", complaint)
    report = report_of(complaint)
    if report is None:
        raise Refused("no_report", _l("Start the 8D report first."))
    return report


def _clean_content(discipline: int, content: dict | None) -> dict | None:
    """Only the discipline's own keys, as trimmed text (D6's result from its list)."""
    if discipline not in CONTENT_FIELDS or content is None:
        return None
    clean = {key: (str(content.get(key) or "")).strip() for key in CONTENT_FIELDS[discipline]}
    if discipline == 6 and clean["result"] not in VALIDATION_RESULTS:
        raise Refused("invalid", _l("Choose a value from the list."))
    return clean


def save_section(complaint: Complaint, actor, discipline: int, *, text: str,
                 content: dict | None = None, customer_visible: bool | None = None,
                 files=()) -> EightDSection:
    """Write a discipline with its structured content, evidence files (checked against the
    evidence allow-list, at most ``MAX_EVIDENCE`` a section) and the customer mark."""
    from .casework import store_evidence

    report = _required_report(complaint, actor)
    content = _clean_content(discipline, content)
    files = [f for f in files if f and f.filename]
    existing = section_of(report, discipline)
    if len(files) + len((existing.evidence or []) if existing else []) > MAX_EVIDENCE:
        raise Refused("invalid", _l("At most %(n)s evidence files a section.", n=MAX_EVIDENCE))
    stored = [store_evidence(complaint, f) for f in files]
    section = write_section(report, actor, discipline, text=text, content=content)
    section.evidence = [*(section.evidence or []), *stored]
    if customer_visible is not None:
        section.customer_visible = customer_visible
    record(complaint, actor, "eight_d.section", message=section.text,
           data={"discipline": discipline, "evidence": [e["name"] for e in stored]})
    complaint.updated_at = utcnow()
    db.session.flush()
    return section


def check_containment(complaint: Complaint, actor, action: Action, *, effect: str) -> Action:
    """D3: record the verified effect of a containment measure (who verified it, when)."""
    _required_report(complaint, actor)
    if action.complaint_id != complaint.id or action.kind != "containment":
        raise Refused("invalid", _l("Choose a value from the list."))
    effect = (effect or "").strip()
    if not effect:
        raise Refused("invalid", _l("Say what the measure was seen to achieve."))
    action.verification_note = effect
    action.verified_by_id = actor.id
    action.verified_at = utcnow()
    record(complaint, actor, "eight_d.containment_checked", message=effect,
           data={"action_id": action.id, "title": action.title})
    complaint.updated_at = utcnow()
    db.session.flush()
    return action


def save_summary(complaint: Complaint, actor, *, summary: str) -> None:
    """The customer-facing summary of the 8D (what the customer is shown and sent)."""
    report = _required_report(complaint, actor)
    report.customer_summary = summary.strip()
    record(complaint, actor, "eight_d.summary", message=report.customer_summary,
           customer_visible=True)
    complaint.updated_at = utcnow()
    db.session.flush()
