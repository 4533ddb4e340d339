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


def signed_in_client(database_url: str, tenant: str, path: str):
    """A test client of the production-mode app signed in as the seed's quality user, and the
    URL for ``path`` (below the tenant's /staff/, or absolute; ``{id}`` = a complaint in
    analysis)."""
    os.environ.update(DATABASE_URL=database_url, SECRET_KEY="bench-only-secret",
                      SESSION_COOKIE_SECURE="0", CLOSELOOP_SINGLE_MACHINE="1")
    for name in ("REDIS_URL", "S3_BUCKET", "MAIL_URL"):
        os.environ.pop(name, None)
    import sqlalchemy as sa

    from portal import create_app

    app = create_app()
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"  # production mode: HTTPS only
    staff = f"/t/{tenant}/staff/"
    page = client.get(f"{staff}sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"',
                      page)
    client.post(f"{staff}sign-in", data={
        "email": f"quality@{tenant}.example.com", "password": "bench-pass-2026",
        "csrf_token": token.group(1) or token.group(2)},
        headers={"Referer": f"https://localhost{staff}sign-in"})
    if "{id}" in path:
        with sa.create_engine(database_url).connect() as conn:
            complaint_id = conn.execute(sa.text(
                "SELECT c.id FROM complaints c JOIN tenants t ON t.id = c.tenant_id "
                "WHERE t.slug = :slug AND c.status = 'analysis' ORDER BY c.id LIMIT 1"),
                {"slug": tenant}).scalar_one()
        path = path.replace("{id}", str(complaint_id))
    url = path if path.startswith("/") else staff + path
    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}: is the database seeded?")
    return client, url


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

    client, url = signed_in_client(args.database_url, args.tenant, args.path)
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
          f"{len(client.get(url).data):,} bytes")
    if args.dump:
        profiler.dump_stats(args.dump)
    pstats.Stats(profiler).strip_dirs().sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
