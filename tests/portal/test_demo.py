"""The one-command demo: from an empty directory it creates the embedded database, seeds both
tenants, prints the sign-ins and serves the landing pages."""

import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _clean_env(instance: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "S3_BUCKET", "S3_ENDPOINT_URL", "MAIL_URL",
                        "SECRET_KEY", "CLOSELOOP_ENV"}}
    env["INSTANCE_PATH"] = str(instance)
    # Importable as installed (pip install -e .) or straight from this checkout.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    instance = tmp_path_factory.mktemp("empty-instance")
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "portal", "demo", "--port", str(port)],
        cwd=tmp_path_factory.mktemp("cwd"), env=_clean_env(instance), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    output = []
    # The demo prints every e-mail it sends: read its console as it goes, or a full pipe
    # blocks the server mid-request.
    reader = threading.Thread(target=lambda: output.extend(process.stdout), daemon=True)
    reader.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1)
            break
        except OSError:
            if process.poll() is not None:
                reader.join(10)
                raise AssertionError("demo exited:\n" + "".join(output)) from None
            time.sleep(0.3)
    else:
        process.kill()
        raise AssertionError("demo did not start in time")
    yield base, instance, process, output
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    reader.join(10)
    process.stdout.close()


def _get(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode()


def test_demo_serves_the_landing_pages(demo_server):
    base, instance, _process, _ = demo_server
    assert (instance / "closeloop.sqlite3").exists()
    assert (instance / "secret_key").exists()
    status, html = _get(base + "/t/demo/")
    assert status == 200 and "Demo Machinery" in html
    status, html = _get(base + "/t/demo/staff/sign-in")
    assert status == 200 and 'name="email"' in html and 'name="password"' in html
    status, _ = _get(base + "/t/acme/")
    assert status == 200
    status, body = _get(base + "/readyz")
    assert status == 200 and '"ready"' in body


def test_demo_sign_ins_work(demo_server):
    base, *_ = demo_server
    import http.cookiejar

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    for path, email in (("/t/demo/staff/sign-in", "quality@demo.example.com"),
                        ("/t/demo/sign-in", "contact1@customer1.example.com"),
                        ("/t/acme/staff/sign-in", "admin@acme.example.com")):
        page = opener.open(base + path).read().decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({"email": email, "password": "demo-pass-2026",
                                       "csrf_token": token}).encode()
        response = opener.open(base + path, data=data)
        assert "sign-in" not in response.geturl(), (email, response.geturl())


def test_demo_prints_sign_ins_and_is_idempotent(tmp_path):
    env = _clean_env(tmp_path)
    for _ in range(2):  # a second run on the same directory seeds nothing twice
        result = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "portal", "demo", "--no-serve"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
        assert result.returncode == 0, result.stderr
    assert "after-sales@demo.example.com" in result.stdout
    assert "demo-pass-2026" in result.stdout
    assert "admin@acme.example.com" in result.stdout
    assert "clk_demo-erp-mes-token-2026" in result.stdout


def test_demo_has_complaints_in_every_state(tmp_path):
    import sqlite3

    env = _clean_env(tmp_path)
    subprocess.run([sys.executable, "-m", "flask", "--app", "portal", "demo", "--no-serve"],
                   cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180,
                   check=True)
    from portal.complaints.workflow import STATES

    with sqlite3.connect(tmp_path / "closeloop.sqlite3") as conn:
        slug_id = conn.execute("SELECT id FROM tenants WHERE slug='demo'").fetchone()[0]
        states = {row[0] for row in conn.execute(
            "SELECT status FROM complaints WHERE tenant_id=?", (slug_id,))}
        count = conn.execute("SELECT count(*) FROM complaints WHERE tenant_id=? "
                             "AND number NOT LIKE 'QC-%-H%'", (slug_id,)).fetchone()[0]
        # A year of history for the analytics (portal/analytics/demo_history.py).
        history = conn.execute("SELECT count(DISTINCT substr(created_at, 1, 7)) FROM complaints "
                               "WHERE tenant_id=? AND number LIKE 'QC-%-H%'",
                               (slug_id,)).fetchone()[0]
        roles = {row[0] for row in conn.execute(
            "SELECT email FROM staff_users WHERE tenant_id=?", (slug_id,))}
        companies = conn.execute("SELECT count(*) FROM customer_companies WHERE tenant_id=?",
                                 (slug_id,)).fetchone()[0]
        # a corrected and a voided cost entry (portal/complaints/cost_demo.py)
        cost_states = {row[0] for row in conn.execute(
            "SELECT state FROM cost_entries WHERE tenant_id=?", (slug_id,))}
    assert {"active", "corrected", "voided"} <= cost_states
    assert states == set(STATES)
    assert count == 40
    assert history >= 12
    assert companies == 5
    assert {f"{r}@demo.example.com" for r in ("after-sales", "quality", "technical", "responder",
                                              "logistics", "finance", "manager", "admin")} <= roles


def test_demo_shows_a_webhook_and_a_mailbox_switched_off(tmp_path):
    import sqlite3

    env = _clean_env(tmp_path)
    subprocess.run([sys.executable, "-m", "flask", "--app", "portal", "demo", "--no-serve"],
                   cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180,
                   check=True)
    with sqlite3.connect(tmp_path / "closeloop.sqlite3") as conn:
        hooks = conn.execute("SELECT url, enabled FROM webhook_subscriptions").fetchall()
        deliveries = conn.execute("SELECT status FROM webhook_deliveries").fetchall()
        boxes = conn.execute("SELECT address, enabled, password_encrypted FROM mailboxes").fetchall()
        taken = conn.execute("SELECT outcome FROM inbound_messages").fetchall()
    assert hooks == [("https://bi.demo.example.com/hooks/closeloop", 0)]
    assert {d[0] for d in deliveries} == {"delivered", "failed"}
    assert [(b[0], b[1]) for b in boxes] == [("service@demo.example.com", 0)]
    assert "demo" not in boxes[0][2]  # the password is stored encrypted
    assert sorted(t[0] for t in taken) == ["filed", "ignored"]


def test_demo_api_token_works_on_the_embedded_default(demo_server):
    """The printed demo token drives the API on SQLite with in-process jobs: list, ERP sync,
    a MES production exception, and a refusal as a problem document."""
    import json

    from portal.demo import DEMO_API_TOKEN

    base, *_ = demo_server
    api = f"{base}/t/demo/api/v1"

    def call(method, path, body=None):
        request = urllib.request.Request(
            api + path, method=method, data=json.dumps(body).encode() if body else None,
            headers={"Authorization": f"Bearer {DEMO_API_TOKEN}",
                     "Content-Type": "application/json", "Accept-Language": "en"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)

    status, page = call("GET", "/complaints?limit=5")
    assert status == 200 and len(page["items"]) == 5 and page["next_cursor"]
    rows = [{"product_model": "PX-45", "lot": f"API-{i}", "quantity": 20,
             "shipped_on": "2026-11-30"} for i in range(3)]
    assert call("POST", "/shipments/upsert", {"rows": rows}) == (
        200, {"created": 3, "updated": 0})
    assert call("POST", "/shipments/upsert", {"rows": rows})[1] == {"created": 0, "updated": 3}
    status, filed = call("POST", "/complaints", {
        "source": "production", "channel": "in_process", "reporter_name": "MES line 3",
        "product_model": "PX-45", "lot": "API-1", "defect_quantity": 2,
        "title": "Pressure switch trips at 7 bar", "description": "Found in the end-of-line test."})
    assert status == 201 and filed["status"] == "received", filed
    status, problem = call("POST", f"/complaints/{filed['number']}/transitions",
                           {"name": "close"})
    assert status == 409 and problem["status"] == 409 and problem["title"]


def test_demo_analytics_on_the_embedded_database(demo_server):
    """The dashboard, the meeting pack and its PDF on SQLite (the embedded default)."""
    base, *_ = demo_server
    import http.cookiejar

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/t/demo/staff/sign-in").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    opener.open(base + "/t/demo/staff/sign-in", data=urllib.parse.urlencode({
        "email": "manager@demo.example.com", "password": "demo-pass-2026",
        "csrf_token": token}).encode())
    html = opener.open(base + "/t/demo/staff/analytics").read().decode()
    assert html.count("<svg") >= 10 and "‰" in html
    assert "注意" in html  # the climbing model is flagged
    assert "<svg" in opener.open(base + "/t/demo/staff/analytics/meeting").read().decode()
    pdf = opener.open(base + "/t/demo/staff/analytics/meeting.pdf?lang=en").read()
    assert pdf.startswith(b"%PDF")
