"""Seed one tenant for the analytics benchmark: 200,000 complaints over three years with
monthly shipments per model, deadline clocks, actions, cost entries, surveys and the timeline
events the loop figures read (submitted, reopened, disputed).

    python -m bench.analytics_seed                       # tenant analytics1, 200,000 complaints
    python -m bench.analytics_seed --complaints 20000    # a smaller one (analytics2, …)

Database ``closeloop_analytics_bench`` on 127.0.0.1 (``--database-url`` /
``BENCH_DATABASE_URL`` for another), created and migrated if missing. The tenant is
``analyticsN`` with the staff of bench/seed.py (``quality@analyticsN.example.com`` holds
quality + after-sales + manager, password ``bench-pass-2026``). Reference rows go in through
multi-row INSERT … RETURNING, bulk rows through PostgreSQL COPY, inside ``unscoped()``; then
``VACUUM ANALYZE``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.seed import (  # noqa: E402
    COMPANIES,
    DEPARTMENTS,
    PASSWORD,
    ROLES,
    TITLES,
    _copy,
    _next_id,
    ensure_database,
    make_app,
)

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/closeloop_analytics_bench"
MONTHS = 36
MODELS = 40
MODES = 12
STATES = (["received"] * 2 + ["verifying"] * 3 + ["waiting_customer"] * 1 + ["accepted"] * 1
          + ["rejected"] * 6 + ["containment"] * 2 + ["analysis"] * 3 + ["corrective_action"] * 3
          + ["verifying_effectiveness"] * 1 + ["answered"] * 3 + ["closed"] * 75)
CAUSES = ["man", "machine", "material", "method", "measurement", "environment", "other"]
COSTS = ["replacement", "freight", "rework", "scrap", "claim", "onsite", "other"]


def _references(db, n: int, password_hash: str, rng: random.Random, start: date) -> dict:
    from sqlalchemy import insert

    from portal.models import (
        CustomerCompany,
        Department,
        FailureMode,
        ProductModel,
        Shipment,
        StaffUser,
        Tenant,
    )

    now = datetime.now(UTC)
    tenant_id = db.session.execute(insert(Tenant).values(
        slug=f"analytics{n}", name=f"Analytics Machinery {n}", default_locale="zh_CN",
        timezone="Asia/Shanghai", brand_color="#0f6cbd", status="active", settings={},
        created_at=now, updated_at=now).returning(Tenant.id)).scalar_one()
    departments = db.session.execute(insert(Department).returning(Department.id), [
        {"tenant_id": tenant_id, "name": name, "kind": kind} for name, kind in DEPARTMENTS
    ]).scalars().all()
    staff = db.session.execute(insert(StaffUser).returning(StaffUser.id), [
        {"tenant_id": tenant_id, "email": f"{role.replace('_', '-')}@analytics{n}.example.com",
         "name": f"{role} {n}",
         "roles": [role] + (["after_sales", "manager"] if role == "quality" else []),
         "department_id": departments[i % len(departments)], "password_hash": password_hash,
         "active": True, "created_at": now, "updated_at": now}
        for i, role in enumerate(ROLES)]).scalars().all()
    companies = db.session.execute(insert(CustomerCompany).returning(CustomerCompany.id), [
        {"tenant_id": tenant_id, "name": f"{name} {i}", "key_account": i < 3,
         "created_at": now, "updated_at": now} for i, name in enumerate(COMPANIES * 8)
    ]).scalars().all()
    products = db.session.execute(insert(ProductModel).returning(ProductModel.id), [
        {"tenant_id": tenant_id, "code": f"AM-{k:03d}", "name_zh": f"型号{k}",
         "name_en": f"Model {k}", "product_line": f"Line {k % 5}", "active": True,
         "created_at": now, "updated_at": now} for k in range(MODELS)]).scalars().all()
    shipments = []
    for p in products[:-1]:  # the last model never ships: its ratio is unknown
        for m in range(MONTHS + 1):
            day = _month(start, m)
            for lot in range(3):
                shipments.append({
                    "tenant_id": tenant_id, "product_model_id": p, "lot": f"{day:%Y%m}-{lot}",
                    "quantity": rng.choice([2000, 3000, 5000, 8000]),
                    "shipped_on": day + timedelta(days=rng.randint(0, 27)),
                    "customer_company_id": rng.choice(companies),
                    "created_at": now, "updated_at": now})
    db.session.execute(insert(Shipment), shipments)
    modes = db.session.execute(insert(FailureMode).returning(FailureMode.id), [
        {"tenant_id": tenant_id, "code": f"fm{k}", "name_zh": f"失效模式{k}",
         "name_en": f"Failure mode {k}", "severe": k == 0} for k in range(MODES)
    ]).scalars().all()
    return {"tenant_id": tenant_id, "departments": departments, "staff": staff,
            "companies": companies, "products": products, "modes": modes,
            "shipments": len(shipments)}


def _month(start: date, months: int) -> date:
    index = start.year * 12 + start.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


class Rows:
    """Bulk rows for COPY, flushed in chunks."""

    COLUMNS = {
        "complaints": "id, tenant_id, number, source, channel, customer_company_id, "
                      "reporter_name, product_model_id, defect_quantity, title, description, "
                      "demands, severe_event, safety_hazard, status, status_changed_at, "
                      "severity, info_class, cause_category, failure_mode_id, "
                      "responsible_department_id, owner_id, eight_d_requested, version, "
                      "created_at, updated_at, answered_at, closed_at, lot",
        "deadline_clocks": "tenant_id, complaint_id, kind, working_time, budget_minutes, "
                           "customer_visible, started_at, due_at, stopped_at, paused_minutes",
        "timeline_events": "tenant_id, complaint_id, actor, actor_name, kind, from_status, "
                           "to_status, data, customer_visible, created_at",
        "cost_entries": "tenant_id, complaint_id, category, amount, currency, "
                        "responsible_department_id, created_at",
        "surveys": "tenant_id, token_hash, complaint_id, expires_at, sent_at, answered_at, "
                   "answers, total_score",
        "actions": "tenant_id, complaint_id, kind, title, evidence, due_at, done_at, "
                   "created_at, updated_at",
    }

    def __init__(self, cursor):
        self.cursor = cursor
        self.rows = {name: [] for name in self.COLUMNS}
        self.counts = {name: 0 for name in self.COLUMNS}

    def add(self, table: str, row: tuple) -> None:
        self.rows[table].append(row)

    def flush(self) -> None:
        for table, rows in self.rows.items():
            _copy(self.cursor, table, self.COLUMNS[table], rows)
            self.counts[table] += len(rows)
            rows.clear()


def _complaint(rows: Rows, ref: dict, cid: int, k: int, created: datetime,
               rng: random.Random) -> None:
    tid = ref["tenant_id"]
    status = rng.choice(STATES)
    classified = status not in ("received", "verifying", "waiting_customer", "rejected")
    # A few models and failure modes produce most complaints (a Pareto worth the name).
    product = ref["products"][min(int(rng.paretovariate(1.2)) - 1, MODELS - 1)]
    mode = ref["modes"][min(int(rng.paretovariate(1.5)) - 1, MODES - 1)] if classified else None
    dept = rng.choice(ref["departments"]) if classified else None
    answered = created + timedelta(hours=rng.randint(4, 120)) \
        if status in ("answered", "closed") else None
    closed = answered + timedelta(days=rng.randint(1, 30)) if status == "closed" else None
    info_class = "A" if rng.random() < 0.15 else "B"
    rows.add("complaints", (
        cid, tid, f"QC-{created.year}-{k + 1:06d}",
        "production" if rng.random() < 0.1 else "customer", "portal",
        rng.choice(ref["companies"]), "客户联系人", product, rng.randint(1, 6),
        rng.choice(TITLES), "bench", '["answer"]', False, False, status,
        closed or answered or created, rng.choice(["minor", "general", "major"]) if classified
        else None, info_class if classified else None,
        rng.choice(CAUSES) if classified else None, mode, dept,
        rng.choice(ref["staff"]), False, 1, created, created, answered, closed,
        f"L{rng.randint(1, 99):02d}"))
    rows.add("timeline_events", (tid, cid, "contact:1", "客户联系人", "submitted", None,
                                 "received", "{}", True, created))
    _clocks(rows, tid, cid, created, answered, closed, info_class, rng)
    _extras(rows, tid, cid, created, answered, closed, dept, rng)


def _clocks(rows, tid, cid, created, answered, closed, info_class, rng) -> None:
    kinds = [("first_contact", 24), ("answer", 48)] + ([("class_a_plan", 48)]
                                                      if info_class == "A" else [])
    for kind, hours in kinds:
        due = created + timedelta(hours=hours)
        stopped = created + timedelta(hours=rng.uniform(0.5, hours * 1.4)) \
            if answered or rng.random() < 0.5 else None
        rows.add("deadline_clocks", (tid, cid, kind, False, hours * 60, kind != "class_a_plan",
                                     created, due, stopped, 0))


def _extras(rows, tid, cid, created, answered, closed, dept, rng) -> None:
    if rng.random() < 0.3:
        rows.add("cost_entries", (tid, cid, rng.choice(COSTS), rng.randint(50, 20000), "CNY",
                                  dept, created + timedelta(days=rng.randint(0, 20))))
    if rng.random() < 0.2 and dept:
        due = created + timedelta(days=14)
        done = due + timedelta(days=rng.randint(-10, 6)) if rng.random() < 0.8 else None
        rows.add("actions", (tid, cid, "corrective", "纠正措施", "[]", due, done, created,
                             created))
    if closed and rng.random() < 0.03:
        rows.add("timeline_events", (tid, cid, "staff:1", "quality", "transition.reopen",
                                     "closed", "analysis", "{}", True,
                                     closed + timedelta(days=2)))
    if answered and rng.random() < 0.05:
        rows.add("timeline_events", (tid, cid, "contact:1", "客户联系人", "transition.dispute",
                                     "answered", "analysis", "{}", True,
                                     answered + timedelta(days=1)))
    if closed and rng.random() < 0.2:
        total = rng.randint(35, 100)
        answers = {"modules": {"overall": str(total), "service": str(max(0, total - 4)),
                               "quality": str(min(100, total + 3))}}
        when = closed + timedelta(days=2)
        rows.add("surveys", (tid, f"bench-{cid}", cid, when + timedelta(days=30), when, when,
                             json.dumps(answers), total))


def _rollups(app, tenant_id: int) -> None:
    """COPY passes the complaints rollup's flush hook by: count it, and the loop figures."""
    from portal import uow
    from portal.analytics import loop_rollup, rollup
    from portal.extensions import db
    from portal.models import Tenant
    from portal.tenancy import activate

    with activate(tenant_id):
        zone = db.session.get(Tenant, tenant_id).timezone
        rollup.rebuild(tenant_id)
        loop_rollup.refresh(tenant_id, zone)
        uow.commit()


def seed(url: str, complaints: int, rng: random.Random) -> dict:
    from flask_migrate import upgrade
    from sqlalchemy import text

    from portal.accounts import hash_password
    from portal.extensions import db
    from portal.tenancy import unscoped

    ensure_database(url)
    app = make_app(url)
    timings: dict = {}
    started = time.perf_counter()
    now = datetime.now(UTC)
    start = _month(now.date().replace(day=1), -MONTHS)
    with app.app_context():
        upgrade()
        with unscoped():
            n = db.session.scalar(text(
                "SELECT coalesce(max(substring(slug from 10)::int), 0) FROM tenants "
                "WHERE slug ~ '^analytics[0-9]+$'")) + 1
            ref = _references(db, n, hash_password(PASSWORD), rng, start)
            db.session.commit()
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            rows = Rows(cursor)
            cid = _next_id(cursor, "complaints")
            span = (now - datetime.combine(start, datetime.min.time(), UTC)).total_seconds()
            for k in range(complaints):
                created = now - timedelta(seconds=span * (complaints - k) / complaints
                                          - rng.uniform(0, 600))
                _complaint(rows, ref, cid, k, created, rng)
                cid += 1
                if k % 20_000 == 19_999:
                    rows.flush()
            rows.flush()
            cursor.execute("SELECT setval(pg_get_serial_sequence('complaints', 'id'), %s)",
                           (cid,))
            rows.counts["supplier_charges"] = charge_back(cursor, ref["tenant_id"])
            raw.commit()
            timings["copy_s"] = round(time.perf_counter() - started, 1)
            _rollups(app, ref["tenant_id"])
            raw.driver_connection.autocommit = True
            cursor.execute(f'ALTER DATABASE "{url.rpartition("/")[2]}" SET random_page_cost = 1.1')
            cursor.execute("VACUUM ANALYZE")
        finally:
            raw.close()
        db.engine.dispose()
    timings["total_s"] = round(time.perf_counter() - started, 1)
    return {"tenant": f"analytics{n}", "complaints": complaints, "shipments": ref["shipments"],
            **rows.counts, **timings}


SUPPLIERS = 6


def charge_back(cursor, tenant_id: int) -> int:
    """Suppliers for the tenant and every tenth cost entry charged back to one of them through
    a closed supplier request (the figure "cost of poor quality by supplier"); server-side
    INSERT … SELECT. Returns the number of charges."""
    cursor.execute(
        "INSERT INTO suppliers (tenant_id, name, code, product_codes, part_numbers, locale, "
        "active, created_at, updated_at) SELECT %(t)s, '供应商 ' || g, 'SUP' || g, '[]', '[]', "
        "'zh_CN', true, now(), now() FROM generate_series(1, %(n)s) g",
        {"t": tenant_id, "n": SUPPLIERS})
    cursor.execute(
        "INSERT INTO supplier_requests (tenant_id, number, complaint_id, supplier_id, "
        "part_number, defect, defective_quantity, replacement_quantity, replacement_delivered, "
        "asks, state, due_at, created_at, updated_at) SELECT e.tenant_id, 'SCAR-' || e.id, "
        "e.complaint_id, (SELECT min(id) FROM suppliers WHERE tenant_id = %(t)s) "
        "+ e.id %% %(n)s, 'PN-' || (e.id %% 40), 'bench', 1, 0, 0, '[]', 'closed', "
        "e.created_at + interval '30 days', e.created_at, e.created_at FROM cost_entries e "
        "WHERE e.tenant_id = %(t)s AND e.id %% 10 = 0", {"t": tenant_id, "n": SUPPLIERS})
    cursor.execute(
        "INSERT INTO supplier_charges (tenant_id, request_id, supplier_id, cost_entry_id) "
        "SELECT r.tenant_id, r.id, r.supplier_id, substring(r.number from 6)::int "
        "FROM supplier_requests r WHERE r.tenant_id = %(t)s AND r.number LIKE 'SCAR-%%'",
        {"t": tenant_id})
    return cursor.rowcount


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--complaints", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    print(json.dumps(seed(args.database_url, args.complaints, random.Random(args.seed)), indent=2))


if __name__ == "__main__":
    main()
