"""Import of 100,000 shipment rows from a real .xlsx, on PostgreSQL.

    python bench/import_bench.py [--rows 100000] [--redis redis://127.0.0.1:6379/5]

Creates its own schema on DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test),
migrates it, seeds a tenant with 20 product models and 50 customers, writes an .xlsx with
openpyxl (not timed), then times, in the same run:

  1. the upload request (POST through the app, REDIS_URL set: the request stores the file
     and enqueues the preview job, so this is what the web process spends);
  2. the preview job (parse with openpyxl read-only, check every row, stage the rows);
  3. the apply job (upsert on (product model, lot) with Core executemany, one transaction);
  4. the same file again (preview + apply: every row already known, updated, no duplicates);
  5. a trivial endpoint (/healthz through the same test client) and a SELECT 1, for ratios.

Only the Redis database given by --redis is used, and only its RQ keys are deleted after.
Drops the schema after.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def make_xlsx(rows: int, models: list[str], customers: list[str]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["型号", "批次号", "数量", "发货日期", "客户", "起始序列号", "结束序列号", "序列号清单"])
    start = date(2025, 1, 1)
    for n in range(rows):
        code = models[n % len(models)]
        first = n * 100
        sheet.append([code, f"L{n:07d}", 100, start + timedelta(days=n % 365),
                      customers[n % len(customers)], f"SN{first:09d}", f"SN{first + 99:09d}",
                      None])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/5")
    args = parser.parse_args()

    from portal import create_app
    from portal.accounts import hash_password
    from portal.extensions import db
    from portal.models import CustomerCompany, ImportRun, ProductModel, Shipment, StaffUser, Tenant
    from portal.tenancy import activate

    schema = f"bench_import_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    storage = Path(f"/tmp/{schema}")
    app = create_app({
        "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": DATABASE_URL, "REDIS_URL": args.redis,
        "MAIL_URL": None, "TESTING": False, "WTF_CSRF_ENABLED": False,
        "LOCAL_STORAGE_DIR": str(storage),
        "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": f"-csearch_path={schema}"}},
    })
    try:
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            tenant = Tenant(slug="bench", name="Bench")
            db.session.add(tenant)
            db.session.flush()
            with activate(tenant):
                models = [f"M-{n:02d}" for n in range(20)]
                for code in models:
                    db.session.add(ProductModel(code=code, name_zh=code, name_en=code,
                                                serial_pattern=r"^SN\d{9}$"))
                customers = [f"Customer {n:02d}" for n in range(50)]
                for name in customers:
                    db.session.add(CustomerCompany(name=name))
                db.session.add(StaffUser(email="admin@bench.example.com", name="Admin",
                                         roles=["admin"], password_hash=hash_password("bench-pass-1")))
                db.session.commit()
            tenant_id = tenant.id

        build, data = timed(make_xlsx, args.rows, models, customers)
        print(f"built {args.rows:,}-row .xlsx: {len(data) / 1e6:.1f} MB in {build:.1f} s")

        client = app.test_client()
        client.post("/t/bench/staff/sign-in", data={"email": "admin@bench.example.com",
                                                   "password": "bench-pass-1"})
        upload_s, response = timed(lambda: client.post(
            "/t/bench/staff/admin/import/shipments",
            data={"file": (io.BytesIO(data), "shipments.xlsx")},
            content_type="multipart/form-data"))
        assert response.status_code == 303, response.status_code
        run_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])

        import jobs.imports as job

        def preview():
            job.preview(tenant_id, run_id)

        def apply():
            with app.app_context(), activate(tenant_id):
                run = db.session.get(ImportRun, run_id)
                assert run.status == "previewed" and not run.problem_count, run.problems[:3]
                run.status = "queued"
                db.session.commit()
            job.apply(tenant_id, run_id)

        with app.app_context():
            preview_s, _ = timed(preview)
            apply_s, _ = timed(apply)
            with activate(tenant_id):
                run = db.session.get(ImportRun, run_id)
                first = (run.rows_new, run.rows_updated)
                count = db.session.scalar(sa.select(sa.func.count()).select_from(Shipment))
            # the same file again
            with activate(tenant_id):
                from portal import imports

                run2 = imports.start_run("shipments", "again.xlsx", data, None)
                db.session.commit()
                run_id = run2.id
            db.session.remove()
            again_preview_s, _ = timed(preview)
            again_apply_s, _ = timed(apply)
            with activate(tenant_id):
                run = db.session.get(ImportRun, run_id)
                second = (run.rows_new, run.rows_updated)
                count2 = db.session.scalar(sa.select(sa.func.count()).select_from(Shipment))

        trivial = []
        for _ in range(200):
            start = time.perf_counter()
            client.get("/healthz")
            trivial.append(time.perf_counter() - start)
        with engine.connect() as conn:
            pings = []
            for _ in range(200):
                start = time.perf_counter()
                conn.execute(sa.text("SELECT 1"))
                pings.append(time.perf_counter() - start)
        healthz = statistics.median(trivial)
        ping = statistics.median(pings)
        print(f"upload request (store + enqueue, web process): {upload_s * 1000:.0f} ms "
              f"({upload_s / healthz:.0f} × /healthz of {healthz * 1000:.2f} ms)")
        print(f"preview job: {preview_s:.1f} s; apply job: {apply_s:.1f} s; "
              f"total {preview_s + apply_s:.1f} s -> {first[0]:,} new, {first[1]:,} updated, "
              f"{count:,} shipments")
        print(f"same file again: preview {again_preview_s:.1f} s, apply {again_apply_s:.1f} s "
              f"-> {second[0]:,} new, {second[1]:,} updated, {count2:,} shipments")
        print(f"SELECT 1: {ping * 1000:.3f} ms; /healthz: {healthz * 1000:.2f} ms")
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
        try:
            from redis import Redis

            redis = Redis.from_url(args.redis)
            keys = list(redis.scan_iter("rq:*"))
            if keys:
                redis.delete(*keys)
        except Exception as exc:  # noqa: BLE001
            print(f"(could not clean Redis: {exc!r})")
        import shutil

        shutil.rmtree(storage, ignore_errors=True)


if __name__ == "__main__":
    main()
