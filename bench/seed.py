"""Seed a PostgreSQL database for the workspace benchmark: N tenants × M complaints, each with
serial numbers, timeline events, photo rows and (open ones) a deadline clock.

    python -m bench.seed --tenants 200 --per-tenant 5000          # 1,000,000 complaints
    python -m bench.seed --tenants 20 --per-tenant 5000 --database-url postgresql://…/db

The database is created if missing and migrated to head (``flask db upgrade``). Tenants are
named ``bench1`` … ``benchN``; each has a signed-in-able staff user ``quality@benchN.example.com``
(password ``bench-pass-2026``, roles quality + after_sales + manager). Bulk rows go in through
PostgreSQL COPY inside ``unscoped()`` platform tooling; the search index is dropped during the
load and rebuilt after. Re-running adds tenants after the last one seeded.
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

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/closeloop_bench"
PASSWORD = "bench-pass-2026"

TITLES = ["主轴启动后异响", "激光器无法启动", "液压站漏油", "折弯角度超差", "随机附件缺失",
          "控制柜打火", "Spindle noise after warm-up", "Laser alarm E-21 at power-on",
          "Hydraulic leak at fitting", "Bending angle out of tolerance", "Missing foot switch",
          "Contactor sparks when closing", "显示屏黑屏", "冷却泵不出水", "Belt slips under load"]
PHRASES = ["开机约十分钟后出现尖锐异响", "停机后主轴温度明显偏高", "接头处渗油每天需补油半升",
           "到货开箱发现缺少脚踏开关和说明书", "接触器吸合时有明显火花并有焦糊味",
           "客户车间温度较高", "已按说明书加注润滑油", "报警代码为E-21", "批次为三月发货",
           "The cutter shows an alarm at power-on and never reaches ready state",
           "Parts bent to 90 degrees measure 88.5 at the middle of the beam",
           "Noise grows with spindle speed above 12000 rpm", "Operator restarted twice",
           "Happens only on the night shift", "The customer stopped the line for two hours",
           "更换保险丝后仍无法启动", "伺服驱动器过流报警", "导轨润滑不足", "冷却液泄漏到电气柜",
           "机器运行时振动明显", "The display goes black after an hour"]
COMPANIES = ["华东精密制造", "北方重工机械厂", "成都天府家具", "Shenzhen Brightline Electronics",
             "Guangzhou Harbour Logistics", "苏州工业园装备", "Ningbo Port Machinery", "武汉光谷激光"]
STATES = (["received"] * 6 + ["verifying"] * 8 + ["waiting_customer"] * 5 + ["accepted"] * 4
          + ["rejected"] * 5 + ["containment"] * 8 + ["analysis"] * 8 + ["corrective_action"] * 8
          + ["verifying_effectiveness"] * 4 + ["answered"] * 4 + ["closed"] * 40)
OPEN = {"received", "verifying", "waiting_customer", "accepted", "containment", "analysis",
        "corrective_action", "verifying_effectiveness", "answered"}
DEPARTMENTS = [("售后服务部", "after_sales"), ("质量部", "quality"), ("技术部", "technical"),
               ("生产部", "production"), ("采购部", "purchasing"), ("工程部", "engineering"),
               ("设备部", "equipment"), ("物流部", "logistics")]
ROLES = ["after_sales", "quality", "technical", "responder", "logistics", "finance", "manager",
         "admin"]


def ensure_database(url: str) -> None:
    import sqlalchemy as sa

    base, _, name = url.rpartition("/")
    engine = sa.create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1)
                              + "/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if not conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def make_app(url: str):
    os.environ.setdefault("SECRET_KEY", "bench-only-secret")
    from portal import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None, "MAIL_URL": None,
                       "S3_BUCKET": None})


def seed(url: str, tenants: int, per_tenant: int, rng: random.Random) -> dict:
    from flask_migrate import upgrade
    from sqlalchemy import text

    from portal.accounts import hash_password
    from portal.extensions import db
    from portal.tenancy import unscoped

    ensure_database(url)
    app = make_app(url)
    timings = {}
    started = time.perf_counter()
    with app.app_context():
        upgrade()
        timings["migrate_s"] = round(time.perf_counter() - started, 1)
        password_hash = hash_password(PASSWORD)
        with unscoped():
            first = db.session.scalar(text(
                "SELECT coalesce(max(substring(slug from 6)::int), 0) FROM tenants "
                "WHERE slug ~ '^bench[0-9]+$'")) + 1
            t0 = time.perf_counter()
            refs = [_reference_rows(db, n, password_hash, rng)
                    for n in range(first, first + tenants)]
            db.session.commit()
            timings["reference_rows_s"] = round(time.perf_counter() - t0, 1)

        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            # The migration's search index, dropped for the load and rebuilt as it was.
            cursor.execute("SELECT indexdef FROM pg_indexes "
                           "WHERE indexname = 'ix_complaints_search'")
            found = cursor.fetchone()
            index_sql = found[0] if found else None
            cursor.execute("DROP INDEX IF EXISTS ix_complaints_search")
            t0 = time.perf_counter()
            counts = _copy_bulk(cursor, refs, per_tenant, rng)
            raw.commit()
            timings["copy_s"] = round(time.perf_counter() - t0, 1)
            t0 = time.perf_counter()
            cursor.execute("SET maintenance_work_mem = '1GB'")
            if index_sql:
                cursor.execute(index_sql)
            raw.commit()
            timings["search_index_s"] = round(time.perf_counter() - t0, 1)
            t0 = time.perf_counter()
            raw.driver_connection.autocommit = True
            # SSD storage: random reads cost about as much as sequential ones. With the default
            # (4) the planner prefers scanning a tenant's rows over the trigram index.
            name = url.rpartition("/")[2]
            cursor.execute(f'ALTER DATABASE "{name}" SET random_page_cost = 1.1')
            cursor.execute("VACUUM ANALYZE")
            timings["vacuum_analyze_s"] = round(time.perf_counter() - t0, 1)
        finally:
            raw.close()
        db.engine.dispose()
    timings["total_s"] = round(time.perf_counter() - started, 1)
    return {"tenants": tenants, "per_tenant": per_tenant, "first_tenant": first, **counts,
            **timings}


def _reference_rows(db, n: int, password_hash: str, rng: random.Random) -> dict:
    """One tenant's small tables through the ORM-free core (multi-row INSERT … RETURNING)."""
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
        slug=f"bench{n}", name=f"Bench Machinery {n}", default_locale="zh_CN",
        timezone="Asia/Shanghai", brand_color="#0f6cbd", status="active", settings={},
        created_at=now, updated_at=now).returning(Tenant.id)).scalar_one()
    departments = db.session.execute(insert(Department).returning(Department.id), [
        {"tenant_id": tenant_id, "name": name, "kind": kind} for name, kind in DEPARTMENTS
    ]).scalars().all()
    staff = db.session.execute(insert(StaffUser).returning(StaffUser.id), [
        {"tenant_id": tenant_id, "email": f"{role.replace('_', '-')}@bench{n}.example.com",
         "name": f"{role} {n}", "roles": [role] + (["after_sales", "manager"] if role == "quality" else []),
         "department_id": departments[i % len(departments)], "password_hash": password_hash,
         "active": True, "created_at": now, "updated_at": now}
        for i, role in enumerate(ROLES)
    ]).scalars().all()
    companies = db.session.execute(insert(CustomerCompany).returning(CustomerCompany.id), [
        {"tenant_id": tenant_id, "name": f"{name} {i}", "key_account": i == 0,
         "created_at": now, "updated_at": now}
        for i, name in enumerate(COMPANIES * 3)
    ]).scalars().all()
    products = db.session.execute(insert(ProductModel).returning(ProductModel.id), [
        {"tenant_id": tenant_id, "code": f"M-{k}", "name_zh": f"型号{k}", "name_en": f"Model {k}",
         "active": True, "created_at": now, "updated_at": now} for k in range(8)
    ]).scalars().all()
    shipments = db.session.execute(insert(Shipment).returning(Shipment.id), [
        {"tenant_id": tenant_id, "product_model_id": p, "lot": f"L{j:02d}", "quantity": 500,
         "shipped_on": date(2026, 1 + j, 1), "serial_first": f"S{p:05d}{j:02d}0000",
         "serial_last": f"S{p:05d}{j:02d}0499", "created_at": now, "updated_at": now}
        for p in products for j in range(4)
    ]).scalars().all()
    modes = db.session.execute(insert(FailureMode).returning(FailureMode.id), [
        {"tenant_id": tenant_id, "code": f"fm{k}", "name_zh": f"失效{k}", "name_en": f"Mode {k}",
         "severe": k == 0} for k in range(6)
    ]).scalars().all()
    return {"tenant_id": tenant_id, "departments": departments, "staff": staff,
            "companies": companies, "products": products, "shipments": shipments, "modes": modes}


def _next_id(cursor, table: str) -> int:
    cursor.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")
    return cursor.fetchone()[0]


def _copy_bulk(cursor, refs: list[dict], per_tenant: int, rng: random.Random) -> dict:
    complaint_id = _next_id(cursor, "complaints")
    first_complaint = complaint_id
    now = datetime.now(UTC)
    complaints, serials, events, photos, clocks = [], [], [], [], []
    counts = {"complaints": 0, "serial_numbers": 0, "timeline_events": 0, "photos": 0,
              "deadline_clocks": 0}

    complaint_cols = ("id, tenant_id, number, source, channel, customer_company_id, "
                      "reporter_name, reporter_company, product_model_id, shipped_on, "
                      "defect_quantity, title, description, demands, severe_event, "
                      "safety_hazard, status, status_changed_at, severity, info_class, "
                      "cause_category, failure_mode_id, responsible_department_id, owner_id, "
                      "eight_d_requested, version, created_at, updated_at")

    def flush():
        _copy(cursor, "complaints", complaint_cols, complaints)
        _copy(cursor, "serial_numbers", "tenant_id, complaint_id, value, mismatch_confirmed",
              serials)
        _copy(cursor, "timeline_events", "tenant_id, complaint_id, actor, actor_name, kind, "
              "from_status, to_status, message, data, customer_visible, created_at", events)
        _copy(cursor, "photos", "tenant_id, complaint_id, uploaded_by, customer_visible, status, "
              "original_filename, content_type, size_bytes, thumb_key, large_key, width, "
              "height, created_at, stored_at", photos)
        _copy(cursor, "deadline_clocks", "tenant_id, complaint_id, kind, working_time, "
              "budget_minutes, customer_visible, started_at, due_at", clocks)
        for name, rows in (("complaints", complaints), ("serial_numbers", serials),
                           ("timeline_events", events), ("photos", photos),
                           ("deadline_clocks", clocks)):
            counts[name] += len(rows)
            rows.clear()

    for ref in refs:
        tid = ref["tenant_id"]
        for k in range(per_tenant):
            created = now - timedelta(minutes=(per_tenant - k) * 97 + rng.randint(0, 90))
            status = rng.choice(STATES)
            classified = status not in ("received", "verifying", "waiting_customer", "rejected")
            product = rng.choice(ref["products"])
            owner = rng.choice(ref["staff"]) if rng.random() < 0.7 else None
            title = rng.choice(TITLES)
            description = "，".join(rng.sample(PHRASES, 3)) + f"。编号 {k}"
            number = f"QC-{created.year}-{k + 1:05d}"
            complaints.append((
                complaint_id, tid, number, "customer", "portal", rng.choice(ref["companies"]),
                "客户联系人", None, product, date(2026, 1, 1), rng.randint(1, 5), title,
                description, json.dumps(rng.sample(["replacement", "return", "answer", "claim"], 2)),
                False, False, status, created + timedelta(hours=2),
                rng.choice(["minor", "general", "major"]) if classified else None,
                rng.choice(["A", "B"]) if classified else None,
                rng.choice(["man", "machine", "material", "method"]) if classified else None,
                rng.choice(ref["modes"]) if classified else None,
                rng.choice(ref["departments"]) if classified else None,
                owner, False, 3, created, created + timedelta(hours=2)))
            serials.append((tid, complaint_id, f"S{product:05d}00{k % 500:04d}{k:05d}", False))
            events.append((tid, complaint_id, "contact:1", "客户联系人", "submitted", None,
                           "received", None, "{}", True, created))
            events.append((tid, complaint_id, f"staff:{ref['staff'][0]}", "after_sales",
                           "transition.start_verification", "received", "verifying", None, "{}",
                           True, created + timedelta(minutes=30)))
            events.append((tid, complaint_id, f"staff:{ref['staff'][1]}", "quality", "classified",
                           None, None, None, '{"changes": {"severity": [null, "general"]}}',
                           False, created + timedelta(hours=1)))
            events.append((tid, complaint_id, f"staff:{ref['staff'][1]}", "quality",
                           f"transition.{status}", "verifying", status, "已处理 handled", "{}",
                           True, created + timedelta(hours=2)))
            for p in range(2):
                key = f"t/{tid}/photos/{complaint_id}/{p}"
                photos.append((tid, complaint_id, "contact:1", True, "stored", f"IMG_{p}.jpg",
                               "image/jpeg", 2_000_000, f"{key}/thumb.jpg", f"{key}/large.jpg",
                               1600, 1200, created, created))
            if status in OPEN:
                due = created + timedelta(hours=rng.choice([24, 48, 72, 24 * 365]))
                clocks.append((tid, complaint_id, "answer", False, 2880, True, created, due))
            complaint_id += 1
        if len(complaints) >= 20_000:
            flush()
    flush()
    cursor.execute("SELECT setval(pg_get_serial_sequence('complaints', 'id'), %s)",
                   (complaint_id,))
    counts["complaint_ids"] = [first_complaint, complaint_id - 1]
    return counts


def _copy(cursor, table: str, columns: str, rows: list) -> None:
    if not rows:
        return
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--tenants", type=int, default=200)
    parser.add_argument("--per-tenant", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    result = seed(args.database_url, args.tenants, args.per_tenant, random.Random(args.seed))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
