"""Outages without false promises, and abuse left behind (issue 15), on the real parts: moto's
S3 over HTTP (and a closed port for S3 down), Redis, and `flask worker` processes killed with
SIGKILL under the production clock settings."""

from __future__ import annotations

import io
import os
import re
import signal
import time
import urllib.request
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import config
from portal.models import Complaint, Photo, ProductModel, Tenant, utcnow
from portal.storage import get_storage, tenant_key
from tests.conftest import csrf_from
from tests.customer.conftest import VALID, jpeg

from .conftest import CLOSED_PORT, QUEUE_PREFIX, REDIS_URL, needs_services, wait_for
from .images import jpeg_bytes
from .test_photos_real import photos_of, seed_complaint

pytestmark = [needs_services, pytest.mark.services]


def _tenant_with_product(real, app=None) -> tuple[int, str]:
    with real.tenant_context(app=app) as db:
        tenant = Tenant(slug=f"o{uuid.uuid4().hex[:8]}", name="Outage Works",
                        default_locale="en")
        db.session.add(tenant)
        db.session.commit()
        tenant_id, slug = tenant.id, tenant.slug
    with real.tenant_context(tenant_id, app=app) as db:
        db.session.add(ProductModel(code="PX-100", name_zh="水泵", name_en="Pump PX-100"))
        db.session.commit()
    return tenant_id, slug


# -- staged uploads that never became photos ------------------------------------------------

def test_orphaned_staged_uploads_are_purged_after_a_day_and_only_those(real):
    from jobs.housekeeping import hourly
    from portal.photos import ORPHAN_AFTER, purge_orphaned_staging

    tenant_id, _, (photo_id,) = seed_complaint(real, photos=[("kept.jpg", jpeg_bytes((64, 48)))])
    with real.tenant_context(tenant_id) as db:
        waiting = db.session.get(Photo, photo_id).staging_key  # a photo not yet processed
        orphans = [tenant_key(tenant_id, "staging", uuid.uuid4().hex) for _ in range(3)]
        for key in orphans:
            get_storage().put(key, b"\xff\xd8\xff orphan", "image/jpeg")
    staged = real.s3_keys(f"t/{tenant_id}/staging/")
    assert set(orphans) | {waiting} <= set(staged)

    with real.app.app_context():
        assert purge_orphaned_staging() == 0  # nothing is a day old yet
        later = utcnow() + ORPHAN_AFTER + timedelta(minutes=1)
        assert purge_orphaned_staging(now=later) >= 3
        assert purge_orphaned_staging(now=later) == 0  # idempotent
    left = real.s3_keys(f"t/{tenant_id}/staging/")
    assert waiting in left and not set(orphans) & set(left)
    with real.app.app_context():
        assert hourly()["staged_uploads"] == 0  # the clock's hourly job runs the same purge


# -- S3 down while a complaint with photos is sent --------------------------------------------

def _post_complaint(client, slug, photo_name="IMG_2001.jpg"):
    page = client.get(f"/t/{slug}/complaints/new").get_data(as_text=True)
    key = re.search(r'name="submission_key"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*'
                    r'name="submission_key"', page)
    data = {**VALID, "csrf_token": csrf_from(page),
            "submission_key": key.group(1) or key.group(2),
            "lot": "L1", "confirm_serials": "y",
            "description": "Pump housing cracked after two days of use.",
            "photos": [(io.BytesIO(jpeg()), photo_name)]}
    return client.post(f"/t/{slug}/complaints/new", data=data,
                       content_type="multipart/form-data")


def test_s3_down_the_form_tells_the_truth_and_keeps_everything(real):
    down = real.app_with(S3_ENDPOINT_URL=f"http://127.0.0.1:{CLOSED_PORT}")
    tenant_id, slug = _tenant_with_product(real, app=down)
    started = time.monotonic()
    response = _post_complaint(down.test_client(), slug)
    text = response.get_data(as_text=True)
    assert response.status_code == 422, text[-2000:]
    assert "IMG_2001.jpg could not be stored: our file store is not answering" in text
    assert "Nothing was sent yet" in text and "lost" not in text
    assert "Pump housing cracked after two days of use." in text  # what was typed is kept
    assert time.monotonic() - started < 25  # refused connections fail fast, no worker timeout
    with real.tenant_context(tenant_id, app=down) as db:
        assert db.session.scalars(select(Complaint)).all() == []  # and nothing half-stored

    # The JavaScript uploader hears the same truth, as a retryable 503.
    client = down.test_client()
    token = csrf_from(client.get(f"/t/{slug}/complaints/new").get_data(as_text=True))
    staged = client.post(f"/t/{slug}/photos/stage", data={
        "csrf_token": token, "form_key": "s" * 32, "photo": (io.BytesIO(jpeg()), "IMG_3.jpg")},
        content_type="multipart/form-data")
    assert staged.status_code == 503 and "not answering" in staged.json["error"]

    # S3 is back: the same form goes through.
    up = _post_complaint(real.app.test_client(), slug)
    assert up.status_code == 303, up.get_data(as_text=True)[-2000:]
    with real.tenant_context(tenant_id) as db:
        (complaint,) = db.session.scalars(select(Complaint)).all()
        assert db.session.scalar(select(Photo).where(Photo.complaint_id == complaint.id))


# -- files served from S3: attachments of a safe type -----------------------------------------

def test_presigned_downloads_are_attachments_of_a_safe_type(real):
    with real.app.test_request_context():
        storage = get_storage()
        key = tenant_key(1, "evidence", "1", uuid.uuid4().hex, "report.html")
        storage.put(key, b"<script>alert(1)</script>", "text/html")  # what an uploader claimed
        evidence_url = storage.download_url(key, filename="报告.html")
        photo_url = storage.download_url(key, filename="photo-1-large.jpg",
                                         content_type="image/jpeg", inline=True)
    with urllib.request.urlopen(evidence_url) as answer:
        assert answer.headers["Content-Type"] == "application/octet-stream"
        disposition = answer.headers["Content-Disposition"]
        assert disposition.startswith("attachment;") and "%E6%8A%A5%E5%91%8A.html" in disposition
    with urllib.request.urlopen(photo_url) as answer:
        assert answer.headers["Content-Type"] == "image/jpeg"
        assert answer.headers["Content-Disposition"].startswith("inline;")


# -- a worker killed mid-job, production clocks -----------------------------------------------

def _children(pid: int) -> list[int]:
    path = f"/proc/{pid}/task/{pid}/children"
    with open(path) as fh:
        return [int(p) for p in fh.read().split()]


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("split", [False, True], ids=["survivor-idle", "locks-split"])
def test_killed_workers_job_is_recovered_within_a_minute(real, tmp_path, split):
    """``split``: as when workers start together, the dead worker held the photos queue's
    scheduler lock and the survivor's scheduler runs with the other queues' locks (RQ alone
    would take the lapsed lock only on its 120 s fallback)."""
    from redis import Redis
    from rq import Queue
    from rq.job import Job

    defaults = config.load(str(tmp_path))  # the production defaults, nothing shortened
    clocks = {name: str(defaults[name]) for name in (
        "RQ_MAINTENANCE_INTERVAL", "RQ_JOB_MONITORING_INTERVAL", "RQ_HEARTBEAT_GRACE",
        "RQ_WORKER_TTL", "RQ_SCHEDULER_LOCK_SECONDS")}
    clocks["RQ_RETRY_INTERVALS"] = ",".join(map(str, defaults["RQ_RETRY_INTERVALS"]))
    connection = Redis.from_url(REDIS_URL)
    lock = f"rq:scheduler-lock:{QUEUE_PREFIX}photos"

    first = real.start_worker(*(["--queues", "photos"] if split else []), **clocks)
    wait_for(lambda: connection.exists(lock), timeout=30, what="scheduler lock taken")
    tenant_id, _, (photo_id,) = seed_complaint(
        real, app=real.app_with(RQ_RETRY_INTERVALS=defaults["RQ_RETRY_INTERVALS"]),
        photos=[("big.jpg", jpeg_bytes((6000, 4500), seed=5))])
    started = Queue(QUEUE_PREFIX + "photos", connection=connection).started_job_registry
    job_id = wait_for(lambda: started.get_job_ids(), timeout=30, interval=0.02,
                      what="job taken")[0].split(":")[0]
    wait_for(lambda: Job.fetch(job_id, connection=connection).get_status() == "started",
             timeout=10, interval=0.02, what="job started")
    before = Job.fetch(job_id, connection=connection).started_at
    if not split:
        real.start_worker(**clocks)  # the survivor, already running as in production
        time.sleep(0.3)
    lease = int(clocks["RQ_SCHEDULER_LOCK_SECONDS"])
    assert all(0 < connection.ttl(lock) <= lease for _ in range(20))  # renewed, never to 61 s
    # The whole machine's share dies at once (OOM killer, container gone): the worker and its
    # scheduler (its process group) and the work horse, which RQ puts in a group of its own.
    horses, dead_owner = _children(first.pid), connection.get(lock)
    os.killpg(first.pid, signal.SIGKILL)
    for pid in horses:
        _kill(pid)
    killed = time.monotonic()
    first.wait()
    wait_for(lambda: not any(_alive(pid) for pid in horses), timeout=10, what="horse dead")
    assert photos_of(real, tenant_id, [photo_id])[0].status == "staged"
    if split:  # the survivor's scheduler runs with the other queues while photos' lock lapses
        real.start_worker(**clocks)
        other = f"rq:scheduler-lock:{QUEUE_PREFIX}default"
        wait_for(lambda: connection.get(other) not in (None, dead_owner), timeout=30,
                 interval=0.05, what="survivor's scheduler holding the default queue")
        assert connection.get(lock) == dead_owner

    def restarted():
        job = Job.fetch(job_id, connection=connection)
        return job.get_status() in ("started", "finished") and job.started_at != before

    try:
        wait_for(restarted, timeout=60, interval=0.2, what="the job started again")
        recovered = time.monotonic() - killed
        wait_for(lambda: photos_of(real, tenant_id, [photo_id])[0].status == "stored",
                 timeout=60, interval=0.2, what="photo stored")
    except AssertionError:
        print(real.worker_logs())
        raise
    print(f"abandoned job running again {recovered:.1f} s after SIGKILL; "
          f"stored {time.monotonic() - killed:.1f} s after")
    assert recovered < 60


# -- rate-limit counters live in Redis, shared by every web process ----------------------------

def test_rate_limit_counts_live_in_redis_for_every_web_process(real):
    from redis import Redis

    from portal.extensions import limiter

    prefix = f"limits-test-{uuid.uuid4().hex[:8]}"
    settings = {"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": prefix,
                "STAGE_LIMIT_PER_ADDRESS": "2 per hour"}
    connection = Redis.from_url(REDIS_URL)
    try:
        first = real.app_with(**settings)
        tenant_id, slug = _tenant_with_product(real, app=first)

        def stage(app):
            client = app.test_client()
            token = csrf_from(client.get(f"/t/{slug}/complaints/new").get_data(as_text=True))
            return client.post(f"/t/{slug}/photos/stage", data={
                "csrf_token": token, "form_key": "r" * 32,
                "photo": (io.BytesIO(jpeg()), "IMG_4.jpg")}, content_type="multipart/form-data")

        assert [stage(first).status_code for _ in range(2)] == [200, 200]
        assert any(prefix.encode() in key for key in connection.scan_iter(match="LIMITS*"))
        # Another web process (its own app and limiter storage) sees the same count.
        second = real.app_with(**settings)
        refused = stage(second)
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    finally:
        for key in connection.scan_iter(match=f"*{prefix}*"):
            connection.delete(key)
        real.app_with(RATELIMIT_STORAGE_URI="memory://")  # later tests count in memory again
        assert limiter.storage.__class__.__name__ == "MemoryStorage"


# -- the clock schedules housekeeping where the workers listen ----------------------------------

def test_clock_enqueues_housekeeping_on_the_workers_queue(real):
    import subprocess
    import sys

    from redis import Redis
    from rq import Queue

    from .conftest import ROOT

    connection = Redis.from_url(REDIS_URL)
    queue = Queue(QUEUE_PREFIX + "default", connection=connection)
    log = real.instance_dir / "clock.log"
    with open(log, "wb") as out:
        clock = subprocess.Popen([sys.executable, "-m", "flask", "--app", "portal", "clock"],
                                 cwd=ROOT, env=real.worker_env(), stdout=out,
                                 stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def housekeeping_job():
            for job in queue.get_jobs():
                if job.func_name == "jobs.housekeeping.hourly":
                    return job
            return None

        job = wait_for(housekeeping_job, timeout=30, interval=0.2,
                       what="housekeeping enqueued on the prefixed queue")
    finally:
        os.killpg(clock.pid, signal.SIGTERM)
        clock.wait(timeout=15)
    real.start_worker("--burst", "--queues", "default")
    try:
        wait_for(lambda: job.get_status(refresh=True) == "finished", timeout=60,
                 what="housekeeping ran")
    except AssertionError:
        print(log.read_text(errors="replace"), real.worker_logs())
        raise
    assert set(job.return_value()) == {"staged_uploads", "sign_in_failures"}
