"""Backups restore: the README's procedure, run for real. A production-like system (its own
PostgreSQL database, Redis, moto's S3) takes a complaint with photos through the Procfile's
web process and processes them with its worker; then the backup as the README says
(`pg_dump --format=custom` of the database, a copy of every object of the bucket into the
backup bucket), and the restore in the README's order into an EMPTY database and bucket. A web
process started on the restored pair serves the complaint and its photos, byte for byte.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
import uuid

import pytest
import requests
import sqlalchemy as sa
from sqlalchemy import select

from portal.models import Complaint, Photo
from tests.conftest import DATABASE_URL, PASSWORD
from tests.customer.conftest import VALID
from tests.customer.test_browser import _seed

from .conftest import Stack, wait_for
from .test_multiprocess import _hidden, _photo

pytestmark = pytest.mark.deployment

SERVER = DATABASE_URL.rsplit("/", 1)[0]  # postgresql://postgres@127.0.0.1:5432


def _admin(sql: str) -> None:
    engine = sa.create_engine(SERVER.replace("postgresql://", "postgresql+psycopg://", 1)
                              + "/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(sql))
    engine.dispose()


@pytest.fixture
def databases():
    """Two empty databases of their own: the live one and the one restored into."""
    if DATABASE_URL.startswith("sqlite"):
        pytest.skip("needs PostgreSQL")
    for tool in ("pg_dump", "pg_restore"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed (.ci/run installs postgresql-client)")
    names = [f"closeloop_{kind}_{uuid.uuid4().hex[:8]}" for kind in ("live", "restored")]
    for name in names:
        _admin(f'CREATE DATABASE "{name}"')
    try:
        yield [f"{SERVER}/{name}" for name in names]
    finally:
        for name in names:
            _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _signed_in(url: str, slug: str, email: str) -> requests.Session:
    http = requests.Session()
    http.headers["Connection"] = "close"  # no idle keep-alive holding gunicorn's shutdown
    page = f"{url}/t/{slug}/sign-in"
    token = _hidden(http.get(page, timeout=30).text, "csrf_token")
    response = http.post(page, data={"csrf_token": token, "email": email, "password": PASSWORD,
                                     "next": ""}, allow_redirects=False, timeout=30)
    assert response.status_code == 303, response.text[:1000]
    return http


def test_a_dump_and_a_bucket_copy_restore_into_empty_ones(databases, moto_s3, tmp_path):
    from flask_migrate import upgrade

    from portal.extensions import db

    live_url, restored_url = databases
    live = Stack(None, moto_s3, tmp_path / "live", database_url=live_url)
    (tmp_path / "live").mkdir()
    with live.app.app_context():
        upgrade()
        db.engine.dispose()
    backup_bucket = f"closeloop-restored-{uuid.uuid4().hex[:8]}"
    live.s3().create_bucket(Bucket=backup_bucket)
    restored = None
    started = time.monotonic()

    def lap(what):
        print(f"{what}: {time.monotonic() - started:.1f} s")

    try:
        world = _seed(live, "en")
        slug = world["slug"]
        web, url = live.start_web("web-live", WEB_CONCURRENCY=1)
        live.start("worker", "worker-live")
        http = _signed_in(url, slug, world["contact_email"])
        form = http.get(f"{url}/t/{slug}/complaints/new", timeout=30).text
        data = {k: v for k, v in VALID.items() if not k.startswith("reporter_")}
        data.update(csrf_token=_hidden(form, "csrf_token"),
                    submission_key=_hidden(form, "submission_key"))
        photos = [_photo(n) for n in range(2)]
        filed = http.post(f"{url}/t/{slug}/complaints/new", data=data, allow_redirects=False,
                          files=[("photos", (f"p{n}.jpg", p, "image/jpeg"))
                                 for n, p in enumerate(photos)], timeout=60)
        assert filed.status_code == 303, filed.text[:2000]
        number = re.search(r"/complaints/([^/]+)/filed$", filed.headers["Location"]).group(1)

        def processed():
            with live.seed(world["tenant_id"]) as db_:
                return db_.session.scalars(select(Photo.id).where(Photo.status == "stored")).all()

        stored = wait_for(lambda: len(processed()) == 2 and processed(), 60, 0.3,
                          what="photos processed\n" + live.logs())
        live_pages = {pid: http.get(f"{url}/t/{slug}/complaints/{number}/photos/{pid}/large",
                                    timeout=30).content for pid in stored}
        lap("filed and processed")
        live.stop_all()
        lap("stopped")

        # -- backup, as the README says -------------------------------------------------------
        dump = tmp_path / "closeloop.dump"
        subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--file", str(dump),
                        live_url], check=True, capture_output=True, timeout=120)
        s3 = live.s3()
        for key in live.s3_keys():  # what `mc mirror` / `aws s3 sync` do
            s3.copy_object(Bucket=backup_bucket, Key=key,
                           CopySource={"Bucket": live.bucket, "Key": key})

        lap("backed up")
        # -- restore into an empty database and bucket, then start the app on them ----------
        subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "--dbname", restored_url,
                        str(dump)], check=True, capture_output=True, timeout=120)
        restored = Stack(None, moto_s3, tmp_path / "restored", database_url=restored_url,
                         bucket=backup_bucket)
        (tmp_path / "restored").mkdir()
        check = subprocess.run(["flask", "--app", "portal", "db", "current"], cwd=restored.dir,
                               env=restored.env(), capture_output=True, text=True, timeout=60)
        assert "(head)" in check.stdout, check.stdout + check.stderr
        lap("restored")
        web, url = restored.start_web("web-restored", WEB_CONCURRENCY=1)
        lap("restored web up")
        http = _signed_in(url, slug, world["contact_email"])
        page = http.get(f"{url}/t/{slug}/complaints/{number}", timeout=30)
        assert page.status_code == 200 and number in page.text
        assert "Display stays dark after power on." in page.text
        for pid in stored:
            served = http.get(f"{url}/t/{slug}/complaints/{number}/photos/{pid}/large",
                              timeout=30)
            assert served.status_code == 200, served.url
            assert served.content[:3] == b"\xff\xd8\xff"
            assert served.content == live_pages[pid]
            assert backup_bucket in served.url or served.url.startswith(url)
        with restored.seed(world["tenant_id"]) as db_:
            complaint = db_.session.scalar(select(Complaint).where(Complaint.number == number))
            assert len(complaint.photos) == 2
    finally:
        live.stop_all()
        live.flush_redis()
        with live.app.app_context():
            db.engine.dispose()
        if restored is not None:
            restored.stop_all()
            restored.flush_redis()
            with restored.app.app_context():
                db.engine.dispose()
