"""Where a workspace page spends its time, in process: signs in through the test client as the
seed's quality user, requests a page N times and prints the mean time per request and the
functions that take it (cProfile), without gunicorn, wrk or the network in the way.

    python -m bench.profile_pages                       # queue, default view
    python -m bench.profile_pages --path "complaints/{id}" --top 40
    python -m bench.profile_pages --path "?q=异响" --sort tottime

Needs the database of ``python -m bench.seed``.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/closeloop_bench"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--tenant", default="bench1")
    parser.add_argument("--path", default="", help="below /t/<tenant>/staff/; {id} = a complaint")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--dump", help="write the raw profile here (for snakeviz, pstats)")
    args = parser.parse_args(argv)

    os.environ.update(DATABASE_URL=args.database_url, SECRET_KEY="bench-only-secret",
                      SESSION_COOKIE_SECURE="0")
    for name in ("REDIS_URL", "S3_BUCKET", "MAIL_URL"):
        os.environ.pop(name, None)
    import sqlalchemy as sa

    from portal import create_app

    app = create_app()
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    staff = f"/t/{args.tenant}/staff/"
    page = client.get(f"{staff}sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"',
                      page)
    client.post(f"{staff}sign-in", data={
        "email": f"quality@{args.tenant}.example.com", "password": "bench-pass-2026",
        "csrf_token": token.group(1) or token.group(2)},
        headers={"Referer": f"https://localhost{staff}sign-in"})  # production mode: HTTPS
    path = args.path
    if "{id}" in path:
        with sa.create_engine(args.database_url).connect() as conn:
            complaint_id = conn.execute(sa.text(
                "SELECT c.id FROM complaints c JOIN tenants t ON t.id = c.tenant_id "
                "WHERE t.slug = :slug AND c.status = 'analysis' LIMIT 1"),
                {"slug": args.tenant}).scalar_one()
        path = path.replace("{id}", str(complaint_id))
    url = staff + path
    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}: is the database seeded?")
    for _ in range(5):  # warm caches (templates, translations, statements)
        client.get(url)

    started = time.perf_counter()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.requests):
        client.get(url)
    profiler.disable()
    elapsed = time.perf_counter() - started
    samples = []
    for _ in range(args.requests):
        one = time.perf_counter()
        client.get(url)
        samples.append((time.perf_counter() - one) * 1000)
    plain = sorted(samples)[len(samples) // 2]  # the median: this machine is shared
    trivial_started = time.perf_counter()
    for _ in range(args.requests):
        client.get("/healthz")
    trivial = (time.perf_counter() - trivial_started) / args.requests * 1000
    print(f"{url}: median {plain:.1f} ms per request without the profiler "
          f"({elapsed / args.requests * 1000:.1f} ms with it); /healthz {trivial:.2f} ms; "
          f"{len(response.data):,} bytes")
    if args.dump:
        profiler.dump_stats(args.dump)
    pstats.Stats(profiler).strip_dirs().sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
