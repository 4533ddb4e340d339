"""Benchmarks for the background jobs (issue 6), on the real parts: PostgreSQL (own schema),
Redis database 3, moto's S3 over HTTP, an aiosmtpd sink, and two `flask worker` processes.

    python bench/jobs_bench.py photos     # 100 JPEGs 4000x3000 + 20 HEICs through 2 workers
    python bench/jobs_bench.py campaign   # a yearly campaign to 100,000 contacts
    python bench/jobs_bench.py campaign --contacts 10000   # smaller

Each run also measures a trivial job (`time.sleep(0)` through the same RQ queues and
workers) so figures can be read as ratios. Ports 5350-5353; Redis database 3 is flushed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TEST_REDIS_URL", "redis://127.0.0.1:6379/3")

import sqlalchemy as sa  # noqa: E402

import tests.jobs.conftest as harness  # noqa: E402

harness.MOTO_PORT, harness.PROXY_PORT, harness.SMTP_PORT = 5350, 5351, 5352
# The harness shortens RQ's clocks for failure tests; benchmarks run with the defaults.
PRODUCTION_CLOCKS = {"RQ_MAINTENANCE_INTERVAL": 15, "RQ_JOB_MONITORING_INTERVAL": 10,
                     "RQ_HEARTBEAT_GRACE": 15, "RQ_SCHEDULER_LOCK_SECONDS": 15,
                     "RQ_WORKER_TTL": 420}
CACHE = Path(os.environ.get("BENCH_CACHE", "/tmp/closeloop-bench-cache"))


class CountingSink:
    """Counts messages (100,000 full messages would only measure our own memory)."""

    def __init__(self):
        self.count = 0
        self.first = self.last = None
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        now = time.monotonic()
        with self.lock:
            self.count += 1
            self.first = self.first or now
            self.last = now
        return "250 OK"


def p(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def setup(sink):
    import boto3
    from aiosmtpd.controller import Controller
    from flask_migrate import upgrade
    from moto.server import ThreadedMotoServer

    from portal.extensions import db

    schema = f"bench_jobs_{uuid.uuid4().hex[:6]}"
    engine = sa.create_engine(harness.DATABASE_URL.replace("postgresql://",
                                                           "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=harness.MOTO_PORT, verbose=False)
    moto.start()
    moto_url = f"http://127.0.0.1:{harness.MOTO_PORT}"
    boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1", aws_access_key_id="x",
                 aws_secret_access_key="x").create_bucket(Bucket=harness.BUCKET)
    smtp = Controller(sink, hostname="127.0.0.1", port=harness.SMTP_PORT)
    smtp.start()
    instance = Path(f"/tmp/{schema}")
    instance.mkdir()
    harness._flush_redis()
    svc = harness.Services(schema, str(instance / "storage"), instance, moto_url, None, sink)
    with svc.app.app_context():
        upgrade()

    def teardown():
        svc.stop_workers()
        smtp.stop()
        moto.stop()
        svc.dispose()
        with svc.app.app_context():
            db.engine.dispose()
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
        harness._flush_redis()

    return svc, teardown


def new_tenant(svc, **fields):
    from portal.models import Tenant

    with svc.tenant_context() as db:
        tenant = Tenant(slug=f"b{uuid.uuid4().hex[:8]}", name="Bench Works", **fields)
        db.session.add(tenant)
        db.session.commit()
        return tenant.id


def trivial_jobs() -> dict:
    return trivial_jobs_on("photos")


def photos_bench(args):
    from tests.jobs.images import heic_bytes, jpeg_bytes

    CACHE.mkdir(exist_ok=True)
    jpegs = []
    for seed in range(10):  # ten distinct phone photos, each used ten times
        path = CACHE / f"phone-{seed}.jpg"
        if not path.exists():
            path.write_bytes(jpeg_bytes((4000, 3000), orientation=6, seed=seed))
        jpegs.append(path.read_bytes())
    heic_path = CACHE / "phone.heic"
    if not heic_path.exists():
        print("encoding a 4000x3000 HEIC once (slow: libheif's encoder) ...", flush=True)
        heic_path.write_bytes(heic_bytes((4000, 3000), orientation=6))
    heic = heic_path.read_bytes()
    files = [("IMG.jpg", jpegs[i % 10]) for i in range(args.jpegs)] + \
        [("IMG.HEIC", heic)] * args.heics
    print(f"{len(files)} files, JPEG {len(jpegs[0]) / 1e6:.1f} MB, HEIC {len(heic) / 1e6:.1f} MB",
          flush=True)

    svc, teardown = setup(CountingSink())
    try:
        from portal import uow
        from portal.models import Complaint, Photo, utcnow
        from portal.queueing import enqueue
        from portal.storage import get_storage, tenant_key

        tenant_id = new_tenant(svc)
        for _ in range(args.workers):
            svc.start_worker("--queues", "photos", **PRODUCTION_CLOCKS)
        time.sleep(3)
        trivial_before = trivial_jobs()
        submitted = {}
        with svc.tenant_context(tenant_id) as db:
            complaint = Complaint(number="QC-B-1", reporter_name="Bench", title="Bench",
                                  description="Bench")
            db.session.add(complaint)
            db.session.commit()
            start = time.time()
            for name, data in files:  # what the upload request does, one photo per commit
                key = tenant_key(tenant_id, "staging", uuid.uuid4().hex)
                get_storage().put(key, data, "image/jpeg")
                photo = Photo(complaint_id=complaint.id, uploaded_by="visitor",
                              original_filename=name, size_bytes=len(data), staging_key=key)
                db.session.add(photo)
                db.session.flush()
                enqueue("jobs.photos.process_photo", photo.id, queue="photos")
                photo_id = photo.id
                uow.commit()
                submitted[photo_id] = (name, utcnow())
            submit_seconds = time.time() - start

        def done():
            with svc.tenant_context(tenant_id) as db:
                rows = db.session.query(Photo.id, Photo.status, Photo.stored_at).all()
                return rows if all(r.status != "staged" for r in rows) else None

        rows = harness.wait_for(done, timeout=3600, interval=0.5, what="all photos")
        assert all(r.status == "stored" for r in rows), [r.status for r in rows]
        latency = {r.id: (r.stored_at - submitted[r.id][1]).total_seconds() for r in rows}
        first = min(t for _, t in submitted.values())
        last = max(r.stored_at for r in rows)
        wall = (last - first).total_seconds()
        jpeg_lat = [v for k, v in latency.items() if submitted[k][0].endswith("jpg")]
        heic_lat = [v for k, v in latency.items() if submitted[k][0].endswith("HEIC")]
        keys = svc.s3_keys(f"t/{tenant_id}/photos/")
        staged = svc.s3_keys(f"t/{tenant_id}/staging/")
        trivial_after = trivial_jobs()
        print(f"\nphotos: {len(rows)} stored by {args.workers} workers in {wall:.1f} s "
              f"= {len(rows) / wall:.2f} photos/s  (submitting took {submit_seconds:.1f} s)")
        print(f"  submit->stored all : p50 {p(list(latency.values()), 50):.1f} s, "
              f"p95 {p(list(latency.values()), 95):.1f} s, max {max(latency.values()):.1f} s")
        print(f"  JPEG 4000x3000     : p50 {p(jpeg_lat, 50):.1f} s, p95 {p(jpeg_lat, 95):.1f} s")
        if heic_lat:
            print(f"  HEIC 4000x3000     : p50 {p(heic_lat, 50):.1f} s, p95 {p(heic_lat, 95):.1f} s")
        print(f"  objects in bucket  : {len(keys)} (expected {3 * len(rows)}), staged left: "
              f"{len(staged)}")
        for label, t in (("before", trivial_before), ("after", trivial_after)):
            print(f"  trivial job {label:6}: {t['n']} x time.sleep(0): {t['per_s']:.1f} jobs/s, "
                  f"p50 {t['p50'] * 1000:.0f} ms, p95 {t['p95'] * 1000:.0f} ms")
        print(f"  mean photo job / trivial job p50: "
              f"{statistics.mean(latency.values()) / trivial_before['p50']:.0f}x")
    finally:
        teardown()


def campaign_bench(args):
    sink = CountingSink()
    svc, teardown = setup(sink)
    try:
        from portal import surveys, uow
        from portal.models import (
            Contact,
            CustomerCompany,
            OutboxMessage,
            Survey,
            SurveyCampaign,
            utcnow,
        )

        tenant_id = new_tenant(svc, default_locale="en")
        with svc.tenant_context(tenant_id) as db:
            companies = [CustomerCompany(name=f"Customer {i}") for i in range(1000)]
            db.session.add_all(companies)
            db.session.flush()
            ids = [c.id for c in companies]
            now = utcnow()
            t0 = time.time()
            for start in range(0, args.contacts, 10_000):
                db.session.execute(Contact.__table__.insert(), [
                    {"tenant_id": tenant_id, "company_id": ids[i % 1000], "name": f"Contact {i}",
                     "email": f"contact{i}@customer{i % 1000}.example.com", "active": True,
                     "created_at": now, "updated_at": now}
                    for i in range(start, min(start + 10_000, args.contacts))])
            db.session.commit()
            print(f"{args.contacts} contacts loaded in {time.time() - t0:.1f} s", flush=True)

        # The trivial measure: one SMTP connection pushing messages straight into the sink.
        import smtplib
        from email.message import EmailMessage

        with smtplib.SMTP("127.0.0.1", harness.SMTP_PORT) as smtp:
            t0 = time.time()
            for i in range(1000):
                m = EmailMessage()
                m["From"], m["To"], m["Subject"] = "a@b.c", f"x{i}@y.z", "hello"
                m.set_content("hello")
                smtp.send_message(m)
            raw_rate = 1000 / (time.time() - t0)
        sink.count = 0
        sink.first = sink.last = None

        for _ in range(args.workers):
            svc.start_worker("--queues", "mail", **PRODUCTION_CLOCKS)
        time.sleep(3)
        trivial = trivial_jobs_on("mail")
        with svc.tenant_context(tenant_id) as db:
            campaign = surveys.create_campaign("Bench", 2026, 7)
            db.session.commit()
            campaign_id = campaign.id
            t_launch = time.monotonic()
            surveys.launch(db.session.get(SurveyCampaign, campaign_id))
            uow.commit()

        def batches_queued():
            with svc.tenant_context() as db:
                n = db.session.query(OutboxMessage).filter(
                    OutboxMessage.job == "jobs.surveys.send_campaign_batch",
                    OutboxMessage.relayed_at.is_not(None)).count()
                return n if n >= -(-args.contacts // surveys.BATCH_SIZE) else None

        harness.wait_for(batches_queued, timeout=3600, interval=0.5, what="batches queued")
        t_enqueued = time.monotonic() - t_launch
        harness.wait_for(lambda: sink.count >= args.contacts, timeout=7200, interval=1,
                         what="every survey at the sink")
        t_sent = sink.last - t_launch
        with svc.tenant_context(tenant_id) as db:
            sent = db.session.query(Survey).filter(Survey.sent_at.is_not(None)).count()
        print(f"\ncampaign: {args.contacts} contacts, {args.workers} workers")
        print(f"  surveys created and {-(-args.contacts // surveys.BATCH_SIZE)} batch jobs "
              f"queued: {t_enqueued:.1f} s")
        print(f"  all sent to the SMTP sink: {t_sent:.1f} s = {args.contacts / t_sent:.0f} "
              f"surveys/s (sink received {sink.count}, marked sent {sent})")
        print(f"  trivial: raw SMTP to the sink over one connection {raw_rate:.0f} msg/s; "
              f"trivial job p50 {trivial['p50'] * 1000:.0f} ms, {trivial['per_s']:.0f} jobs/s")
    finally:
        teardown()


def trivial_jobs_on(queue_name, n=200):
    from redis import Redis
    from rq import Queue

    queue = Queue(harness.QUEUE_PREFIX + queue_name, connection=Redis.from_url(harness.REDIS_URL))
    start = time.time()
    jobs = [(time.time(), queue.enqueue("time.sleep", 0)) for _ in range(n)]
    harness.wait_for(lambda: all(j.get_status() == "finished" for _, j in jobs), timeout=120)
    lat = []
    for submitted, job in jobs:
        job.refresh()
        lat.append(job.ended_at.timestamp() - submitted)
    ends = max(j.ended_at.timestamp() for _, j in jobs)
    return {"n": n, "per_s": n / (ends - start), "p50": p(lat, 50), "p95": p(lat, 95)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", choices=["photos", "campaign"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--jpegs", type=int, default=100)
    parser.add_argument("--heics", type=int, default=20)
    parser.add_argument("--contacts", type=int, default=100_000)
    args = parser.parse_args()
    (photos_bench if args.which == "photos" else campaign_bench)(args)


if __name__ == "__main__":
    main()
