"""Dialect helpers: the tenant's local month of a timestamp, elapsed hours, a median.

PostgreSQL does the work in SQL (``timezone(zone, ts)`` then ``to_char``, and
``percentile_cont``). The embedded SQLite default (the demo) has neither: it shifts by the
zone's current UTC offset and leaves medians to Python over a small table.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Float, String, cast, func, literal_column

from ..extensions import db


def is_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def month_of(column, s):
    """'YYYY-MM' of a UTC timestamp column in the tenant's local time, for rows inside the
    slice ``s`` (callers filter on the slice's bounds, so every row falls in one of its months).
    On PostgreSQL: ``width_bucket`` over the slice's local month edges (computed in Python with
    the zone's rules) picks the label from a list — one binary search per row instead of
    ``to_char(timezone(zone, ts))``, which cost more than the scan.
    The edges and labels are generated here (dates only), so they are written as literals: the
    same text in SELECT and GROUP BY."""
    if is_postgres():
        keys = s.months
        edges = [s.month_bounds(k)[0] for k in keys] + [s.before]
        bounds = ", ".join(f"'{e.isoformat()}'" for e in edges)
        bucket = func.width_bucket(column, literal_column(f"ARRAY[{bounds}]::timestamptz[]"))
        return func.split_part(literal_column(f"'{','.join(keys)}'"), literal_column("','"),
                               bucket, type_=String)
    offset = int(datetime.now(ZoneInfo(s.zone)).utcoffset().total_seconds() // 60)
    return func.strftime("%Y-%m", column, f"{offset:+d} minutes")


def month_of_date(column):
    """'YYYY-MM' of a date column (shipments)."""
    if is_postgres():
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def hours_between(start, stop):
    if is_postgres():
        return func.extract("epoch", stop - start) / 3600.0
    return (func.julianday(stop) - func.julianday(start)) * 24.0


def median(expression):
    """A median aggregate on PostgreSQL; None elsewhere (the caller computes it in Python)."""
    if is_postgres():
        return func.percentile_cont(0.5).within_group(cast(expression, Float))
    return None


def python_median(values: list[float]) -> float | None:
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def tune_for_aggregates() -> None:
    """For the rest of the transaction (PostgreSQL): no JIT, which spends a second compiling
    each of these statements before running them in tens of milliseconds, and enough work_mem
    to hash and sort a year of one tenant's rows in memory rather than on disk."""
    if is_postgres():
        from sqlalchemy import text

        db.session.execute(text("SELECT set_config('jit', 'off', true), "
                                "set_config('work_mem', '32MB', true)"))  # one round trip


def own_tenant() -> int:
    """The active tenant's id, for statements that name it themselves. No active tenant is an
    error, as for the ORM's scoping."""
    from ..tenancy import TenantScopeError, active_tenant_id

    tenant_id = active_tenant_id()
    if tenant_id is None:
        raise TenantScopeError("an analytics aggregate read with no active tenant")
    return tenant_id


def own(*models) -> list:
    """``model.tenant_id = <the active tenant>`` for each of ``models``: the WHERE of a
    statement run by ``rows()``."""
    tenant_id = own_tenant()
    return [model.tenant_id == tenant_id for model in models]


def rows(statement) -> list:
    """The rows of one of the dashboard's fixed aggregate reads (the rollups, shipments, open
    complaints, low scores), on the session's connection rather than through the ORM session
    (whose execution set-up cost twice the read itself). A Core statement runs as a
    ``tenancy.ScopedStatement`` — the tenant's criteria on every tenant-owned table, as for
    any ORM read — beside the ``own()`` conditions it writes itself; SQL text names its
    tenant as ``:t`` from ``own_tenant()``. ``tests/analytics/test_figures.py`` checks each
    of them against another tenant's rows."""
    from sqlalchemy.sql.elements import TextClause

    from ..tenancy import ScopedStatement

    if isinstance(statement, TextClause):
        return db.session.connection().execute(statement).all()
    return ScopedStatement(statement).execute().all()
