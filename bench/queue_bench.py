"""One-command benchmark of the staff workspace against gunicorn on PostgreSQL, with wrk:
the queue (default view, one filter, two searches), the complaint page, and /healthz (a
trivial endpoint measured in the same run, for ratios).

    python -m bench.seed --tenants 200 --per-tenant 5000     # once: the data
    python -m bench.queue_bench                              # the measurement

Signs in as ``quality@bench1.example.com`` (the seed's user), starts gunicorn on
127.0.0.1:5210 (the workspace helper's port range), warms up each URL, then runs
``wrk -t2 -c8 -d<duration>s --latency`` per URL and prints p50/p99 and requests per second as a
Markdown table (also written to bench/results/queue.json, which git ignores).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/closeloop_bench"


def wait_for(url: str, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"server did not answer at {url}")


def sign_in(base: str, slug: str, email: str, password: str) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/t/{slug}/staff/sign-in").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                      r'type="hidden" name="csrf_token" value="([^"]+)"', page)
    data = urllib.parse.urlencode({"email": email, "password": password,
                                   "csrf_token": token.group(1) or token.group(2)}).encode()
    opener.open(f"{base}/t/{slug}/staff/sign-in", data=data).read()
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    check = urllib.request.Request(f"{base}/t/{slug}/staff/", headers={"Cookie": cookie})
    body = urllib.request.urlopen(check).read().decode()
    if "queue-results" not in body:
        raise SystemExit("sign-in failed: is the database seeded (python -m bench.seed)?")
    return cookie


LUA_ROTATE = """
local ids = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "%s" .. ids[(i %% #ids) + 1])
end
"""


def run_wrk(url: str, cookie: str, duration: int, connections: int, script: str | None = None):
    command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{duration}s", "--latency",
               "-H", f"Cookie: {cookie}"]
    if script:
        command += ["-s", script]
    output = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    figures = {}
    for label, key in (("50%", "p50_ms"), ("90%", "p90_ms"), ("99%", "p99_ms")):
        match = re.search(rf"^\s+{re.escape(label)}\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        value, unit = float(match.group(1)), match.group(2)
        figures[key] = round(value / 1000 if unit == "us" else value * 1000 if unit == "s" else value, 2)
    figures["rps"] = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    figures["errors"] = int(non2xx.group(1)) if non2xx else 0
    return figures


def complaint_ids(database_url: str, slug: str, count: int = 500) -> list[int]:
    import psycopg

    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT c.id FROM complaints c JOIN tenants t ON t.id = c.tenant_id "
            "WHERE t.slug = %s ORDER BY random() LIMIT %s", (slug, count)).fetchall()
    return [r[0] for r in rows]


def gunicorn_path() -> str:
    """gunicorn of the environment running this script (its bin directory, next to
    sys.executable), not whatever ``gunicorn`` is first on PATH: the benchmark needs no
    activated venv, and never measures another installation."""
    candidate = Path(sys.executable).parent / "gunicorn"
    if not candidate.exists():
        raise SystemExit(f"gunicorn is not installed in this environment ({candidate}); "
                         "pip install -e . installs it")
    return str(candidate)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--tenant", default="bench1")
    parser.add_argument("--port", type=int, default=5210)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")

    base = f"http://127.0.0.1:{args.port}"
    # Plain http on 127.0.0.1: the cookie must not be Secure-only or the client drops it.
    env = {**os.environ, "DATABASE_URL": args.database_url, "SECRET_KEY": "bench-only-secret", "CLOSELOOP_SINGLE_MACHINE": "1",
           "SESSION_COOKIE_SECURE": "0",
           "PYTHONPATH": str(ROOT)}
    for name in ("REDIS_URL", "S3_BUCKET", "MAIL_URL"):
        env.pop(name, None)
    server = subprocess.Popen(
        [gunicorn_path(), "--bind", f"127.0.0.1:{args.port}", "--workers", str(args.workers),
         "--threads", str(args.threads), "--worker-class", "gthread", "--log-level", "warning",
         "portal:create_app()"], cwd=ROOT, env=env, start_new_session=True)
    results = {}
    try:
        wait_for(f"{base}/healthz")
        cookie = sign_in(base, args.tenant, f"quality@{args.tenant}.example.com", "bench-pass-2026")
        staff = f"{base}/t/{args.tenant}/staff"
        ids = complaint_ids(args.database_url, args.tenant)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
            lua.write(LUA_ROTATE % (",".join(map(str, ids)),
                                    f"/t/{args.tenant}/staff/complaints/"))
        targets = [
            ("healthz (trivial)", f"{base}/healthz", None),
            ("queue: default view", f"{staff}/", None),
            ("queue: one filter (severity=major)", f"{staff}/?severity=major", None),
            ("queue: search 异响 (2 chars)", f"{staff}/?q=" + urllib.parse.quote("异响"), None),
            ("queue: search 主轴启动 (trigram)", f"{staff}/?q=" + urllib.parse.quote("主轴启动"), None),
            ("complaint page (500 ids rotating)", f"{staff}/complaints/{ids[0]}", lua.name),
        ]
        for label, url, script in targets:
            run_wrk(url, cookie, 5, args.connections, script)  # warm-up
            results[label] = run_wrk(url, cookie, args.duration, args.connections, script)
            print(f"{label}: {results[label]}", file=sys.stderr)
        os.unlink(lua.name)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    trivial = results["healthz (trivial)"]
    print(f"| URL (wrk -t2 -c{args.connections} -d{args.duration}s) | p50 ms | p99 ms | req/s | "
          "p50 / healthz p50 | errors |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for label, r in results.items():
        ratio = r["p50_ms"] / trivial["p50_ms"] if trivial["p50_ms"] else 0
        print(f"| {label} | {r['p50_ms']} | {r['p99_ms']} | {r['rps']:.0f} | {ratio:.1f}× | "
              f"{r['errors']} |")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "queue.json").write_text(json.dumps({
        "settings": vars(args) | {"database_url": "(local)"}, "results": results,
        "measured_at": time.strftime("%Y-%m-%d %H:%M:%S")}, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
