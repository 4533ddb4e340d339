"""Defect-ratio escalation (DOMAIN.md, "Escalation rules").

For a complaint's product model (and lot, when known) and failure mode: the defect quantity
of the tenant's complaints over the quantity shipped, in a rolling window (``ratio_window_months``).

- ratio above ``defect_ratio_exception`` (3‰), or a severe event / severe failure mode
  → a market quality exception report (``market_exception``);
- ratio above ``defect_ratio_special`` (1%), or ``repeat_complaints_count`` (3) complaints on
  the same problem within ``repeat_complaints_days`` (90), or a safety hazard
  → a quality special report (``special``).

Each report is due ``report_due_hours`` (72 h) after the first complaint behind it, has an
owner (quality), a history and the figures behind its trigger. An open report for the same
kind, model and failure mode is never opened twice. Runs with the tenant active; flushes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from ..complaints.timeline import SYSTEM, record
from ..complaints.vocabulary import REPORT_TRIGGER_LABELS
from ..extensions import db
from ..models import (
    Complaint,
    EscalationReport,
    FailureMode,
    Shipment,
    StaffUser,
    Tenant,
    utcnow,
)
from ..models.actions import EscalationReportEvent

NUMBER_PREFIX = {"market_exception": "MQ", "special": "QS"}


@dataclass
class Figures:
    product_model_id: int | None
    failure_mode_id: int | None
    lot: str | None
    window_start: date
    window_end: date
    window_months: int
    complaints: int
    complaint_ids: list[int]
    defects: int
    shipped: int
    ratio: float | None
    repeat_count: int
    repeat_days: int
    first_complaint_at: datetime

    def as_dict(self) -> dict:
        return {**{k: v for k, v in self.__dict__.items()
                   if k not in ("window_start", "window_end", "first_complaint_at")},
                "window_start": self.window_start.isoformat(),
                "window_end": self.window_end.isoformat(),
                "first_complaint_at": self.first_complaint_at.isoformat()}


def months_back(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)


def figures_for(tenant: Tenant, complaint: Complaint, now: datetime | None = None,
                by_lot: bool = False) -> Figures:
    """The counts behind the ratio for the complaint's model (and lot) and failure mode."""
    now = now or utcnow()
    months = int(tenant.setting("ratio_window_months"))
    end = now.date()
    start = months_back(end, months)
    since = datetime.combine(start, datetime.min.time(), tzinfo=now.tzinfo)
    same = [Complaint.product_model_id == complaint.product_model_id,
            Complaint.status != "rejected"]
    same.append(Complaint.failure_mode_id == complaint.failure_mode_id
                if complaint.failure_mode_id else Complaint.failure_mode_id.is_(None))
    lot = complaint.lot if by_lot else None
    if lot:
        same.append(Complaint.lot == lot)
    rows = db.session.execute(
        select(Complaint.id, Complaint.defect_quantity, Complaint.created_at)
        .where(*same, Complaint.created_at >= since).order_by(Complaint.created_at)
    ).all()
    shipped_query = select(func.coalesce(func.sum(Shipment.quantity), 0)).where(
        Shipment.product_model_id == complaint.product_model_id)
    if lot:
        shipped_query = shipped_query.where(Shipment.lot == lot)
    else:
        shipped_query = shipped_query.where(Shipment.shipped_on >= start,
                                            Shipment.shipped_on <= end)
    shipped = int(db.session.scalar(shipped_query) or 0)
    defects = sum(int(r.defect_quantity or 0) for r in rows)
    repeat_days = int(tenant.setting("repeat_complaints_days"))
    repeat_since = now - timedelta(days=repeat_days)
    if not complaint.product_model_id and not complaint.problem_id:
        repeat = 0  # nothing ties this complaint to others: no "same problem" to count
    elif complaint.problem_id:
        repeat = db.session.scalar(select(func.count()).select_from(Complaint).where(
            Complaint.problem_id == complaint.problem_id, Complaint.created_at >= repeat_since,
            Complaint.status != "rejected"))
    else:
        repeat = sum(1 for r in rows if r.created_at >= repeat_since)
    return Figures(
        product_model_id=complaint.product_model_id, failure_mode_id=complaint.failure_mode_id,
        lot=lot, window_start=start, window_end=end, window_months=months,
        complaints=len(rows), complaint_ids=[r.id for r in rows], defects=defects,
        shipped=shipped, ratio=(defects / shipped) if shipped else None,
        repeat_count=int(repeat or 0), repeat_days=repeat_days,
        first_complaint_at=rows[0].created_at if rows else (complaint.created_at or now),
    )


def triggers_for(tenant: Tenant, complaint: Complaint, figures: list[Figures]) -> dict[str, tuple]:
    """``{report kind: (trigger code, figures)}`` for the reports this complaint calls for."""
    exception_at = float(tenant.setting("defect_ratio_exception"))
    special_at = float(tenant.setting("defect_ratio_special"))
    repeat_at = int(tenant.setting("repeat_complaints_count"))
    base = figures[0]
    found: dict[str, tuple] = {}
    severe_mode = complaint.failure_mode_id and db.session.scalar(
        select(FailureMode.severe).where(FailureMode.id == complaint.failure_mode_id))
    for f in figures:  # model-wide first, then the lot: the first hit is kept
        if f.ratio is not None and f.ratio > special_at:
            found.setdefault("special", ("ratio_special", f))
        if f.ratio is not None and f.ratio > exception_at:
            found.setdefault("market_exception", ("ratio_exception", f))
    if complaint.severe_event or severe_mode:
        found.setdefault("market_exception", ("severe", base))
    if complaint.safety_hazard:
        found.setdefault("special", ("safety", base))
    if base.repeat_count >= repeat_at:
        found.setdefault("special", ("repeat", base))
    return found


def evaluate(complaint: Complaint, now: datetime | None = None) -> list[EscalationReport]:
    """Open the reports the complaint's figures call for (never twice). Returns those opened."""
    tenant = db.session.get(Tenant, complaint.tenant_id)
    if complaint.status == "rejected":
        return []
    figures = [figures_for(tenant, complaint, now)]
    if complaint.lot and complaint.product_model_id:
        figures.append(figures_for(tenant, complaint, now, by_lot=True))
    if not complaint.product_model_id:
        figures[0].ratio = None
    opened = []
    for kind, (trigger, f) in triggers_for(tenant, complaint, figures).items():
        report = _open(tenant, complaint, kind, trigger, f, now)
        if report is not None:
            opened.append(report)
    return opened


def _lock(tenant_id: int) -> None:
    # Two complaints submitted at once must not open the same report twice.
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(func.pg_advisory_xact_lock(7_000_000 + tenant_id)))


def _open(tenant: Tenant, complaint: Complaint, kind: str, trigger: str, f: Figures,
          now: datetime | None) -> EscalationReport | None:
    from ..complaints.operations import next_counter_value
    from ..notifications import notify
    from .clocks import context_for, start

    _lock(tenant.id)
    existing = db.session.scalar(select(EscalationReport).where(
        EscalationReport.kind == kind, EscalationReport.status != "closed",
        EscalationReport.product_model_id == complaint.product_model_id
        if complaint.product_model_id else EscalationReport.product_model_id.is_(None),
        EscalationReport.failure_mode_id == complaint.failure_mode_id
        if complaint.failure_mode_id else EscalationReport.failure_mode_id.is_(None),
        *([] if complaint.product_model_id else
          [EscalationReport.evidence["complaint_id"].as_integer() == complaint.id])))
    if existing is not None:
        ids = list((existing.evidence or {}).get("related_complaints", []))
        if complaint.id not in ids:
            existing.evidence = {**existing.evidence, "related_complaints": [*ids, complaint.id]}
        return None
    now = now or utcnow()
    year = now.year
    number = f"{NUMBER_PREFIX[kind]}-{year}-{next_counter_value(f'report-{kind}-{year}'):04d}"
    quality = [u for u in db.session.scalars(select(StaffUser).where(StaffUser.active.is_(True)))
               if u.has_role("quality")]
    due = f.first_complaint_at + timedelta(hours=float(tenant.setting("report_due_hours")))
    evidence = {"trigger": trigger, "complaint_id": complaint.id,
                "related_complaints": [complaint.id], "figures": f.as_dict(),
                "thresholds": {"exception": tenant.setting("defect_ratio_exception"),
                               "special": tenant.setting("defect_ratio_special"),
                               "repeat_count": tenant.setting("repeat_complaints_count"),
                               "repeat_days": tenant.setting("repeat_complaints_days")},
                "flags": {"severe_event": complaint.severe_event,
                          "safety_hazard": complaint.safety_hazard}}
    report = EscalationReport(number=number, kind=kind, product_model_id=complaint.product_model_id,
                              failure_mode_id=complaint.failure_mode_id, lot=f.lot,
                              problem_id=complaint.problem_id, trigger=trigger, evidence=evidence,
                              owner_id=quality[0].id if quality else None, status="open",
                              due_at=due)
    db.session.add(report)
    db.session.flush()
    db.session.add(EscalationReportEvent(report_id=report.id, actor="system",
                                         actor_name=SYSTEM.name, kind="opened",
                                         data={"trigger": trigger, "figures": f.as_dict()}))
    start(context_for(tenant), "report", report=report, at=now, due_at=due)
    record(complaint, SYSTEM, "report.opened",
           data={"report_id": report.id, "number": number, "kind": kind, "trigger": trigger})
    notify("report.opened", quality, complaint=complaint,
           data={"report_id": report.id, "report_number": number, "number": number,
                 "report_kind": kind, "trigger": trigger,
                 "trigger_text": str(REPORT_TRIGGER_LABELS[trigger]), "due_at": due.isoformat()},
           dedupe_key=f"report:{report.id}:opened")
    db.session.flush()
    return report


def issue(report: EscalationReport, actor, body: str | None = None) -> None:
    """Mark the report issued: its clock stops (met or late) and the history says who."""
    from sqlalchemy import update

    from ..models import DeadlineClock

    now = utcnow()
    if body is not None:
        report.body = body
    report.status = "issued"
    db.session.execute(update(DeadlineClock).where(
        DeadlineClock.report_id == report.id, DeadlineClock.stopped_at.is_(None))
        .values(stopped_at=now, stop_reason="issued")
        .execution_options(synchronize_session=False))
    db.session.add(EscalationReportEvent(report_id=report.id, actor=actor.get_id(),
                                         actor_name=actor.name, kind="issued"))
    db.session.flush()


def on_submitted(complaint: Complaint) -> None:
    evaluate(complaint)


def on_transition(complaint: Complaint, transition, actor, from_status: str) -> None:
    # After classification the failure mode is known: look again when the case is accepted
    # or containment starts (classification is required for containment).
    if transition.name in ("accept", "start_containment"):
        evaluate(complaint)
