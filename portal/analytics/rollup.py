"""The complaints rollup (``analytics_monthly``), kept current in the writing transaction.

Every flush that inserts, changes or deletes a complaint moves that complaint's contribution:
before the flush its old values are read (from the ORM's attribute history, or from the table
when they were not loaded), after it the new ones, and the difference goes into the rollup as
one multi-row ``INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n`` (keys sorted, so two
transactions touching the same rows lock them in the same order). A complaint contributes
``received`` (1) and its ``defects`` to the local month it was received in, unless rejected,
and ``closed`` (1) to the local month it was closed in while its status is closed. Only a
change of one of the fields below writes anything: most workflow steps write nothing here.

A flush changing a tenant's time zone (which moves every month edge) rebuilds its rollup.
What bypasses the ORM (the demo's bulk history, the benchmark's COPY) calls
``rebuild(tenant)``; ``flask analytics-rollup`` rebuilds every tenant. Readers:
portal/analytics/counts.py.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Date, bindparam, event, inspect, select, text
from sqlalchemy.orm import Session

FIELDS = ("tenant_id", "status", "created_at", "closed_at", "source", "product_model_id",
          "customer_company_id", "cause_category", "failure_mode_id",
          "responsible_department_id", "defect_quantity")
KEYS = ("tenant_id", "month", "source", "dimension", "key")
# dimension -> the complaint's field (the key is its value as text, '' for none)
DIMENSIONS = {"cause": "cause_category", "mode": "failure_mode_id",
              "product": "product_model_id", "customer": "customer_company_id",
              "department": "responsible_department_id"}
MEASURES = ("received", "defects", "closed")
_UPSERT = text(
    f"INSERT INTO analytics_monthly ({', '.join(KEYS + MEASURES)}) "
    f"VALUES ({', '.join(':' + k for k in KEYS + MEASURES)}) "
    f"ON CONFLICT ({', '.join(KEYS)}) DO UPDATE SET "
    + ", ".join(f"{m} = analytics_monthly.{m} + excluded.{m}" for m in MEASURES)
).bindparams(bindparam("month", type_=Date))


def local_month(moment: datetime, zone: str) -> date:
    return moment.astimezone(ZoneInfo(zone)).date().replace(day=1)


def contributions(values: dict, zone: str) -> dict[tuple, list[int]]:
    """{rollup key: [received, defects, closed]} of one complaint's ``values`` (FIELDS): one
    row for ``all`` and one per dimension, in the month received and in the month closed."""
    keys = [("all", "")] + [(d, "" if values[f] is None else str(values[f]))
                            for d, f in DIMENSIONS.items()]
    out: dict[tuple, list[int]] = {}
    head = (values["tenant_id"], values["source"] or "")
    if values["status"] != "rejected" and values["created_at"] is not None:
        month = local_month(values["created_at"], zone)
        for dimension, key in keys:
            out[(head[0], month, head[1], dimension, key)] = [
                1, int(values["defect_quantity"] or 0), 0]
    if values["status"] == "closed" and values["closed_at"] is not None:
        month = local_month(values["closed_at"], zone)
        for dimension, key in keys:
            out.setdefault((head[0], month, head[1], dimension, key), [0, 0, 0])[2] += 1
    return out


def _complaint_class():
    from ..models import Complaint

    return Complaint


# Filled by a default at insert: a new complaint must have them in memory after its flush.
DEFAULTED = frozenset(("tenant_id", "status", "created_at", "source", "defect_quantity"))


def _known(state, old: bool, inserted: bool = False) -> dict | None:
    """The complaint's FIELDS before (``old``) or after the flush, or None if one is not in
    memory (never loaded, or expired by a commit). A column a new complaint never set is
    None, unless a default fills it."""
    values = {}
    for name in FIELDS:
        if old:
            history = state.attrs[name].history
            found = history.deleted or history.unchanged
            if not found:
                return None
            values[name] = found[0]
        elif name in state.dict:
            values[name] = state.dict[name]
        elif inserted and name not in DEFAULTED:
            values[name] = None
        else:
            return None
    return values


def _read(session: Session, ids: set[int]) -> dict[int, dict]:
    table = _complaint_class().__table__
    rows = session.connection().execute(
        select(table.c.id, *[table.c[n] for n in FIELDS]).where(table.c.id.in_(sorted(ids))))
    return {r.id: dict(zip(FIELDS, r[1:], strict=True)) for r in rows}


def _changed(state) -> bool:
    return any(state.attrs[name].history.has_changes() for name in FIELDS)


@event.listens_for(Session, "before_flush")
def _before(session, flush_context, instances) -> None:
    complaint = _complaint_class()
    old: list[dict] = []
    unknown: set[int] = set()
    touched = []
    for obj in session.dirty:
        if isinstance(obj, complaint) and _changed(state := inspect(obj)):
            touched.append(obj)
            values = _known(state, old=True)
            old.append(values) if values is not None else unknown.add(obj.id)
    for obj in session.deleted:
        if isinstance(obj, complaint):
            values = _known(inspect(obj), old=True)
            old.append(values) if values is not None else unknown.add(obj.id)
    inserted = [o for o in session.new if isinstance(o, complaint)]
    touched.extend(inserted)
    if unknown:
        old.extend(_read(session, unknown).values())
    rezoned = _rezoned(session)
    if rezoned:
        session.info.setdefault("rollup_rezoned", set()).update(rezoned)
    if old or touched:
        pending = session.info.setdefault("rollup_pending",
                                          {"old": [], "new": [], "inserted": set()})
        pending["old"].extend(old)
        pending["new"].extend(touched)
        pending["inserted"].update(id(o) for o in inserted)


def _rezoned(session) -> set[int]:
    """Tenants whose time zone this flush changes: their month edges move."""
    from ..models import Tenant

    return {t.id for t in session.dirty if isinstance(t, Tenant)
            and inspect(t).attrs.timezone.history.has_changes()}


@event.listens_for(Session, "after_flush")
def _after(session, flush_context) -> None:
    for tenant_id in sorted(session.info.pop("rollup_rezoned", ())):
        rebuild(tenant_id, session)
    pending = session.info.pop("rollup_pending", None)
    if not pending:
        return
    new, unknown = [], set()
    for obj in pending["new"]:
        if obj in session.deleted:
            continue
        values = _known(inspect(obj), old=False, inserted=id(obj) in pending["inserted"])
        new.append(values) if values is not None else unknown.add(obj.id)
    if unknown:
        new.extend(_read(session, unknown).values())
    zones = _zones(session, {v["tenant_id"] for v in pending["old"] + new})
    delta: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    for sign, rows in ((-1, pending["old"]), (1, new)):
        for values in rows:
            for key, counts in contributions(values, zones[values["tenant_id"]]).items():
                for i, n in enumerate(counts):
                    delta[key][i] += sign * n
    rows = [dict(zip(KEYS + MEASURES, (*key, *counts), strict=True))
            for key, counts in sorted(delta.items()) if any(counts)]
    if rows:
        session.connection().execute(_UPSERT, rows)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session) -> None:
    session.info.pop("rollup_pending", None)
    session.info.pop("rollup_rezoned", None)


def _zones(session: Session, tenant_ids: set[int]) -> dict[int, str]:
    from ..models import Tenant

    zones, missing = {}, set()
    for tenant_id in tenant_ids:
        tenant = session.identity_map.get(Session.identity_key(Tenant, tenant_id))
        if tenant is not None and "timezone" in tenant.__dict__:
            zones[tenant_id] = tenant.timezone
        else:
            missing.add(tenant_id)
    if missing:
        table = Tenant.__table__
        zones.update(session.connection().execute(
            select(table.c.id, table.c.timezone).where(table.c.id.in_(sorted(missing)))).all())
    return zones


def rebuild(tenant_id: int, session: Session | None = None) -> int:
    """Recount the tenant's rollup from its complaints (in the session's transaction); returns
    the number of rollup rows."""
    from ..extensions import db
    from ..models import Tenant

    session = session or db.session
    connection = session.connection()
    zone = connection.scalar(select(Tenant.__table__.c.timezone)
                             .where(Tenant.__table__.c.id == tenant_id))
    connection.execute(text("DELETE FROM analytics_monthly WHERE tenant_id = :t"),
                       {"t": tenant_id})
    if connection.dialect.name == "postgresql":
        return _rebuild_in_sql(connection, tenant_id)
    table = _complaint_class().__table__
    totals: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in connection.execute(select(*[table.c[n] for n in FIELDS])
                                  .where(table.c.tenant_id == tenant_id)):
        values = dict(zip(FIELDS, row, strict=True))
        for name in ("created_at", "closed_at"):  # SQLite returns them naive (UTC)
            if values[name] is not None and values[name].tzinfo is None:
                from datetime import UTC
                values[name] = values[name].replace(tzinfo=UTC)
        for key, counts in contributions(values, zone).items():
            for i, n in enumerate(counts):
                totals[key][i] += n
    rows = [dict(zip(KEYS + MEASURES, (*key, *counts), strict=True))
            for key, counts in sorted(totals.items())]
    if rows:
        connection.execute(_UPSERT, rows)
    return len(rows)


# The migration that created the table fills it with the same statement for every tenant.
_FILL = (
    "INSERT INTO analytics_monthly (tenant_id, month, source, dimension, key, received, "
    "defects, closed) SELECT x.tid, x.m, x.s, d.dimension, d.key, sum(x.r), sum(x.q), sum(x.c) "
    "FROM (SELECT c.tenant_id AS tid, {created} AS m, coalesce(c.source, '') AS s, "
    "c.cause_category AS ca, c.failure_mode_id AS fm, c.product_model_id AS p, "
    "c.customer_company_id AS cu, c.responsible_department_id AS dep, 1 AS r, "
    "c.defect_quantity AS q, 0 AS c FROM complaints c JOIN tenants t ON t.id = c.tenant_id "
    "WHERE c.status <> 'rejected' {where} "
    "UNION ALL SELECT c.tenant_id, {closed}, coalesce(c.source, ''), c.cause_category, "
    "c.failure_mode_id, c.product_model_id, c.customer_company_id, "
    "c.responsible_department_id, 0, 0, 1 FROM complaints c JOIN tenants t ON t.id = c.tenant_id "
    "WHERE c.status = 'closed' AND c.closed_at IS NOT NULL {where}) AS x "
    "CROSS JOIN LATERAL (VALUES ('all', ''), ('cause', coalesce(x.ca, '')), "
    "('mode', coalesce(x.fm::text, '')), ('product', coalesce(x.p::text, '')), "
    "('customer', coalesce(x.cu::text, '')), ('department', coalesce(x.dep::text, ''))) "
    "AS d (dimension, key) GROUP BY x.tid, x.m, x.s, d.dimension, d.key")


def _rebuild_in_sql(connection, tenant_id: int) -> int:
    month = "date_trunc('month', timezone(t.timezone, c.{}))::date"
    return connection.execute(text(_FILL.format(
        created=month.format("created_at"), closed=month.format("closed_at"),
        where="AND c.tenant_id = :t")), {"t": tenant_id}).rowcount
