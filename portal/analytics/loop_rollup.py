"""The loop figures' rollup (``analytics_loop_monthly``), refreshed whole by a job.

Deadline clocks, reopen/dispute rates, recurrences and survey scores read tens of thousands of
rows of four tables per period; here they are counted once per tenant, local month (of the
complaint's arrival; of the answer for surveys) and source, so the dashboard reads a few
hundred rows; the cost entries too (money.py writes that statement, beside the live one). Unlike
the complaint counts (rollup.py, kept by the writes) these are refreshed
by ``refresh()`` — every 15 minutes from ``flask clock`` (jobs/analytics.py) and by ``flask
analytics-rollup`` — because a clock's outcome changes with time alone: a running clock turns
late at its due time with no write to hook. The page prints ``computed_at``.

Medians cannot be added across months, so stopped clocks are counted by hours bucket (two hours
up to two days, 12 hours up to 30 days, a day beyond) and the median is the middle bucket's
midpoint: within an hour under two days, 6 hours under 30 days, 12 hours beyond.

Used when the slice is whole local months with no filter but the source (the dashboard's
periods); a filter by model, line or customer, or a range of part months, counts live
(loop.py), as does the embedded SQLite default and a tenant never refreshed.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import String, and_, case, func, select, text

from ..extensions import db
from ..models import AnalyticsLoopMonth
from .loop import ClockRow
from .period import Slice
from .sql import is_postgres

HOURS = ("extract(epoch from dc.stopped_at - dc.started_at) / 3600.0 "
         "- dc.paused_minutes / 60.0")
BUCKET = (f"CASE WHEN ({HOURS}) < 48 THEN floor(greatest({HOURS}, 0) / 2) "
          f"WHEN ({HOURS}) < 720 THEN 24 + floor((({HOURS}) - 48) / 12) "
          f"ELSE least(80 + floor((({HOURS}) - 720) / 24), 9999) END")
CLOCKS = ("FROM deadline_clocks dc JOIN complaints c ON c.id = dc.complaint_id "
          "LEFT JOIN actions a ON a.id = dc.action_id "
          "WHERE c.tenant_id = :t AND dc.tenant_id = :t AND c.status <> 'rejected' AND (dc.kind "
          "IN ('first_contact', 'answer', 'class_a_plan', 'containment') OR (dc.action_id IS NOT "
          "NULL AND a.kind = 'corrective')) ")
CLOCK_KIND = "CASE WHEN dc.action_id IS NOT NULL THEN 'corrective' ELSE dc.kind END"
MONTH = "date_trunc('month', timezone(:zone, {}))::date"
INSERT = ("INSERT INTO analytics_loop_monthly (tenant_id, computed_at, month, source, figure, "
          "key1, key2, bucket, n1, n2, n3, n4, x) ")
# The period's complaints that came in after their model and failure mode was first closed.
RECURRING = ("FROM complaints c JOIN (SELECT product_model_id AS p, failure_mode_id AS f, "
             "min(closed_at) AS first FROM complaints WHERE tenant_id = :t AND closed_at IS NOT "
             "NULL AND product_model_id IS NOT NULL AND failure_mode_id IS NOT NULL GROUP BY 1, 2"
             ") fc ON c.product_model_id = fc.p AND c.failure_mode_id = fc.f "
             "WHERE c.tenant_id = :t AND c.status <> 'rejected' AND c.created_at > fc.first ")
REFRESH = [
    # clocks: met / late (stopped late, or running past due) / running (bucket -1) ...
    INSERT + f"SELECT :t, :now, {MONTH.format('c.created_at')}, c.source, 'clock', "
    f"{CLOCK_KIND}, coalesce(c.responsible_department_id::text, ''), -1, "
    "count(*) FILTER (WHERE dc.stopped_at <= dc.due_at), "
    "count(*) FILTER (WHERE dc.stopped_at > dc.due_at OR (dc.stopped_at IS NULL "
    "AND dc.paused_at IS NULL AND dc.due_at < :now)), "
    "count(*) FILTER (WHERE dc.stopped_at IS NULL AND (dc.paused_at IS NOT NULL "
    f"OR dc.due_at >= :now)), 0, 0 {CLOCKS} GROUP BY 3, 4, 6, 7",
    # ... and the stopped ones by hours taken, for the medians
    INSERT + f"SELECT :t, :now, {MONTH.format('c.created_at')}, c.source, 'clock_hours', "
    f"{CLOCK_KIND}, coalesce(c.responsible_department_id::text, ''), {BUCKET}, count(*), "
    f"0, 0, 0, 0 {CLOCKS} AND dc.stopped_at IS NOT NULL GROUP BY 3, 4, 6, 7, 8",
    # rates: closed at least once, reopened, answered or disputed, disputed
    INSERT + f"SELECT :t, :now, {MONTH.format('c.created_at')}, c.source, 'rates', '', '', -1, "
    "count(*) FILTER (WHERE c.closed_at IS NOT NULL OR e.reopened = 1), "
    "count(*) FILTER (WHERE e.reopened = 1), "
    "count(*) FILTER (WHERE c.answered_at IS NOT NULL OR e.disputed = 1), "
    "count(*) FILTER (WHERE e.disputed = 1), 0 FROM complaints c LEFT JOIN ("
    "SELECT complaint_id, max(CASE WHEN kind = 'transition.reopen' THEN 1 ELSE 0 END) reopened, "
    "max(CASE WHEN kind = 'transition.dispute' THEN 1 ELSE 0 END) disputed FROM timeline_events "
    "WHERE kind IN ('transition.reopen', 'transition.dispute') GROUP BY complaint_id) e "
    "ON e.complaint_id = c.id WHERE c.tenant_id = :t AND c.status <> 'rejected' GROUP BY 3, 4",
    # recurrences, by model and failure mode and by department
    INSERT + f"SELECT :t, :now, {MONTH.format('c.created_at')}, c.source, 'recur', "
    "c.product_model_id::text, c.failure_mode_id::text, -1, count(*), 0, 0, 0, 0 "
    f"{RECURRING} GROUP BY 3, 4, 6, 7",
    INSERT + f"SELECT :t, :now, {MONTH.format('c.created_at')}, c.source, 'recur_dept', "
    "coalesce(c.responsible_department_id::text, ''), '', -1, count(*), 0, 0, 0, 0 "
    f"{RECURRING} GROUP BY 3, 4, 6",
    # survey scores by answering month and module: count of values and their sum
    INSERT + f"SELECT :t, :now, {MONTH.format('s.answered_at')}, coalesce(c.source, ''), "
    "'sat', m.module, '', -1, count(m.value), 0, 0, 0, coalesce(sum(m.value), 0) "
    "FROM surveys s LEFT JOIN complaints c ON c.id = s.complaint_id "
    "CROSS JOIN LATERAL (VALUES ('total', s.total_score::float), "
    "('overall', (s.answers -> 'modules' ->> 'overall')::float), "
    "('service', (s.answers -> 'modules' ->> 'service')::float), "
    "('quality', (s.answers -> 'modules' ->> 'quality')::float)) AS m (module, value) "
    "WHERE s.tenant_id = :t AND s.answered_at IS NOT NULL AND s.total_score IS NOT NULL "
    "GROUP BY 3, 4, 6",
]


FIGURES = ("clock", "rates", "recur", "recur_dept", "sat", "cost")  # all but clock_hours


def refresh(tenant_id: int, zone: str, now: datetime | None = None) -> int:
    """Recount the tenant's loop figures in the session's transaction (PostgreSQL; elsewhere
    nothing is stored and the figures are counted live). Returns the rows written."""
    if not is_postgres():
        return 0
    connection = db.session.connection()
    params = {"t": tenant_id, "zone": zone, "now": now or datetime.now(UTC)}
    connection.execute(text("DELETE FROM analytics_loop_monthly WHERE tenant_id = :t"), params)
    from .money import rollup_statement

    return sum(connection.execute(text(statement), params).rowcount
               for statement in [*REFRESH, rollup_statement()])


def usable(s: Slice) -> bool:
    return (is_postgres() and not (s.product or s.customer or s.line)
            and s.start.day == 1 and s.end.day == 1)


def midpoint(bucket: int) -> float:
    """Hours at the middle of a bucket (see the module's docstring)."""
    if bucket < 24:
        return bucket * 2 + 1
    if bucket < 80:
        return 48 + (bucket - 24) * 12 + 6
    return 720 + (bucket - 80) * 24 + 12


class LoopFigures:
    """The loop figures of a slice from the rollup; ``computed_at`` None: nothing stored for
    the period (never refreshed, or nothing to count), use the live figures."""

    def __init__(self, s: Slice):
        self.slice = s
        r = AnalyticsLoopMonth
        where = [r.month >= s.start, r.month < s.end]
        if s.source:
            where.append(r.source == s.source)
        month = func.to_char(r.month, "YYYY-MM")
        per_month = case((r.figure == "sat", month),
                         (and_(r.figure == "cost", r.key1 == "month"), month),
                         else_="").cast(String)
        statement = (select(r.figure, r.key1, r.key2, per_month, func.sum(r.n1), func.sum(r.n2),
                            func.sum(r.n3), func.sum(r.n4), func.sum(r.x), func.max(r.computed_at))
                     .where(*where, r.figure.in_(FIGURES))
                     .group_by(r.figure, r.key1, r.key2, per_month))
        self.rows = db.session.execute(statement).all()
        stamps = [row[9] for row in self.rows if row[9] is not None]
        self.computed_at = max(stamps) if stamps else None
        self._where = where

    def _of(self, figure: str) -> list:
        return [row for row in self.rows if row[0] == figure]

    def clocks(self) -> list[ClockRow]:
        from .loop import CLOCK_KINDS

        r = AnalyticsLoopMonth
        grouped = (select(r.key1, r.key2, r.bucket, func.sum(r.n1).label("n"))
                   .where(*self._where, r.figure == "clock_hours")
                   .group_by(r.key1, r.key2, r.bucket).subquery())
        window = {"partition_by": (grouped.c.key1, grouped.c.key2)}
        running = select(grouped.c.key1, grouped.c.key2, grouped.c.bucket,
                         func.sum(grouped.c.n).over(order_by=grouped.c.bucket, **window)
                         .label("cum"), func.sum(grouped.c.n).over(**window).label("tot")
                         ).subquery()
        middle = {(k, d): b for k, d, b in db.session.execute(
            select(running.c.key1, running.c.key2, func.min(running.c.bucket))
            .where(running.c.cum * 2 >= running.c.tot)
            .group_by(running.c.key1, running.c.key2))}
        rows = [ClockRow(kind, int(dept) if dept else None, int(a), int(b), int(c),
                         midpoint(middle[(kind, dept)]) if (kind, dept) in middle else None)
                for _, kind, dept, _, a, b, c, _, _, _ in self._of("clock")]
        order = {k: i for i, k in enumerate(CLOCK_KINDS)}
        return sorted(rows, key=lambda r: (order.get(r.kind, 99), r.department_id or 0))

    def rates(self) -> dict:
        closed = reopen = answered = dispute = 0
        for row in self._of("rates"):
            closed, reopen = closed + int(row[4]), reopen + int(row[5])
            answered, dispute = answered + int(row[6]), dispute + int(row[7])
        return {"closed": closed, "reopened": reopen,
                "reopen_rate": reopen / closed if closed else None,
                "answered": answered, "disputed": dispute,
                "dispute_rate": dispute / answered if answered else None}

    def recurrences(self, by_department: bool = False) -> list[dict]:
        if by_department:
            rows = [{"department": int(k) if k else None, "count": int(n)}
                    for _, k, _, _, n, *_ in self._of("recur_dept")]
            return sorted(rows, key=lambda r: (-r["count"], r["department"] or 0))
        rows = [{"product": int(p), "mode": int(m), "count": int(n)}
                for _, p, m, _, n, *_ in self._of("recur")]
        return sorted(rows, key=lambda r: (-r["count"], r["product"], r["mode"]))

    def costs(self) -> dict:
        from decimal import Decimal

        from .money import shaped

        sums: dict[str, dict] = {"category": {}, "department": {}, "supplier": {}, "month": {}}
        for _, dimension, key, month, *_counts, amount, _stamp in self._of("cost"):
            if dimension == "month":
                key = month
            elif dimension != "category":
                key = int(key) if key else None
            sums[dimension][key] = sums[dimension].get(key, Decimal(0)) \
                + Decimal(str(round(amount, 2)))
        return shaped(sums, self.slice)

    def satisfaction(self) -> list[dict]:
        from .money import MODULES

        found = {(row[1], row[3]): (int(row[4]), float(row[8])) for row in self._of("sat")}
        by_month = []
        for key in self.slice.months:
            n, total = found.get(("total", key), (0, 0.0))
            by_month.append({"month": key, "answers": n, "total": total / n if n else None,
                             **{m: (found[(m, key)][1] / found[(m, key)][0]
                                    if found.get((m, key), (0, 0))[0] else None)
                                for m in MODULES}})
        return by_month
