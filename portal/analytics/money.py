"""What poor quality costs (cost entries by category, department and month) and what customers
say (survey scores by month and module, and the low scores with their follow-ups).

Suppliers are not recorded anywhere yet, so there is no supplier split: when they exist, a
``supplier_id`` on cost entries grouped like the department is all it takes.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Float, cast, func, select

from ..complaints.costs import ACTIVE
from ..extensions import db
from ..models import Action, Complaint, CostEntry, Survey
from .pareto import slicing_filters
from .period import Slice
from .sql import month_of

CURRENCY = "CNY"
MODULES = ("overall", "service", "quality")


def _cost_where(s: Slice) -> list:
    where = [CostEntry.created_at >= s.since, CostEntry.created_at < s.before,
             CostEntry.currency == CURRENCY, ACTIVE]
    filters = slicing_filters(s)
    if filters:
        where.append(CostEntry.complaint_id.in_(select(Complaint.id).where(*filters)))
    return where


def costs(s: Slice) -> dict:
    """Sums in CNY by category, by responsible department (the entry's), and by local month."""
    where = _cost_where(s)
    total = func.coalesce(func.sum(CostEntry.amount), 0)

    def grouped(column):
        return [(k, Decimal(v)) for k, v in db.session.execute(
            select(column, total).where(*where).group_by(column).order_by(total.desc(), column))]

    month = month_of(CostEntry.created_at, s)
    by_month = dict(grouped(month))
    return {
        "by_category": grouped(CostEntry.category),
        "by_department": grouped(CostEntry.responsible_department_id),
        "by_month": [(k, by_month.get(k, Decimal(0))) for k in s.months],
        "total": sum((v for v in by_month.values()), Decimal(0)),
    }


def _survey_where(s: Slice) -> list:
    where = [Survey.answered_at >= s.since, Survey.answered_at < s.before,
             Survey.total_score.is_not(None)]
    filters = slicing_filters(s)
    if filters:
        where.append(Survey.complaint_id.in_(select(Complaint.id).where(*filters)))
    return where


def satisfaction(s: Slice, low_score: float) -> dict:
    """Average total and module scores per local month of answering, and the low scores."""
    month = month_of(Survey.answered_at, s)
    columns = [month, func.count(Survey.id), func.avg(Survey.total_score)]
    columns += [func.avg(cast(Survey.answers["modules"][m].as_string(), Float)) for m in MODULES]
    found = {r[0]: r for r in db.session.execute(
        select(*columns).where(*_survey_where(s)).group_by(month))}
    by_month = []
    for key in s.months:
        r = found.get(key)
        by_month.append({"month": key, "answers": int(r[1]) if r else 0,
                         "total": float(r[2]) if r and r[2] is not None else None,
                         **{m: (float(r[3 + i]) if r and r[3 + i] is not None else None)
                            for i, m in enumerate(MODULES)}})
    low = db.session.execute(
        select(Survey.id, Survey.answered_at, Survey.total_score, Survey.complaint_id,
               Complaint.number, Survey.answers, Action.done_at, Action.title)
        .outerjoin(Complaint, Complaint.id == Survey.complaint_id)
        .outerjoin(Action, Action.id == Survey.answers["follow_up_action_id"].as_integer())
        .where(*_survey_where(s), Survey.total_score < low_score)
        .order_by(Survey.total_score, Survey.id).limit(50)).all()
    return {"by_month": by_month, "low": low, "low_score": low_score}
