"""Complaint counts for a slice: the rollup (``analytics_monthly``, kept current by
portal/analytics/rollup.py) for the default views, the complaints themselves for the rest.

The rollup holds whole local months per source and one dimension at a time, so it answers a
slice of whole months with no filter but the source — the dashboard as it opens and every
period button — in one statement over a few hundred rows a month. A filter by model, product
line or customer reads the complaints (such a filter keeps a small share of them, found by
index), and so do the days of a custom range outside whole months. Either way the same
groupings come back — each Pareto dimension, the months (received, closed) and model × month
(the defect ratio) — and are added together.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date

from sqlalchemy import (
    Date,
    Integer,
    String,
    bindparam,
    func,
    literal,
    null,
    select,
    text,
    union_all,
)

from ..extensions import db
from ..models import Complaint
from .period import Slice, add_months
from .sql import is_postgres, month_of, own_tenant, rows

# dimension -> the complaint's column
COLUMNS = {
    "cause": Complaint.cause_category,
    "mode": Complaint.failure_mode_id,
    "product": Complaint.product_model_id,
    "customer": Complaint.customer_company_id,
    "department": Complaint.responsible_department_id,
}
GROUPINGS = ("cause", "mode", "product", "customer", "department", "month", "product-month")


def whole_months(s: Slice) -> tuple[date, date] | None:
    """[first, end) of the local months that lie wholly inside the slice, or None."""
    first = s.start if s.start.day == 1 else add_months(s.start, 1)
    end = s.end.replace(day=1)
    return (first, end) if first < end else None


ROLLUP = ("SELECT dimension, key, CAST(NULL AS VARCHAR), {sums} WHERE {where} AND dimension <> "
          "'all' GROUP BY dimension, key UNION ALL SELECT 'month', '', {month}, {sums} WHERE "
          "{where} AND dimension = 'all' GROUP BY {month} UNION ALL SELECT 'product-month', key, "
          "{month}, {sums} WHERE {where} AND dimension = 'product' GROUP BY key, {month}")
_ROLLUP_TEXT: dict = {}


def _rollup_statement(s: Slice, months: tuple[date, date]):
    """Per (grouping, key, month) from the rollup: the Pareto dimensions over the months, all
    complaints by month, and product models by month. SQL text naming its tenant (``:t``),
    run past the ORM's scoping (sql.py ``rows``); built once per dialect and filter."""
    postgres = is_postgres()
    key = (postgres, bool(s.source))
    statement = _ROLLUP_TEXT.get(key)
    if statement is None:
        where = "tenant_id = :t AND month >= :start AND month < :end"
        if s.source:
            where += " AND source = :source"
        statement = _ROLLUP_TEXT[key] = text(ROLLUP.format(
            sums="sum(received), sum(defects), sum(closed) FROM analytics_monthly",
            where=where, month="to_char(month, 'YYYY-MM')" if postgres
            else "strftime('%Y-%m', month)")).bindparams(
                bindparam("start", type_=Date), bindparam("end", type_=Date))
    params = {"t": own_tenant(), "start": months[0], "end": months[1]}
    if s.source:
        params["source"] = s.source
    return statement.bindparams(**params)


def _live_rows(s: Slice, part: Slice, closed: bool):
    """Complaints of ``part`` (days outside whole months) in the rollup's shape."""
    from .pareto import slicing_filters

    moment = Complaint.closed_at if closed else Complaint.created_at
    where = [moment >= part.since, moment < part.before, *slicing_filters(s),
             Complaint.status == "closed" if closed else Complaint.status != "rejected"]
    keys = [col.label(d) for d, col in COLUMNS.items()]
    one, zero = literal(1, Integer), literal(0, Integer)
    measures = [zero, zero, one] if closed else [one, Complaint.defect_quantity, zero]
    return select(month_of(moment, part).label("m"), *keys, *[
        m.label(n) for m, n in zip(measures, ("r", "q", "c"), strict=True)]).where(*where)


def _edges(s: Slice, months: tuple[date, date] | None) -> list[Slice]:
    if months is None:
        return [s]
    parts = []
    if s.start < months[0]:
        parts.append(replace(s, start=s.start, end=months[0]))
    if months[1] < s.end:
        parts.append(replace(s, start=months[1], end=s.end))
    return parts


def _live_statement(s: Slice, parts: list[Slice]):
    """The same groupings counted from the complaints of ``parts`` (the slice's filters)."""
    rows = []
    for part in parts:
        rows += [_live_rows(s, part, closed=False), _live_rows(s, part, closed=True)]
    base = (union_all(*rows) if len(rows) > 1 else rows[0]).cte("base")
    sums = [func.sum(base.c.r), func.sum(base.c.q), func.sum(base.c.c)]
    none = null().cast(String)
    selects = []
    for grouping in GROUPINGS:
        if grouping == "month":
            key, month, groups = literal("", String), base.c.m, [base.c.m]
        elif grouping == "product-month":
            key, month, groups = base.c.product.cast(String), base.c.m, [base.c.product, base.c.m]
        else:
            key, month, groups = base.c[grouping].cast(String), none, [base.c[grouping]]
        selects.append(select(literal(grouping, String), key, month, *sums).group_by(*groups))
    return union_all(*selects)


def _results(s: Slice) -> list:
    """The rollup's rows for the whole months (tenant named in the statement: ``rows()``),
    the complaints' for the rest (through the session's tenant scoping)."""
    months = None if (s.product or s.customer or s.line) else whole_months(s)
    found = rows(_rollup_statement(s, months)) if months else []
    parts = _edges(s, months)
    if parts:
        found += db.session.execute(_live_statement(s, parts)).all()
    return found


class Counts:
    """The slice's complaint counts by every grouping: ``by(name)`` -> {key: [received,
    defects, closed]}, keys as the complaints hold them (ids as ints, None for none)."""

    def __init__(self, s: Slice):
        self.slice = s
        found: dict[str, dict] = {g: defaultdict(lambda: [0, 0, 0]) for g in GROUPINGS}
        for grouping, key, month, r, q, c in _results(s):
            if grouping == "month":
                key = month
            elif grouping == "product-month":
                key = (int(key) if key else None, month)
            elif grouping == "cause":
                key = key or None
            else:
                key = int(key) if key else None
            counts = found[grouping][key]
            counts[0] += int(r or 0)
            counts[1] += int(q or 0)
            counts[2] += int(c or 0)
        self._found = found

    def by(self, grouping: str) -> dict:
        return self._found[grouping]
