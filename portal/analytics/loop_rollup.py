"""The loop figures' rollup (``analytics_loop_monthly``), refreshed whole by a job.

Deadline clocks, reopen/dispute rates, recurrences and survey scores read tens of thousands of
rows of four tables per period; here they are counted once per tenant, local month (of the
complaint's arrival; of the answer for surveys; of the entry for costs) and source, so the
dashboard reads a few hundred rows. Unlike the complaint counts (rollup.py, kept by the writes)
these are refreshed by ``refresh()`` — every 15 minutes from ``flask clock`` (jobs/analytics.py)
and by ``flask analytics-rollup`` — because a clock's outcome changes with time alone: a
running clock turns late at its due time with no write to hook. The page prints
``computed_at``. The statements are loop_sql.py's.

Medians cannot be added across months, so stopped clocks are counted by hours bucket (two hours
up to two days, 12 hours up to 30 days, a day beyond) and the median is the middle bucket's
midpoint: within an hour under two days, 6 hours under 30 days, 12 hours beyond.

``LoopFigures`` reads the whole local months of a slice from the rollup and counts the rest now
with the same statements limited to those days (loop_sql.py, ``live``): the edges of a range
that does not start or end on a first of the month, and every day of a view filtered by model,
product line or customer (the rollup is per source only) or of a tenant never refreshed. The
embedded SQLite default (the demo) has no rollup: its figures come from loop.py and money.py.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from ..extensions import db
from .counts import whole_months
from .loop import ClockRow
from .loop_sql import COLUMNS, groups
from .period import Slice
from .sql import is_postgres, own_tenant

FIGURES = ("clock", "rates", "recur", "recur_dept", "sat", "cost")  # all but clock_hours
INSERT = (f"INSERT INTO analytics_loop_monthly (tenant_id, computed_at, {COLUMNS}) "
          "{} SELECT :t, :now, q.* FROM ({}) q")
# The rows a page reads, one per figure, keys and (for survey scores and costs by month) month;
# the hours histogram (clock_hours) by bucket, for the medians. ``{rows}``: the rollup's rows
# of the period, or the rows counted now.
READ = ("SELECT figure, key1, key2, CASE WHEN figure = 'sat' OR (figure = 'cost' AND key1 = "
        "'month') THEN to_char(month, 'YYYY-MM') WHEN figure = 'clock_hours' THEN bucket::text "
        "ELSE '' END AS m, sum(n1), sum(n2), sum(n3), sum(n4), sum(x), max(computed_at) "
        "FROM {rows} WHERE {which} GROUP BY 1, 2, 3, 4")
STORED = ("(SELECT * FROM analytics_loop_monthly WHERE tenant_id = :t AND month >= :start "
          "AND month < :end{source}) r")
# The median bucket of each clock kind and department over the stored months.
MEDIANS = ("SELECT key1, key2, min(bucket) FROM (SELECT key1, key2, bucket, sum(n) OVER (PARTITION "
           "BY key1, key2 ORDER BY bucket) AS cum, sum(n) OVER (PARTITION BY key1, key2) AS tot "
           "FROM (SELECT key1, key2, bucket, sum(n1) AS n FROM {rows} WHERE figure = "
           "'clock_hours' GROUP BY 1, 2, 3) g) w WHERE cum * 2 >= tot GROUP BY 1, 2")


def refresh(tenant_id: int, zone: str, now: datetime | None = None) -> int:
    """Recount the tenant's loop figures in the session's transaction (PostgreSQL; elsewhere
    nothing is stored and the figures are counted live). Returns the rows written."""
    if not is_postgres():
        return 0
    connection = db.session.connection()
    params = {"t": tenant_id, "zone": zone, "now": now or datetime.now(UTC)}
    connection.execute(text("DELETE FROM analytics_loop_monthly WHERE tenant_id = :t"), params)
    found, _ = groups(live=False)
    return sum(connection.execute(text(INSERT.format(f"WITH {ctes}" if ctes else "",
                                                     " UNION ALL ".join(statements))),
                                  params).rowcount
               for ctes, statements in found)


def usable(s: Slice) -> bool:
    """Whether the page reads ``LoopFigures`` (PostgreSQL), not loop.py's live figures."""
    return is_postgres()


def midpoint(bucket: int) -> float:
    """Hours at the middle of a bucket (see the module's docstring)."""
    if bucket < 24:
        return bucket * 2 + 1
    if bucket < 80:
        return 48 + (bucket - 24) * 12 + 6
    return 720 + (bucket - 80) * 24 + 12


def median_bucket(histogram: dict[int, int]) -> int | None:
    """The bucket holding the middle value of ``{bucket: count}`` (as ``MEDIANS`` picks it)."""
    total, running = sum(histogram.values()), 0
    for bucket in sorted(histogram):
        running += histogram[bucket]
        if running * 2 >= total:
            return bucket
    return None


def _filtered(s: Slice) -> bool:
    return bool(s.product or s.customer or s.line)


def _edges(s: Slice, months) -> list[Slice]:
    """The parts of ``s`` outside the whole months ``months`` (all of it for None)."""
    from dataclasses import replace

    if months is None:
        return [s]
    parts = []
    if s.start < months[0]:
        parts.append(replace(s, end=months[0]))
    if months[1] < s.end:
        parts.append(replace(s, start=months[1]))
    return parts


class LoopFigures:
    """The loop figures of a slice: the rollup's whole months plus the other days counted
    now. ``computed_at``: when the rollup's part was counted (None: all counted now)."""

    def __init__(self, s: Slice, now: datetime | None = None):
        self.slice = s
        params = {"t": own_tenant(), "zone": s.zone, "now": now or datetime.now(UTC)}
        months = None if _filtered(s) else whole_months(s)
        stored: list = []
        source = ""
        if months:
            params.update(start=months[0], end=months[1])
            if s.source:
                source, params["source"] = " AND source = :source", s.source
            stored = _execute(READ.format(rows=STORED.format(source=source),
                                          which=f"figure IN {FIGURES}"), params)
            if not stored:  # never refreshed, or nothing to count: all of it now
                months = None
        stamps = [row[9] for row in stored if row[9] is not None]
        self.computed_at = max(stamps) if stamps else None
        parts = _edges(s, months)
        live = _live(parts, params) if parts else []
        self._hours: dict | None = None if months else {}
        if live:  # medians from both histograms, in Python
            self._hours = {}
            if months:
                live += _execute(READ.format(rows=STORED.format(source=source),
                                             which="figure = 'clock_hours'"), params)
            for figure, kind, dept, bucket, n, *_ in live:
                if figure == "clock_hours":
                    found = self._hours.setdefault((kind, dept), {})
                    found[int(bucket)] = found.get(int(bucket), 0) + int(n)
            live = [row for row in live if row[0] != "clock_hours"]
        self.rows = _merged(stored, live) if stored and live else stored or live
        self._params = params
        self._by_figure: dict[str, list] = {}
        for row in self.rows:
            self._by_figure.setdefault(row[0], []).append(row)

    def _of(self, figure: str) -> list:
        return self._by_figure.get(figure, [])

    def _medians(self) -> dict:
        if self._hours is not None:
            return {key: median_bucket(histogram) for key, histogram in self._hours.items()}
        source = " AND source = :source" if "source" in self._params else ""
        return {(k, d): b for k, d, b in _execute(
            MEDIANS.format(rows=STORED.format(source=source)), self._params)}

    def clocks(self) -> list[ClockRow]:
        from .loop import CLOCK_KINDS

        if not self._of("clock"):
            return []
        middle = self._medians()
        found = [ClockRow(kind, int(dept) if dept else None, int(a), int(b), int(c),
                          midpoint(middle[(kind, dept)]) if middle.get((kind, dept)) is not None
                          else None)
                 for _, kind, dept, _, a, b, c, _, _, _ in self._of("clock")]
        order = {k: i for i, k in enumerate(CLOCK_KINDS)}
        return sorted(found, key=lambda r: (order.get(r.kind, 99), r.department_id or 0))

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


def _execute(sql: str, params: dict) -> list:
    """A statement naming its tenant itself (``tenant_id = :t`` on every table it reads), on
    the session's connection: no ORM statement to build and scope (portal/analytics/sql.py)."""
    return db.session.connection().execute(text(sql), params).all()


def _live(parts: list[Slice], params: dict) -> list:
    """The figures of ``parts`` counted now, in ``READ``'s shape: a statement per chart's
    figures (clocks, rates, recurrences, scores, costs), each a few tens of milliseconds."""
    found, extra = groups(live=True, parts=parts)
    params.update(extra)
    rows = []
    for ctes, statements in found:
        union = " UNION ALL ".join(statements)
        rows += _execute(
            f"WITH {ctes + ', ' if ctes else ''}live ({COLUMNS}) AS ({union}) "
            + READ.format(rows="(SELECT *, NULL::timestamptz AS computed_at FROM live) q",
                          which="true"), params)
    return rows


def _merged(*parts: list) -> list:
    """Rows of ``READ``'s shape added together by figure, keys and month."""
    sums: dict[tuple, list] = {}
    for rows in parts:
        for figure, key1, key2, month, *numbers, stamp in rows:
            found = sums.get((figure, key1, key2, month))
            if found is None:
                sums[(figure, key1, key2, month)] = [*(n or 0 for n in numbers), stamp]
            else:
                for i, n in enumerate(numbers):
                    found[i] = found[i] + n if i < 4 else float(found[i]) + float(n or 0)
                found[5] = found[5] or stamp
    return [(*key, *values) for key, values in sums.items()]
