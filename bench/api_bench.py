"""The REST API: complaint creation and a 10,000-row shipment upsert, with /healthz in the
same run, on PostgreSQL.

    python -m bench.api_bench [--creates 200] [--rows 10000]
    python -m bench.api_bench --instructions [--creates 20]     # valgrind (callgrind)

Creates its own schema on DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test)
and uses Redis (``--redis``, default database 6) as production does: jobs are enqueued on RQ
under queue names of its own (not run), rate limits counted there; it removes its keys after.
It migrates the schema, seeds a tenant (a customer, a product model, a quality user and an API token),
then, through the Flask test client with the token (so the whole request path runs: tenant,
token lookup, rate limiter, validation, operation, commit):

  1. ``/healthz`` ×N (the trivial endpoint, for ratios);
  2. ``POST /complaints`` ×N (staff filing with two serial numbers, as an MES or ERP would);
  3. ``POST /shipments/upsert`` with 10,000 new rows, then the same 10,000 rows again.

Wall-clock by default; with ``--instructions`` each case is counted in its own valgrind run
(instrumentation switched on only around the measured requests; PostgreSQL's own work is not
counted). Drops the schema after.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def make_app(schema: str, storage: str, redis_url: str):
    """As production: jobs only enqueued on RQ (prefixed queues), rate limits counted in
    Redis (prefixed keys); both in ``redis_url``'s database and removed after."""
    from portal import create_app

    return create_app({
        "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": DATABASE_URL, "REDIS_URL": redis_url,
        "RQ_QUEUE_PREFIX": f"{schema}-", "RATELIMIT_STORAGE_URI": redis_url,
        "RATELIMIT_KEY_PREFIX": schema,
        "MAIL_URL": None, "TESTING": False, "LOCAL_STORAGE_DIR": storage,
        "API_RATE_LIMIT": "1000000/second",  # the limiter runs, but never refuses here
        "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": f"-csearch_path={schema}"}},
    })


def seed(app) -> str:
    """Tenant ``bench`` with what filing needs; returns the API token's secret."""
    from flask_migrate import upgrade

    from portal.api import tokens
    from portal.extensions import db
    from portal.models import CustomerCompany, Department, ProductModel, StaffUser, Tenant, utcnow
    from portal.tenancy import activate

    with app.app_context():
        upgrade()
        tenant = Tenant(slug="bench", name="Bench")
        db.session.add(tenant)
        db.session.flush()
        with activate(tenant):
            department = Department(name="Quality", kind="quality")
            db.session.add_all([department, CustomerCompany(name="Customer 01"),
                                ProductModel(code="PX-45", name_zh="空压机", name_en="Compressor",
                                             serial_pattern=r"^SN\d{9}$")])
            db.session.flush()
            user = StaffUser(email="quality@bench.example.com", name="Quality",
                             roles=["quality", "after_sales"], department_id=department.id)
            db.session.add(user)
            db.session.flush()
            _token, secret = tokens.issue(name="bench", scopes=["admin"], acting_user=user,
                                          created_by=user,
                                          expires_at=utcnow() + timedelta(days=1))
            db.session.commit()
    return secret


def complaint(n: int, customer_id: int) -> dict:
    return {"channel": "phone", "customer_id": customer_id, "reporter_name": "MES line 3",
            "product_model": "PX-45", "lot": "L0000001", "defect_quantity": 2,
            "title": f"Pressure switch trips ({n})", "description": "Found in end-of-line test.",
            "serial_numbers": [f"SN{n:09d}", f"SN{n + 500_000:09d}"], "demands": ["answer"]}


def rows(count: int, prefix: str = "L") -> list[dict]:
    start = date(2026, 1, 1)
    return [{"product_model": "PX-45", "lot": f"{prefix}{n:07d}", "quantity": 100,
             "shipped_on": (start + timedelta(days=n % 300)).isoformat(),
             "customer": "Customer 01" if n % 2 else None,
             "serial_first": f"SN{n * 100:09d}", "serial_last": f"SN{n * 100 + 99:09d}"}
            for n in range(count)]


class Calls:
    def __init__(self, app, secret: str):
        self.client = app.test_client()
        self.headers = {"Authorization": f"Bearer {secret}"}
        self.n = 0
        self.customer_id = self.client.get("/t/bench/api/v1/customers",
                                           headers=self.headers).get_json()["items"][0]["id"]

    def healthz(self):
        assert self.client.get("/healthz").status_code == 200

    def create(self):
        self.n += 1
        response = self.client.post("/t/bench/api/v1/complaints", headers=self.headers,
                                    json=complaint(self.n, self.customer_id))
        assert response.status_code == 201, response.get_data(as_text=True)

    def upsert(self, body):
        response = self.client.post("/t/bench/api/v1/shipments/upsert", headers=self.headers,
                                    json=body)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        return response.get_json()


def timed(fn, n):
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), sorted(samples)[int(len(samples) * 0.9) - 1]


def wall_clock(app, secret: str, creates: int, count: int) -> None:
    calls = Calls(app, secret)
    for _ in range(5):  # warm-up
        calls.healthz()
        calls.create()
    health, health90 = timed(calls.healthz, creates)
    create, create90 = timed(calls.create, creates)
    body = {"rows": rows(count)}
    start = time.perf_counter()
    first = calls.upsert(body)
    first_ms = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    again = calls.upsert(body)
    again_ms = (time.perf_counter() - start) * 1000
    health_after, _ = timed(calls.healthz, creates)
    print(f"/healthz                 median {health:.2f} ms  p90 {health90:.2f} ms "
          f"(after the upserts: {health_after:.2f} ms)")
    print(f"POST /complaints         median {create:.1f} ms  p90 {create90:.1f} ms  "
          f"= {create / health:.0f} × /healthz")
    print(f"upsert {count:,} new rows    {first_ms:,.0f} ms  {first}  "
          f"= {first_ms / health:,.0f} × /healthz")
    print(f"same {count:,} rows again  {again_ms:,.0f} ms  {again}")


def inner(schema: str, storage: str, secret: str, case: str, creates: int, count: int,
          redis_url: str) -> None:
    """Runs under valgrind: warm up uninstrumented, count only the measured requests."""
    app = make_app(schema, storage, redis_url)
    calls = Calls(app, secret)
    for _ in range(3):
        calls.healthz()
        calls.create()
    calls.upsert({"rows": rows(100, prefix="W")})
    body = {"rows": rows(count)}
    toggle = ["callgrind_control", "-i"]
    subprocess.run([*toggle, "on", str(os.getpid())], check=True, capture_output=True)
    if case == "healthz":
        for _ in range(creates):
            calls.healthz()
    elif case == "create":
        for _ in range(creates):
            calls.create()
    else:
        calls.upsert(body)
    subprocess.run([*toggle, "off", str(os.getpid())], check=True, capture_output=True)


def instructions(schema: str, storage: str, secret: str, creates: int, count: int,
                 redis_url: str) -> None:
    results = {}
    for case, per in (("healthz", creates), ("create", creates), ("upsert", 1)):
        with tempfile.TemporaryDirectory() as tmp:
            result = subprocess.run(
                ["valgrind", "--tool=callgrind", "--instr-atstart=no",
                 f"--callgrind-out-file={tmp}/out", sys.executable, "-m", "bench.api_bench",
                 "--inner", case, "--schema", schema, "--storage", storage, "--secret", secret,
                 "--creates", str(creates), "--rows", str(count), "--redis", redis_url],
                cwd=ROOT, capture_output=True, text=True, timeout=3600)
        collected = re.search(r"Collected : (\d+)", result.stderr)
        if result.returncode != 0 or not collected:
            raise SystemExit(f"valgrind run {case} failed:\n{result.stderr[-3000:]}")
        results[case] = int(collected.group(1)) // per
    health = results["healthz"]
    print(f"/healthz            {health / 1e6:8.2f} M instructions per request")
    print(f"POST /complaints    {results['create'] / 1e6:8.2f} M  = "
          f"{results['create'] / health:.0f} × /healthz")
    print(f"upsert {count:,} rows {results['upsert'] / 1e6:8.1f} M  = "
          f"{results['upsert'] / health:,.0f} × /healthz "
          f"({results['upsert'] / count / 1e3:.0f} k per row)")


def clean_redis(redis_url: str, schema: str) -> None:
    """Remove this run's queues, their jobs and its rate-limit counters."""
    from redis import Redis

    redis = Redis.from_url(redis_url)
    for queue in redis.scan_iter(f"rq:queue:{schema}-*"):
        job_ids = redis.lrange(queue, 0, -1)
        redis.delete(queue, *[b"rq:job:" + job_id for job_id in job_ids])
    ours = [q for q in redis.smembers("rq:queues") if schema.encode() in q]
    if ours:
        redis.srem("rq:queues", *ours)
    keys = list(redis.scan_iter(f"*{schema}*"))
    if keys:
        redis.delete(*keys)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--creates", type=int, default=200)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--instructions", action="store_true")
    parser.add_argument("--inner", choices=["healthz", "create", "upsert"])
    parser.add_argument("--schema")
    parser.add_argument("--storage")
    parser.add_argument("--secret")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/6")
    args = parser.parse_args()
    if args.inner:
        inner(args.schema, args.storage, args.secret, args.inner, args.creates, args.rows,
              args.redis)
        return

    schema = f"bench_api_{uuid.uuid4().hex[:8]}"
    storage = f"/tmp/{schema}"
    engine = sa.create_engine(DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        app = make_app(schema, storage, args.redis)
        secret = seed(app)
        if args.instructions:
            with app.app_context():
                from portal.extensions import db

                db.engine.dispose()
            instructions(schema, storage, secret, min(args.creates, 20), args.rows, args.redis)
        else:
            wall_clock(app, secret, args.creates, args.rows)
    finally:
        clean_redis(args.redis, schema)
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


if __name__ == "__main__":
    main()
