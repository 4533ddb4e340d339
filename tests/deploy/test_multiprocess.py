"""Two machines' worth of processes without containers: two web processes (the Procfile's
gunicorn command, each its own instance) behind Debian's nginx with deploy/'s proxy settings,
two `flask --app portal worker` processes and the `flask --app portal clock`, over one
PostgreSQL schema, one Redis and moto's S3.

Customers file complaints with photos through the proxy from three threads; one web process
and then one worker with a photo job in its hands are killed with SIGKILL mid-way, and the
surviving worker must run the abandoned job again within a minute. A client whose request died retries it as a
browser does (same form, same submission key). Every complaint must arrive once and every
photo once, processed into S3. And a change made through one web process (a new department)
must show in the other's queue filters on the very next request.
"""

from __future__ import annotations

import io
import re
import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from PIL import Image
from sqlalchemy import func, select

from portal.models import Complaint, Photo, StaffUser, Tenant
from tests.conftest import _PASSWORD_HASH, PASSWORD
from tests.customer.conftest import VALID
from tests.customer.test_browser import _seed

from .conftest import nginx, wait_for

pytestmark = pytest.mark.deployment

FILINGS = 6
PHOTOS_EACH = 2


def _hidden(page: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)
    return re.search(r'value="([^"]*)"', tag).group(1)


def _photo(n: int) -> bytes:
    """Every other one phone-sized (4000 x 3000: a second or more of a worker's time, so a
    worker is often caught with one in its hands) but small on the wire (a gradient)."""
    if n % 2 == 0:
        image = Image.effect_noise((640, 480), 60).convert("RGB")
    else:
        image = Image.linear_gradient("L").resize((4000, 3000)).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


class PhotoJobs:
    """The photos queue's jobs as RQ sees them in Redis (the deploy stack's prefix)."""

    def __init__(self, prefix: str, processes):
        from redis import Redis
        from rq import Queue

        from .conftest import REDIS_URL

        self.connection = Redis.from_url(REDIS_URL)
        self.started = Queue(prefix + "photos", connection=self.connection).started_job_registry
        self.processes = {p.pid: p for p in processes}

    def in_flight(self):
        """(job id, its started_at, the worker process running it) for a job being run now."""
        from rq import Worker
        from rq.job import Job

        for entry in self.started.get_job_ids():
            job = Job.fetch(entry.split(":")[0], connection=self.connection)
            if job.get_status() != "started" or not job.worker_name:
                continue
            worker = Worker.find_by_key(Worker.redis_worker_namespace_prefix + job.worker_name,
                                        connection=self.connection)
            if worker is not None and worker.pid in self.processes:
                return job.id, job.started_at, self.processes[worker.pid]
        return None

    def frozen_mid_job(self, stack):
        """A worker stopped (SIGSTOP, with its work horse) while a photo job is still running
        in it, so that the SIGKILL that follows certainly lands mid-job; None (and the worker
        thawed) when the job finished before the worker stood still."""
        from rq.job import Job

        found = self.in_flight()
        if found is None:
            return None
        job_id, before, process = found
        stack.signal_all(process, signal.SIGSTOP)
        job = Job.fetch(job_id, connection=self.connection)
        if job.get_status() == "started" and job.started_at == before:
            return found
        stack.signal_all(process, signal.SIGCONT)
        return None

    def state(self, job_id: str) -> str:
        """What RQ holds about the job and the photos queue's locks (for a failure message)."""
        from rq.job import Job

        job = Job.fetch(job_id, connection=self.connection)
        locks = {key.decode(): (self.connection.get(key), self.connection.ttl(key))
                 for key in self.connection.scan_iter(match="rq:scheduler-lock:*")
                 if self.started.name.rsplit("photos", 1)[0] in key.decode()}
        return (f"job {job_id}: {job.get_status()}, retries left {job.retries_left}, "
                f"started {job.started_at}, worker {job.worker_name}; "
                f"started registry {self.started.get_job_ids()}; locks {locks}")

    def handed_back(self, job_id: str, before) -> bool:
        """The abandoned job is out of the dead worker's hands: found by a maintenance pass
        and queued again (or scheduled for its retry, or already running again). When it runs
        depends on the photos queued before it, not on the recovery."""
        from rq.job import Job

        job = Job.fetch(job_id, connection=self.connection)
        return job.get_status() in ("queued", "scheduled") or job.started_at != before


class Customer:
    """A browser without JavaScript filing through the proxy; retries what the network lost."""

    def __init__(self, base: str, slug: str, n: int, photos: list[bytes]):
        self.http = requests.Session()
        self.http.headers["Connection"] = "close"
        self.url = f"{base}/t/{slug}/complaints/new"
        self.n = n
        self.photos = photos
        self.retries = 0

    def _send(self, call):
        for _ in range(60):
            try:
                response = call()
            except requests.ConnectionError:
                response = None
            if response is not None and response.status_code not in (502, 503, 504):
                return response
            self.retries += 1
            time.sleep(0.25)  # a person tapping "retry"
        raise AssertionError("gave up")

    def file(self) -> str:
        page = self._send(lambda: self.http.get(self.url, timeout=30)).text
        data = dict(VALID, reporter_email=f"filer{self.n}@example.com",
                    csrf_token=_hidden(page, "csrf_token"),
                    submission_key=_hidden(page, "submission_key"),
                    description=f"Complaint {self.n}: display stays dark.")
        files = [("photos", (f"p{self.n}-{i}.jpg", content, "image/jpeg"))
                 for i, content in enumerate(self.photos)]
        # A patient browser: on a loaded machine a filing can take a minute (no retry while
        # the first request may still be running).
        response = self._send(lambda: self.http.post(self.url, data=data, files=files,
                                                     timeout=180, allow_redirects=False))
        assert response.status_code == 303, response.text[:2000]
        assert response.headers["Location"].endswith("/filed")
        return data["submission_key"]


def _staff_session(url: str, slug: str, email: str) -> requests.Session:
    http = requests.Session()
    http.headers["Connection"] = "close"  # no idle keep-alive holding gunicorn's shutdown
    sign_in = f"{url}/t/{slug}/staff/sign-in"
    token = _hidden(http.get(sign_in, timeout=30).text, "csrf_token")
    response = http.post(sign_in, data={"csrf_token": token, "email": email,
                                        "password": PASSWORD, "next": ""},
                         allow_redirects=False, timeout=30)
    assert response.status_code == 303, response.text[:1000]
    return http


def _check_cache_across_processes(url_a: str, url_b: str, slug: str, admin: str) -> None:
    """A department created through web A is a queue filter on web B at once."""
    on_a, on_b = _staff_session(url_a, slug, admin), _staff_session(url_b, slug, admin)
    queue_b = f"{url_b}/t/{slug}/staff/"
    assert on_b.get(queue_b, timeout=30).status_code == 200  # B has cached its filter choices
    name = f"Dept {uuid.uuid4().hex[:6]}"
    page = f"{url_a}/t/{slug}/staff/admin/departments"
    token = _hidden(on_a.get(page, timeout=30).text, "csrf_token")
    created = on_a.post(page, data={"csrf_token": token, "name": name, "kind": "quality",
                                    "manager_id": "0"}, allow_redirects=False, timeout=30)
    assert created.status_code == 303, created.text[:1000]
    assert name in on_b.get(queue_b, timeout=30).text, "web B still shows its old choices"


def test_a_web_process_and_a_worker_killed_mid_way_lose_and_double_nothing(stack):
    world = _seed(stack, "en")
    slug, tenant_id = world["slug"], world["tenant_id"]
    admin = f"admin@{slug}.example.com"
    with stack.seed(tenant_id) as db:
        db.session.get(Tenant, tenant_id).settings = {"filing_limit_per_hour": 100}
        db.session.add(StaffUser(email=admin, name="Admin", roles=["admin"],
                                 password_hash=_PASSWORD_HASH))

    started = time.monotonic()
    web_a, url_a = stack.start_web("web-a", WEB_CONCURRENCY=1, PROXY_HOPS=1)
    web_b, url_b = stack.start_web("web-b", WEB_CONCURRENCY=1, PROXY_HOPS=1)
    workers = [stack.start("worker", f"worker-{i}") for i in range(2)]
    clock = stack.start("clock", "clock")

    _check_cache_across_processes(url_a, url_b, slug, admin)
    print(f"processes up and cache checked: {time.monotonic() - started:.1f} s")

    photos = [_photo(i) for i in range(PHOTOS_EACH)]
    jobs = PhotoJobs(stack.prefix, workers)
    backends = [u.removeprefix("http://") for u in (url_a, url_b)]
    done = []
    halfway = threading.Event()
    with nginx(backends) as (proxy, nginx_dir):
        customers = [Customer(proxy, slug, n, photos) for n in range(FILINGS)]

        def file(customer):
            key = customer.file()
            done.append(key)
            if len(done) >= FILINGS // 3:
                halfway.set()
            return key

        with ThreadPoolExecutor(3) as pool:
            futures = [pool.submit(file, c) for c in customers]
            wait_for(lambda: halfway.is_set() or any(f.done() and f.exception() for f in futures),
                     120, 0.05, what=lambda: "a third of the filings\n" + stack.logs())
            assert halfway.is_set(), \
                f"{next(f.exception() for f in futures if f.done())}\n{stack.logs()}"
            stack.kill(web_a, signal.SIGKILL)
            # A worker dies with a photo in its hands (its work horse and scheduler with it).
            job_id, before, dead = wait_for(lambda: jobs.frozen_mid_job(stack), 120, 0.02,
                                            what=lambda: "a photo job running\n" + stack.logs())
            stack.kill(dead, signal.SIGKILL)
            killed = time.monotonic()
            # While filing goes on, the survivor hands the abandoned job back to the queue
            # within a minute of the kill (production's clocks); every photo, that one
            # included, is then processed (awaited below).
            wait_for(lambda: jobs.handed_back(job_id, before), 60, 0.2,
                     what=lambda: f"the dead worker's photo job queued again\n"
                                  f"{jobs.state(job_id)}\n{stack.logs()}")
            print(f"abandoned photo job queued again {time.monotonic() - killed:.1f} s "
                  "after SIGKILL")
            try:
                keys = [f.result(timeout=180) for f in futures]
            except AssertionError as exc:
                raise AssertionError(f"{exc}\n{stack.logs()}") from exc
        upstream_errors = (nginx_dir / "nginx-error.log").read_text()
    survivor = next(w for w in workers if w is not dead)

    print(f"filed: {time.monotonic() - started:.1f} s")
    assert len(set(keys)) == FILINGS
    with stack.seed(tenant_id) as db:
        filed = db.session.execute(select(Complaint.submission_key, func.count())
                                   .group_by(Complaint.submission_key)).all()
    assert sorted(filed) == sorted((k, 1) for k in keys), "a complaint lost or filed twice"

    def processed():
        with stack.seed(tenant_id) as db:
            rows = db.session.execute(select(Photo.status, Photo.staging_key)).all()
        return len(rows) == FILINGS * PHOTOS_EACH and all(
            status == "stored" and key is None for status, key in rows)

    wait_for(processed, 180, 0.5, what=lambda: "every photo processed\n" + stack.logs())
    print(f"photos processed: {time.monotonic() - started:.1f} s")
    with stack.seed(tenant_id) as db:
        photos_by_complaint = db.session.execute(
            select(Complaint.submission_key, func.count(Photo.id), func.array_agg(Photo.thumb_key),
                   func.array_agg(Photo.large_key), func.array_agg(Photo.original_key))
            .join(Photo, Photo.complaint_id == Complaint.id)
            .group_by(Complaint.submission_key)).all()
    assert {row[0]: row[1] for row in photos_by_complaint} == {k: PHOTOS_EACH for k in keys}
    # Photos staged by requests that died with web A never became part of a complaint: the
    # clock's hourly housekeeping deletes them once they are a day old (run here a day on).
    from datetime import timedelta

    from portal.models import utcnow
    from portal.photos import purge_orphaned_staging

    with stack.seed():
        purge_orphaned_staging(now=utcnow() + timedelta(days=2))
    in_s3 = set(stack.s3_keys(f"t/{tenant_id}/"))
    derived = {key for row in photos_by_complaint for column in row[2:] for key in column}
    assert derived <= in_s3, sorted(derived - in_s3)[:5]
    assert not [k for k in in_s3 if "/staging/" in k], "staged bytes left behind"
    photo_objects = {k for k in in_s3 if f"t/{tenant_id}/photos/" in k}
    assert photo_objects == derived, "an object in S3 that no photo owns"

    assert f"upstream: \"http://{backends[0]}" in upstream_errors  # A failed, B took over
    # the clock's sweep (enqueued when it starts, then every minute) ran on a worker
    wait_for(lambda: "Successfully completed jobs.sweep.sweep(" in "".join(
        stack.log(w) for w in workers), 90, 0.5, what=lambda: "the sweep\n" + stack.logs())
    assert web_b.poll() is None and survivor.poll() is None and clock.poll() is None, \
        stack.logs()
    retries = sum(c.retries for c in customers)
    print(f"retries by customers: {retries}; nginx errors naming web A: "
          f"{upstream_errors.count(backends[0])}")
