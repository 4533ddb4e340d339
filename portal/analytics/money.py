"""What poor quality costs (cost entries by category, department, supplier and month) and what
customers say (survey scores by month and module, and the low scores with their follow-ups).

Every money figure comes from ``costs()``: one statement over the period's cost entries (a
supplier is the one a ``SupplierCharge`` charges the entry back to), so a rule about which
entries count — corrected and voided entries do not (``costs.ACTIVE``) — lives in one place
(and in the loop rollup's statement beside it, loop_sql.py ``_costs``, with the same rules).
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Float, and_, cast, func, select

from ..complaints.costs import ACTIVE
from ..extensions import db
from ..models import Action, Complaint, CostEntry, SupplierCharge, Survey
from .pareto import slicing_filters
from .period import Slice
from .sql import month_of, own, rows

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
    """Sums in CNY by category, by responsible department (the entry's), by supplier charged
    back (None: not charged back) and by local month; one GROUP BY, summed here."""
    month = month_of(CostEntry.created_at, s)
    statement = (select(CostEntry.category, CostEntry.responsible_department_id,
                        SupplierCharge.supplier_id, month, func.sum(CostEntry.amount))
                 .outerjoin(SupplierCharge, SupplierCharge.cost_entry_id == CostEntry.id)
                 .where(*_cost_where(s))
                 .group_by(CostEntry.category, CostEntry.responsible_department_id,
                           SupplierCharge.supplier_id, month))
    sums: dict[str, dict] = {"category": {}, "department": {}, "supplier": {}, "month": {}}
    for category, department, supplier, key, amount in db.session.execute(statement):
        amount = Decimal(amount or 0)
        for name, value in (("category", category), ("department", department),
                            ("supplier", supplier), ("month", key)):
            sums[name][value] = sums[name].get(value, Decimal(0)) + amount
    return shaped(sums, s)


def shaped(sums: dict[str, dict], s: Slice) -> dict:
    """The cost figures from sums per category, department, supplier and month."""
    def ordered(name):
        return sorted(sums[name].items(), key=lambda kv: (-kv[1], kv[0] is None, kv[0] or 0))

    return {
        "by_category": ordered("category"),
        "by_department": ordered("department"),
        "by_supplier": [(k, v) for k, v in ordered("supplier") if k is not None],
        "by_month": [(k, sums["month"].get(k, Decimal(0))) for k in s.months],
        "total": sum(sums["month"].values(), Decimal(0)),
    }


def _survey_where(s: Slice) -> list:
    where = [*own(Survey), Survey.answered_at >= s.since, Survey.answered_at < s.before,
             Survey.total_score.is_not(None)]
    filters = slicing_filters(s)
    if filters:
        where.append(Survey.complaint_id.in_(select(Complaint.id).where(*own(Complaint),
                                                                        *filters)))
    return where


def satisfaction(s: Slice, low_score: float, by_month: list[dict] | None = None) -> dict:
    """Average total and module scores per local month of answering (``by_month`` when the
    rollup gave them), and the low scores with their follow-up."""
    if by_month is None:
        by_month = _scores_by_month(s)
    lowest = (select(Survey.id, Survey.answered_at, Survey.total_score, Survey.complaint_id,
                     Survey.answers)
              .where(*_survey_where(s), Survey.total_score < low_score)
              .order_by(Survey.total_score, Survey.id).limit(50).subquery())
    low = rows(  # the 50 lowest first, then their complaint and follow-up (all the tenant's)
        select(lowest.c.id, lowest.c.answered_at, lowest.c.total_score, lowest.c.complaint_id,
               Complaint.number, lowest.c.answers, Action.done_at, Action.title)
        .outerjoin(Complaint, and_(Complaint.id == lowest.c.complaint_id, *own(Complaint)))
        .outerjoin(Action, and_(Action.id == lowest.c.answers["follow_up_action_id"]
                                .as_integer(), *own(Action)))
        .order_by(lowest.c.total_score, lowest.c.id))
    return {"by_month": by_month, "low": low, "low_score": low_score}


def _scores_by_month(s: Slice) -> list[dict]:
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
    return by_month
