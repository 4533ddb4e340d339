"""Photos through the real thing: `flask worker` processes, Redis (database 3), moto's S3
over HTTP. Slow-ish (a few seconds each); they prove nothing is lost or doubled whatever
Redis, S3 or a worker does."""

from __future__ import annotations

import os
import signal
import time
import uuid

import pytest

from portal import uow
from portal.models import Complaint, OutboxMessage, Photo
from portal.queueing import enqueue
from portal.storage import get_storage, tenant_key

from .conftest import CLOSED_PORT, PROXY_PORT, QUEUE_PREFIX, REDIS_URL, needs_services, wait_for
from .images import assert_no_metadata, bomb_png, heic_bytes, jpeg_bytes

pytestmark = [needs_services, pytest.mark.services]


def seed_complaint(real, app=None, photos=()) -> tuple[int, int, list[int]]:
    """Commit a tenant, a complaint and its staged photos (what the upload view does), and
    let uow.commit() relay the jobs. Returns (tenant id, complaint id, photo ids)."""
    from portal.complaints.operations import submit_complaint
    from portal.models import Contact, CustomerCompany, Tenant

    app = app or real.app
    with real.tenant_context(app=app) as db:
        tenant = Tenant(slug=f"t{uuid.uuid4().hex[:8]}", name="Photo Works")
        db.session.add(tenant)
        db.session.commit()
        tenant_id = tenant.id
    with real.tenant_context(tenant_id, app=app) as db:
        tenant = db.session.get(Tenant, tenant_id)
        company = CustomerCompany(name="Buyer Ltd")
        db.session.add(company)
        db.session.flush()
        contact = Contact(company_id=company.id, email=f"{uuid.uuid4().hex[:6]}@buyer.example.com",
                          name="Buyer")
        db.session.add(contact)
        db.session.flush()
        complaint, _ = submit_complaint(tenant, contact, data={
            "reporter_name": "Buyer", "reporter_email": contact.email, "title": "Cracked housing",
            "description": "The housing cracked.", "defect_quantity": 1, "demands": ["answer"]})
        photo_ids = []
        for filename, data in photos:
            key = tenant_key(tenant_id, "staging", uuid.uuid4().hex)
            get_storage().put(key, data, "application/octet-stream")
            photo = Photo(complaint_id=complaint.id, uploaded_by=f"contact:{contact.id}",
                          original_filename=filename, size_bytes=len(data), staging_key=key)
            db.session.add(photo)
            db.session.flush()
            enqueue("jobs.photos.process_photo", photo.id, queue="photos")
            photo_ids.append(photo.id)
        complaint_id = complaint.id
        uow.commit()
    return tenant_id, complaint_id, photo_ids


def photos_of(real, tenant_id, ids) -> list[Photo]:
    with real.tenant_context(tenant_id) as db:
        rows = [db.session.get(Photo, i) for i in ids]
        for row in rows:
            db.session.expunge(row)
        return rows


def wait_done(real, tenant_id, ids, timeout=60):
    try:
        return wait_for(lambda: (lambda rows: rows if all(r.status != "staged" for r in rows)
                                 else None)(photos_of(real, tenant_id, ids)),
                        timeout=timeout, interval=0.2, what="photos processed")
    except AssertionError:
        print(real.worker_logs())
        raise


def photo_objects(real, tenant_id, photo_id) -> list[str]:
    return real.s3_keys(f"t/{tenant_id}/photos/{photo_id}/")


def test_heic_comes_out_as_jpeg_and_thumbnails_without_gps_and_bad_files_are_rejected(real):
    tenant_id, _, (heic, bomb, fake) = seed_complaint(real, photos=[
        ("IMG_0042.HEIC", heic_bytes((1200, 900))),
        ("bomb.png", bomb_png()),
        ("invoice.jpg", b"\xff\xd8\xff\xe0" + os.urandom(4000)),  # JPEG magic, not a JPEG
    ])
    real.start_worker("--burst")
    heic_row, bomb_row, fake_row = wait_done(real, tenant_id, [heic, bomb, fake])

    assert heic_row.status == "stored", heic_row.rejection_reason
    keys = photo_objects(real, tenant_id, heic)
    assert keys == sorted([heic_row.original_key, heic_row.large_key, heic_row.thumb_key])
    for key in keys:
        assert_no_metadata(real.s3_get(key))
    assert (heic_row.width, heic_row.height) == (900, 1200)
    assert bomb_row.status == "rejected" and "too many pixels" in bomb_row.rejection_reason
    assert fake_row.status == "rejected" and fake_row.rejection_reason
    assert photo_objects(real, tenant_id, bomb) == photo_objects(real, tenant_id, fake) == []
    assert real.s3_keys(f"t/{tenant_id}/staging/") == []  # staged bytes removed


def test_s3_failing_first_then_recovering_stores_the_photo_once(real):
    tenant_id, _, (photo_id,) = seed_complaint(real, photos=[("a.jpg", jpeg_bytes((1600, 1200)))])
    # The worker reaches S3 only through the proxy, which drops its first 8 connections:
    # boto3's own three attempts fail twice over, so RQ has to retry the job.
    real.proxy.refuse = 8
    real.start_worker(S3_ENDPOINT_URL=f"http://127.0.0.1:{PROXY_PORT}")
    (row,) = wait_done(real, tenant_id, [photo_id])
    assert row.status == "stored"
    assert real.proxy.refused == 8
    assert len(photo_objects(real, tenant_id, photo_id)) == 3
    assert real.s3_keys(f"t/{tenant_id}/staging/") == []
    from redis import Redis
    from rq.job import Job

    with real.tenant_context() as db:
        job_id = db.session.scalars(db.select(OutboxMessage.job_id).where(
            OutboxMessage.tenant_id == tenant_id,
            OutboxMessage.job == "jobs.photos.process_photo")).one()
    job = Job.fetch(job_id, connection=Redis.from_url(REDIS_URL))
    assert job.get_status() == "finished" and job.retries_left < 5  # RQ retried it


def test_redis_down_at_submission_keeps_the_complaint_and_runs_its_jobs_later(real):
    down = real.app_with(REDIS_URL=f"redis://127.0.0.1:{CLOSED_PORT}/3")
    tenant_id, complaint_id, (photo_id,) = seed_complaint(
        real, app=down, photos=[("b.jpg", jpeg_bytes((800, 600)))])
    with real.tenant_context(tenant_id) as db:
        assert db.session.get(Complaint, complaint_id) is not None
        pending = db.session.query(OutboxMessage).filter(
            OutboxMessage.tenant_id == tenant_id, OutboxMessage.relayed_at.is_(None)).all()
        assert pending and all(m.attempts >= 1 and "Connection" in m.last_error for m in pending)
    assert photos_of(real, tenant_id, [photo_id])[0].status == "staged"

    real.start_worker("--burst")  # Redis is back: the worker's relay moves the outbox first
    (row,) = wait_done(real, tenant_id, [photo_id])
    assert row.status == "stored"
    assert len(photo_objects(real, tenant_id, photo_id)) == 3
    with real.tenant_context(tenant_id) as db:
        assert db.session.query(OutboxMessage).filter(
            OutboxMessage.tenant_id == tenant_id, OutboxMessage.relayed_at.is_(None)).count() == 0


def test_worker_killed_mid_job_still_stores_the_photo_once(real):
    from redis import Redis
    from rq import Queue
    from rq.job import Job

    first = real.start_worker()
    # Zero retry interval: RQ's scheduler lock stays with the dead worker for another minute,
    # so a retry that must wait for the scheduler would wait that long.
    tenant_id, _, (photo_id,) = seed_complaint(
        real, app=real.app_with(RQ_RETRY_INTERVALS=[0, 0, 0]),
        photos=[("big.jpg", jpeg_bytes((6000, 4500), seed=3))])
    connection = Redis.from_url(REDIS_URL)
    started = Queue(QUEUE_PREFIX + "photos", connection=connection).started_job_registry
    job_id = wait_for(lambda: started.get_job_ids(), timeout=30, interval=0.02,
                      what="job taken")[0].split(":")[0]
    # The work horse marks the job started a moment after the worker registers it; a kill
    # inside that gap leaves a job RQ's cleanup skips (a gap in RQ itself, see the report).
    wait_for(lambda: Job.fetch(job_id, connection=connection).get_status() == "started",
             timeout=10, interval=0.02, what="job started")
    time.sleep(0.3)
    os.killpg(first.pid, signal.SIGKILL)  # the worker and its work horse, mid-job
    first.wait()
    assert photos_of(real, tenant_id, [photo_id])[0].status == "staged"

    # A new worker's maintenance finds the abandoned job once its heartbeat lapses (seconds
    # here, via RQ_HEARTBEAT_GRACE) and requeues it.
    real.start_worker()
    (row,) = wait_done(real, tenant_id, [photo_id], timeout=60)
    assert row.status == "stored"
    keys = photo_objects(real, tenant_id, photo_id)
    assert len(keys) == 3 and all(k.startswith(f"t/{tenant_id}/photos/{photo_id}/") for k in keys)
    assert real.s3_keys(f"t/{tenant_id}/staging/") == []
