"""Whether the loop works: complaints received and closed by month, open ones by age, each
deadline clock's on-time rate and median time by department, reopen and dispute rates, and
recurrences (a closed problem's failure mode again on the same model)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, or_, select

from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models import OPEN_STATUSES, Action, Complaint, DeadlineClock, TimelineEvent, utcnow
from .counts import Counts
from .pareto import complaint_filters, slicing_filters
from .period import Slice
from .sql import hours_between, median, own, python_median, rows

AGE_BUCKETS = ((0, 7, _l("under 7 days")), (7, 30, _l("7–30 days")),
               (30, 90, _l("30–90 days")), (90, None, _l("over 90 days")))
# The clocks the meeting looks at, in order; "corrective" is the action clocks of
# corrective actions (their due time is the action's).
CLOCK_KINDS = ("first_contact", "answer", "class_a_plan", "containment", "corrective")


def flow_by_month(s: Slice, counts: Counts | None = None) -> list[dict]:
    """Per local month: complaints received (not rejected) and complaints closed (from the
    rollup: counts.py)."""
    months = (counts or Counts(s)).by("month")
    return [{"month": k, "received": months[k][0] if k in months else 0,
             "closed": months[k][2] if k in months else 0} for k in s.months]


def open_by_age(s: Slice, now: datetime | None = None) -> list[dict]:
    """Complaints open now, by days since received (the period does not apply)."""
    now = now or utcnow()
    bucket = case(*[(Complaint.created_at >= now - timedelta(days=high), i)
                    for i, (_, high, _) in enumerate(AGE_BUCKETS) if high],
                  else_=len(AGE_BUCKETS) - 1)
    counts = dict(rows(
        select(bucket, func.count(Complaint.id))
        .where(*own(Complaint), Complaint.status.in_(OPEN_STATUSES), *slicing_filters(s))
        .group_by(bucket)))
    return [{"label": label, "count": int(counts.get(i, 0)),
             "since": now - timedelta(days=high) if high else None,
             "before": now - timedelta(days=low)}
            for i, (low, high, label) in enumerate(AGE_BUCKETS)]


@dataclass
class ClockRow:
    kind: str
    department_id: int | None
    on_time: int
    late: int
    running: int
    median_hours: float | None

    @property
    def rate(self) -> float | None:
        done = self.on_time + self.late
        return self.on_time / done if done else None


def _clock_kind():
    return case((DeadlineClock.action_id.is_not(None), "corrective"), else_=DeadlineClock.kind)


def clock_performance(s: Slice, now: datetime | None = None) -> list[ClockRow]:
    """Clocks of the period's complaints, by kind and responsible department: met (stopped by
    the due time), late (stopped after it, or still running past it), still running, and the
    median hours taken (stopped clocks; elapsed less the time paused on the customer)."""
    now = now or utcnow()
    kind = _clock_kind()
    stopped = DeadlineClock.stopped_at.is_not(None)
    on_time = func.count().filter(and_(stopped, DeadlineClock.stopped_at <= DeadlineClock.due_at))
    late = func.count().filter(or_(and_(stopped, DeadlineClock.stopped_at > DeadlineClock.due_at),
                                   and_(~stopped, DeadlineClock.paused_at.is_(None),
                                        DeadlineClock.due_at < now)))
    running = func.count().filter(and_(~stopped, or_(DeadlineClock.paused_at.is_not(None),
                                                     DeadlineClock.due_at >= now)))
    taken = hours_between(DeadlineClock.started_at, DeadlineClock.stopped_at) \
        - DeadlineClock.paused_minutes / 60.0
    middle = median(taken)
    columns = [kind, Complaint.responsible_department_id, on_time, late, running]
    if middle is not None:
        columns.append(middle.filter(stopped))
    where = [*complaint_filters(s), or_(DeadlineClock.kind.in_(CLOCK_KINDS[:4]),
                                        and_(DeadlineClock.action_id.is_not(None),
                                             Action.kind == "corrective"))]
    statement = (select(*columns).select_from(DeadlineClock)
                 .join(Complaint, Complaint.id == DeadlineClock.complaint_id)
                 .outerjoin(Action, Action.id == DeadlineClock.action_id)
                 .where(*where).group_by(kind, Complaint.responsible_department_id))
    rows = [ClockRow(r[0], r[1], int(r[2]), int(r[3]), int(r[4]),
                     float(r[5]) if middle is not None and r[5] is not None else None)
            for r in db.session.execute(statement)]
    if middle is None:  # SQLite (the demo): medians in Python
        values: dict[tuple, list[float]] = {}
        for k, d, h in db.session.execute(
                select(kind, Complaint.responsible_department_id, taken)
                .select_from(DeadlineClock).join(Complaint, Complaint.id == DeadlineClock.complaint_id)
                .outerjoin(Action, Action.id == DeadlineClock.action_id).where(*where, stopped)):
            values.setdefault((k, d), []).append(float(h))
        for row in rows:
            row.median_hours = python_median(values.get((row.kind, row.department_id), []))
    order = {k: i for i, k in enumerate(CLOCK_KINDS)}
    return sorted(rows, key=lambda r: (order.get(r.kind, 99), r.department_id or 0))


def _loop_events():
    """Complaints with a reopen or a dispute on their timeline: read off the partial index
    ix_timeline_events_loop (only those two kinds), one row per complaint."""
    reopen = TimelineEvent.kind == "transition.reopen"
    dispute = TimelineEvent.kind == "transition.dispute"
    return (select(TimelineEvent.complaint_id,
                   func.max(case((reopen, 1), else_=0)).label("reopened"),
                   func.max(case((dispute, 1), else_=0)).label("disputed"))
            .where(TimelineEvent.kind.in_(("transition.reopen", "transition.dispute")))
            .group_by(TimelineEvent.complaint_id).subquery())


def rates(s: Slice) -> dict:
    """Reopen rate: complaints of the period reopened at least once, over those closed at least
    once. Dispute rate: complaints the customer disputed at least once (an answer or a
    rejection), over those answered or disputed."""
    events = _loop_events()
    reopened, disputed = events.c.reopened == 1, events.c.disputed == 1
    row = db.session.execute(select(
        func.count().filter(or_(Complaint.closed_at.is_not(None), reopened)),
        func.count().filter(reopened),
        func.count().filter(or_(Complaint.answered_at.is_not(None), disputed)),
        func.count().filter(disputed),
    ).select_from(Complaint).outerjoin(events, events.c.complaint_id == Complaint.id)
        .where(*complaint_filters(s))).one()
    closed, reopen, answered, dispute = (int(v) for v in row)
    return {"closed": closed, "reopened": reopen, "reopen_rate": reopen / closed if closed else None,
            "answered": answered, "disputed": dispute,
            "dispute_rate": dispute / answered if answered else None}


def _first_closed():
    """Per model and failure mode, when a complaint of it was first closed. A complaint is a
    recurrence when it came in after that (its own closing is always later than its arrival,
    so it never counts itself). One GROUP BY over the index ix_complaints_recurrence instead of
    a correlated EXISTS per complaint (24 s -> milliseconds at 200,000 complaints)."""
    return (select(Complaint.product_model_id.label("product_id"),
                   Complaint.failure_mode_id.label("mode_id"),
                   func.min(Complaint.closed_at).label("first_closed"))
            .where(Complaint.closed_at.is_not(None), Complaint.product_model_id.is_not(None),
                   Complaint.failure_mode_id.is_not(None))
            .group_by(Complaint.product_model_id, Complaint.failure_mode_id).subquery())


def recurrences(s: Slice, by_department: bool = False) -> list[dict]:
    """Complaints of the period whose model and failure mode an earlier complaint had, and that
    earlier one was already closed when this one came in: by model and failure mode, or by
    responsible department."""
    first = _first_closed()
    keys = ([Complaint.responsible_department_id] if by_department
            else [Complaint.product_model_id, Complaint.failure_mode_id])
    statement = (select(*keys, func.count(Complaint.id))
                 .join(first, and_(first.c.product_id == Complaint.product_model_id,
                                   first.c.mode_id == Complaint.failure_mode_id))
                 .where(*complaint_filters(s), Complaint.created_at > first.c.first_closed)
                 .group_by(*keys).order_by(func.count(Complaint.id).desc(), *keys))
    if by_department:
        return [{"department": d, "count": int(n)} for d, n in db.session.execute(statement)]
    return [{"product": p, "mode": m, "count": int(n)} for p, m, n in db.session.execute(statement)]


def overdue_actions(s: Slice) -> dict:
    """Actions due in the period not done by their due time, by the complaint's responsible
    department."""
    statement = (select(Complaint.responsible_department_id, func.count(Action.id))
                 .select_from(Action).join(Complaint, Complaint.id == Action.complaint_id)
                 .where(Action.due_at >= s.since, Action.due_at < s.before,
                        or_(Action.done_at.is_(None), Action.done_at > Action.due_at),
                        *slicing_filters(s))
                 .group_by(Complaint.responsible_department_id))
    return {d: int(n) for d, n in db.session.execute(statement)}
