"""Watching it: JSON log lines with request ids that reach the jobs a request queued, security
events, /metrics closed to the public and moving with requests and jobs, and Sentry only with
a DSN (events caught in process by a transport, never sent)."""

from __future__ import annotations

import io
import json
import logging
import uuid

import pytest
from prometheus_client.parser import text_string_to_metric_families

from portal import observability, uow
from portal.models import Delivery, OutboxMessage
from portal.tenancy import activate, unscoped
from tests.conftest import csrf_from, make_app


@pytest.fixture
def json_lines(monkeypatch, app):
    """Every log line of the process, as the production handler writes it, parsed."""
    monkeypatch.setitem(app.config, "LOG_FORMAT", "json")
    stream = io.StringIO()
    handler = observability.make_handler("json", stream)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)

    def lines():
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def test_request_lines_are_json_with_the_callers_request_id(client, json_lines):
    response = client.get("/healthz", headers={"X-Request-ID": "edge-4f2a.77"})
    assert response.headers["X-Request-ID"] == "edge-4f2a.77"
    line = next(r for r in json_lines() if r["logger"] == "closeloop.request")
    assert line["request_id"] == "edge-4f2a.77" and line["route"] == "health.healthz"
    assert line["status"] == 200 and line["method"] == "GET" and line["duration_ms"] >= 0
    assert line["level"] == "INFO" and line["time"].endswith("+00:00")
    assert {"time", "level", "logger", "message"} <= set(line)


@pytest.mark.parametrize("given", ["<script>alert(1)</script>", "x" * 300, "a b", ""])
def test_a_hostile_or_missing_request_id_is_replaced(client, json_lines, given):
    response = client.get("/healthz", headers={"X-Request-ID": given})
    generated = response.headers["X-Request-ID"]
    assert generated != given and len(generated) == 32 and generated.isalnum()
    assert json_lines()[-1]["request_id"] == generated


def test_lines_carry_tenant_user_and_route(client, json_lines, make_tenant, make_staff, sign_in):
    tenant = make_tenant()
    staff = make_staff(tenant, "quality")
    assert sign_in(client, tenant, staff.email).status_code == 303
    client.get(f"/t/{tenant.slug}/staff/", headers={"X-Request-ID": "page-1"})
    line = next(r for r in json_lines() if r.get("request_id") == "page-1"
                and r["logger"] == "closeloop.request")
    assert line["tenant"] == tenant.slug and line["user"] == f"staff:{staff.id}"
    assert line["route"] == "internal.index" and line["path"] == "/t/<tenant_slug>/staff/"


def test_the_request_id_reaches_the_job_it_queued_in_process(app, db, make_tenant, json_lines):
    tenant = make_tenant()
    with activate(tenant), observability.bound(request_id="req-in-process-1"):
        from portal.queueing import enqueue

        message = enqueue("jobs.mail.send_email", "a@example.com", "Subject", "Body")
        message_id = message.id
        uow.commit()  # relays in process (no Redis): the job runs now
    with unscoped():
        stored = db.session.get(OutboxMessage, message_id)
        assert stored.request_id == "req-in-process-1" and stored.relayed_at is not None
    job_line = next(r for r in json_lines() if r["logger"] == "closeloop.job")
    assert job_line["request_id"] == "req-in-process-1"
    assert job_line["job"] == "jobs.mail.send_email" and job_line["outcome"] == "ok"
    assert job_line["tenant_id"] == tenant.id
    mail_line = next(r for r in json_lines() if r["logger"] == "portal.mail")
    assert mail_line["request_id"] == "req-in-process-1"


def test_text_format_for_the_demo_console_is_readable():
    stream = io.StringIO()
    handler = observability.make_handler("text", stream)
    logger = logging.getLogger("closeloop.test-text")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with observability.bound(request_id="r1"):
            logger.warning("relay pass failed")
    finally:
        logger.removeHandler(handler)
    line = stream.getvalue().strip()
    assert "WARNING closeloop.test-text: relay pass failed" in line and "request_id=r1" in line
    assert not line.startswith("{")


# -- security events ------------------------------------------------------------------------

@pytest.fixture
def security_events(caplog):
    caplog.set_level(logging.INFO, logger="security")

    def events():
        return [r.fields for r in caplog.records if r.name == "security"]

    return events


def test_sign_ins_and_failed_sign_ins_are_security_events(client, make_tenant, make_staff,
                                                         sign_in, security_events):
    tenant = make_tenant()
    staff = make_staff(tenant, "quality")
    assert sign_in(client, tenant, staff.email, password="wrong-password").status_code != 303
    assert sign_in(client, tenant, staff.email).status_code == 303
    events = security_events()
    failed = next(e for e in events if e["event"] == "sign_in_failed")
    assert failed["email"] == staff.email and failed["kind"] == "StaffUser"
    assert {"event": "sign_in", "user": f"staff:{staff.id}"} in events


def test_operator_sign_ins_are_security_events(client, db, security_events):
    from tests.portal.test_operator import make_operator, operator_sign_in

    operator = make_operator(db, email=f"op-{uuid.uuid4().hex[:6]}@closeloop.example.com")
    assert operator_sign_in(client, operator.email, password="wrong-password-1") \
        .status_code != 303
    assert operator_sign_in(client, operator.email).status_code == 303
    events = security_events()
    assert {"event": "sign_in_failed", "email": operator.email,
            "kind": "PlatformOperator"} in events
    assert {"event": "sign_in", "user": f"operator:{operator.id}"} in events
    assert not [e for e in events if e["event"] == "admin_change"]  # signing in changes nothing


def test_refused_permissions_are_security_events(client, make_tenant, make_staff, sign_in,
                                                 make_complaint, security_events):
    tenant, other = make_tenant(), make_tenant()
    staff = make_staff(tenant, "quality")
    foreign = make_complaint(other)
    sign_in(client, tenant, staff.email)
    assert client.get(f"/t/{tenant.slug}/staff/admin/users").status_code == 403
    assert client.get(f"/t/{tenant.slug}/staff/complaints/{foreign.id}").status_code == 404
    refused = [e for e in security_events() if e["event"] == "permission_refused"]
    assert [e["status"] for e in refused] == [403, 404]


def test_admin_changes_are_security_events(client, make_tenant, make_staff, sign_in,
                                           security_events):
    tenant = make_tenant()
    admin = make_staff(tenant, "admin")
    someone = make_staff(tenant, "quality")
    sign_in(client, tenant, admin.email)
    page = client.get(f"/t/{tenant.slug}/staff/admin/users").get_data(as_text=True)
    response = client.post(f"/t/{tenant.slug}/staff/admin/users/{someone.id}/sign-out-everywhere",
                           data={"csrf_token": csrf_from(page)})
    assert response.status_code in (302, 303)
    assert {"event": "admin_change", "method": "POST"} in security_events()


def test_security_lines_carry_the_request_context(client, make_tenant, make_staff, sign_in,
                                                  json_lines):
    tenant = make_tenant()
    staff = make_staff(tenant, "quality")
    sign_in(client, tenant, staff.email)
    client.get(f"/t/{tenant.slug}/staff/admin/users", headers={"X-Request-ID": "probe-9"})
    line = next(r for r in json_lines() if r["logger"] == "security"
                and r["event"] == "permission_refused")
    assert line["request_id"] == "probe-9"
    assert line["tenant"] == tenant.slug and line["user"] == f"staff:{staff.id}"
    assert line["route"] == "internal.users"


# -- metrics --------------------------------------------------------------------------------

def _scrape(client, **kwargs) -> dict:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.status_code
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_are_closed_to_the_public(app, client, monkeypatch):
    public = {"REMOTE_ADDR": "203.0.113.9"}
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "scrape-secret-1")
    assert client.get("/metrics", environ_base=public).status_code == 403
    assert client.get("/metrics", environ_base=public,
                      headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.get("/metrics", environ_base=public,
                      headers={"Authorization": "Bearer scrape-secret-1"}).status_code == 200
    monkeypatch.setitem(app.config, "METRICS_ALLOW_FROM", ["10.0.0.0/8"])
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
    monkeypatch.setitem(app.config, "METRICS_TOKEN", None)
    assert client.get("/metrics", environ_base=public).status_code == 403
    assert client.get("/metrics").status_code == 403  # 127.0.0.1 is not in the list now


def test_production_allows_no_address_by_default(monkeypatch, tmp_path):
    from portal import config

    monkeypatch.setenv("DATABASE_URL", "postgresql://db/closeloop")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.delenv("METRICS_ALLOW_FROM", raising=False)
    assert config.load(str(tmp_path))["METRICS_ALLOW_FROM"] == []


def test_metric_values_move_with_requests_jobs_outbox_and_deliveries(app, client, db,
                                                                     make_tenant):
    before = _scrape(client)
    for _ in range(3):
        client.get("/healthz")
    tenant = make_tenant()
    with activate(tenant):
        from portal.queueing import enqueue

        enqueue("jobs.mail.send_email", "b@example.com", "S", "T")
        uow.commit()  # runs the job in process
        db.session.add(OutboxMessage(tenant_id=tenant.id, job="jobs.mail.send_email",
                                     args=[], job_id=uuid.uuid4().hex))
        db.session.add(Delivery(channel="wecom", target="https://robot.example.com",
                                status="failed"))
        db.session.flush()
    after = _scrape(client)
    count = "closeloop_http_request_duration_seconds_count"
    labels = {"endpoint": "health.healthz", "method": "GET", "status": "200"}
    assert _value(after, count, **labels) == _value(before, count, **labels) + 3
    job = {"job": "jobs.mail.send_email", "outcome": "ok"}
    assert _value(after, "closeloop_jobs_total", **job) == \
        _value(before, "closeloop_jobs_total", **job) + 1
    assert _value(after, "closeloop_job_duration_seconds_count", job="jobs.mail.send_email") \
        == _value(before, "closeloop_job_duration_seconds_count", job="jobs.mail.send_email") + 1
    assert _value(after, "closeloop_outbox_pending") == _value(before, "closeloop_outbox_pending") + 1
    assert _value(after, "closeloop_outbox_lag_seconds") >= 0
    assert _value(after, "closeloop_deliveries_failed", channel="wecom") == \
        _value(before, "closeloop_deliveries_failed", channel="wecom") + 1


def test_a_failed_job_is_counted_and_logged_as_failed(app, client, db, make_tenant,
                                                      monkeypatch, json_lines):
    monkeypatch.setitem(app.config, "MAIL_URL", "smtp://127.0.0.1:1")  # nobody listens there
    before = _scrape(client)
    tenant = make_tenant()
    with activate(tenant), observability.bound(request_id="req-failing-1"):
        from portal.queueing import enqueue

        message_id = enqueue("jobs.mail.send_email", "c@example.com", "S", "T").id
        uow.commit()  # in process: the send fails, the message stays for the relay's retry
    with unscoped():
        assert db.session.get(OutboxMessage, message_id).attempts == 1
    after = _scrape(client)
    failed = {"job": "jobs.mail.send_email", "outcome": "failed"}
    assert _value(after, "closeloop_jobs_total", **failed) == \
        _value(before, "closeloop_jobs_total", **failed) + 1
    line = next(r for r in json_lines() if r["logger"] == "closeloop.job")
    assert line["level"] == "WARNING" and line["outcome"] == "failed"
    assert line["request_id"] == "req-failing-1"


# -- Sentry ---------------------------------------------------------------------------------

def test_sentry_only_with_a_dsn_and_errors_reach_it(pg_schema, app):
    import sentry_sdk
    from sentry_sdk.transport import Transport

    assert observability.init_sentry(app) is False  # no SENTRY_DSN in the test settings
    assert not sentry_sdk.get_client().is_active()

    class Capture(Transport):
        def __init__(self):
            super().__init__()
            self.envelopes = []

        def capture_envelope(self, envelope):
            self.envelopes.append(envelope)

    capture = Capture()
    reported = make_app(pg_schema, SENTRY_DSN="https://public@sentry.example.com/1",
                        SENTRY_TRANSPORT=capture)
    try:
        assert sentry_sdk.get_client().is_active()

        @reported.get("/test-boom/<token>")
        def boom(token):
            raise RuntimeError("boom for sentry")

        reported.config["PROPAGATE_EXCEPTIONS"] = False
        assert reported.test_client().get("/test-boom/secret-token-1?x=secret-2").status_code \
            == 500
        sentry_sdk.flush()
        events = [item.payload.json for envelope in capture.envelopes
                  for item in envelope.items if item.type == "event"]
        event = next(e for e in events
                     if e["exception"]["values"][-1]["value"] == "boom for sentry")
        assert event["request"]["url"] == "/test-boom/<token>"
        assert "secret" not in json.dumps(event["request"])
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.init()  # an inactive client for the rest of the session
        with reported.app_context():
            from portal.extensions import db

            db.engine.dispose()


# -- several gunicorn workers -----------------------------------------------------------------

def test_metrics_add_up_across_gunicorn_workers(tmp_path):
    """Two gunicorn workers in prometheus' multiprocess mode: whichever worker answers the
    scrape counts the requests both served."""
    import os
    import re
    import socket
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    multiproc = tmp_path / "prometheus"
    multiproc.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("S3_", "AWS_", "REDIS", "DATABASE", "CLOSELOOP_", "FLASK_"))}
    (multiproc / "histogram_99999999.db").write_bytes(b"stale")  # a previous run's file
    conf = tmp_path / "gunicorn.conf.py"
    conf.write_text("from portal.metrics import child_exit, on_starting  # noqa: F401\n")
    env.update(INSTANCE_PATH=str(tmp_path / "instance"), PYTHONPATH=str(root),
               PROMETHEUS_MULTIPROC_DIR=str(multiproc), METRICS_TOKEN="scrape-token",
               PYTHONWARNINGS="ignore", STATIC_HASHED="1",  # both workers build it at once
               STATIC_BUILD_DIR=str(tmp_path / "static"))
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "--no-control-socket", "--config", str(conf), "portal:create_app()"],
        cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"

    def get(path, **headers):
        request = urllib.request.Request(base + path, headers=headers)
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()

    def static_headers(path):
        request = urllib.request.Request(base + path, headers={"Accept-Encoding": "br"})
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
            return response.headers

    def up():
        try:
            return get("/healthz")[0] == 200
        except OSError:
            return False

    try:
        deadline = time.monotonic() + 60
        while not up():
            assert time.monotonic() < deadline and web.poll() is None, "gunicorn did not start"
            time.sleep(0.2)
        def pids():
            return {p.name.split("_")[-1] for p in multiproc.glob("*.db")}

        sent = 0  # until both workers have served some (the kernel picks who accepts)
        while sent < 40 or (len(pids()) < 2 and sent < 2000):
            get("/healthz", Connection="close")
            sent += 1
        assert len(pids()) >= 2, "both workers served and wrote their share"

        def served() -> float:
            _, text = get("/metrics", Authorization="Bearer scrape-token")
            return sum(s.value for f in text_string_to_metric_families(text) for s in f.samples
                       if s.name == "closeloop_http_request_duration_seconds_count"
                       and s.labels["endpoint"] == "health.healthz")

        counts = {served() for _ in range(6)}
        assert len(counts) == 1 and counts.pop() >= sent + 1  # the same sum from either worker
        assert "99999999.db" not in pids(), "on_starting emptied the directory"

        try:  # any page through the real server: its static URLs are hashed and served so
            get("/no-such-page")
        except urllib.error.HTTPError as missing:
            page = missing.read().decode()
        urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
        assert len(urls) >= 3
        for url in urls:
            assert re.search(r"\.[0-9a-f]{12}\.", url), url
            headers = static_headers(url)
            assert "immutable" in headers["Cache-Control"] and "31536000" in headers["Cache-Control"]
            assert headers["Content-Encoding"] == "br"
    finally:
        web.terminate()
        web.wait(timeout=30)
