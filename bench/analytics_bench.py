"""The analytics benchmark in one command: seeds a tenant of 200,000 complaints over three
years if there is none (bench/analytics_seed.py), then measures

1. each chart's SQL: every statement a dashboard section sends (captured from SQLAlchemy while
   the section is built, exactly as the page builds it), run again under
   ``EXPLAIN (ANALYZE, BUFFERS)``; the budget is 100 ms per chart;
2. the whole page in CPU instructions against ``/healthz`` (valgrind, bench/instructions.py);
   the budget is 40 ×; plus the page's wall time in process;
3. the monthly meeting pack built by its job (both languages' PDFs); the budget is 10 s.

    python -m bench.analytics_bench                 # all three, markdown on stdout
    python -m bench.analytics_bench --skip-valgrind # 1 and 3 only (valgrind takes minutes)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/closeloop_analytics_bench"
PERIODS = {"12 months (default)": {}, "36 whole months": {"period": "range"},
           "a range of part months (10th, 12 months back, to yesterday)": {"period": "part"},
           "12 months, one customer": {"customer": "first"}}


def _tenant(url: str) -> str | None:
    import sqlalchemy as sa

    from bench.seed import ensure_database

    ensure_database(url)
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            return conn.scalar(sa.text("SELECT slug FROM tenants WHERE slug ~ '^analytics[0-9]+$' "
                                       "ORDER BY id LIMIT 1"))
    except sa.exc.ProgrammingError:  # not migrated yet
        return None
    finally:
        engine.dispose()


def _sections(s, tenant, link):
    """Each chart as the page builds it: the complaint counts (rollup) read once for the five
    Pareto charts, the ratio's defects and received/closed; the loop figures from their rollup
    when it serves the slice (as dashboard.build does)."""
    from portal.analytics import dashboard, loop_rollup
    from portal.analytics.counts import Counts
    from portal.analytics.labels import Names

    names = Names()
    shared = {}
    yield "Complaint counts (rollup): Pareto ×5, ratio defects, received/closed", \
        lambda: shared.update(counts=Counts(s))
    yield "Loop figures (rollup's whole months; other days counted now, a statement per chart)", \
        lambda: shared.update(stored=(
        loop_rollup.LoopFigures(s) if loop_rollup.usable(s) else None))
    yield from ((f"Pareto: {d}", lambda d=d: dashboard.pareto_section(
        s, d, "complaints", names, link, shared["counts"]))
        for d in ("cause", "mode", "product", "customer", "department"))
    yield "Defect ratio per model by month (p-chart)", lambda: dashboard.ratio_section(
        s, tenant, names, link, shared["counts"])
    yield "Received / closed by month", lambda: dashboard.flow_section(s, link, shared["counts"])
    yield "Open by age", lambda: dashboard.age_section(s, link)
    yield "Clocks: on-time rate and median by department", lambda: dashboard.clock_section(
        s, names, link, shared["stored"])
    yield "Reopen / dispute rates, recurrences", lambda: dashboard.rates_section(
        s, names, link, shared["stored"])
    yield "Cost of poor quality (category, department, supplier, month)", \
        lambda: dashboard.cost_section(s, names, link, shared["stored"])
    yield "Satisfaction", lambda: dashboard.satisfaction_section(s, tenant, shared["stored"])


def refresh_time(app, slug: str) -> float:
    """Seconds the job (jobs.analytics.refresh_loop_figures) takes to recount the tenant's loop
    figures, its VACUUM included."""
    from sqlalchemy import select

    from jobs.analytics import refresh_loop_figures
    from portal.extensions import db
    from portal.models import Tenant
    from portal.tenancy import unscoped

    with app.app_context():
        with unscoped():
            tenant_id = db.session.scalar(select(Tenant.id).where(Tenant.slug == slug))
        started = time.perf_counter()
        refresh_loop_figures([tenant_id])
        return time.perf_counter() - started


def _period_args(args: dict, tenant) -> dict:
    from datetime import date, timedelta

    from sqlalchemy import select

    from portal.analytics.period import add_months
    from portal.extensions import db
    from portal.models import CustomerCompany

    today = date.today()
    if args.get("period") == "range":  # 36 whole months, this one included
        return {"period": "range", "from": add_months(today, -35).isoformat(),
                "to": (add_months(today, 1) - timedelta(days=1)).isoformat()}
    if args.get("period") == "part":
        return {"period": "range", "from": add_months(today, -12).replace(day=10).isoformat(),
                "to": (today - timedelta(days=1)).isoformat()}
    if args.get("customer") == "first":
        from portal.tenancy import unscoped

        with unscoped():
            return {"customer": str(db.session.scalar(
                select(CustomerCompany.id).where(CustomerCompany.tenant_id == tenant.id)
                .order_by(CustomerCompany.id).limit(1)))}
    return args


def explain_charts(app, slug: str, args: dict) -> list[tuple[str, float, float, int, float]]:
    """(chart, summed execution ms, summed planning ms, statements, slowest statement's
    execution ms) per dashboard section."""
    import json

    from flask import url_for
    from sqlalchemy import event, select
    from werkzeug.datastructures import MultiDict

    from portal.analytics.period import Slice
    from portal.extensions import db
    from portal.models import Tenant
    from portal.tenancy import activate, unscoped

    results = []
    with app.test_request_context(f"/t/{slug}/staff/analytics"):
        with unscoped():
            tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
        args = _period_args(args, tenant)
        s = Slice.from_args(MultiDict(args), tenant.timezone)
        captured: list = []

        def capture(conn, cursor, statement, parameters, context, executemany):
            if statement.lstrip().upper().startswith(("SELECT", "WITH")):
                captured.append((statement, parameters))

        with activate(tenant):
            from portal.analytics.sql import tune_for_aggregates

            tune_for_aggregates()  # as dashboard.build() does
            for label, build in _sections(s, tenant, lambda a: url_for(
                    "internal.index", tenant_slug=slug, **a)):
                captured.clear()
                event.listen(db.engine, "before_cursor_execute", capture)
                build()
                event.remove(db.engine, "before_cursor_execute", capture)
                statements = list(captured)
                execution = planning = slowest = 0.0
                raw = db.session.connection().connection.driver_connection
                for statement, parameters in statements:
                    with raw.cursor() as cursor:
                        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement,
                                       parameters)
                        plan = cursor.fetchone()[0]
                        plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
                        execution += plan["Execution Time"]
                        slowest = max(slowest, plan["Execution Time"])
                        planning += plan["Planning Time"]
                results.append((label, execution, planning, len(statements), slowest))
    return results


def page_wall_time(url: str, slug: str, requests: int = 5) -> tuple[float, float]:
    from bench.profile_pages import signed_in_client

    client, page = signed_in_client(url, slug, "analytics")
    timings = {}
    for path in ("/healthz", page):
        for _ in range(2):
            assert client.get(path).status_code == 200, path
        started = time.perf_counter()
        for _ in range(requests):
            client.get(path)
        timings[path] = (time.perf_counter() - started) / requests * 1000
    return timings[page], timings["/healthz"]


def meeting_pack(app, slug: str) -> dict:
    from datetime import date

    from sqlalchemy import delete, select

    from jobs.meeting_pack import build_and_mail
    from portal.analytics.period import add_months
    from portal.extensions import db
    from portal.models import MeetingPack, Tenant
    from portal.tenancy import activate, unscoped

    with app.app_context():
        with unscoped():
            tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
        with activate(tenant):
            month = add_months(date.today(), -1)
            db.session.execute(delete(MeetingPack).where(MeetingPack.month == month))
            pack = MeetingPack(month=month)
            db.session.add(pack)
            db.session.commit()
            pack_id, tenant_id = pack.id, tenant.id
        started = time.perf_counter()
        result = build_and_mail(tenant_id, pack_id)
        result["wall_s"] = round(time.perf_counter() - started, 2)
    return result


def _pack_in_own_process(url: str) -> dict:
    """The meeting pack job in a fresh process (an RQ worker forks one per job): run in this
    process after the measurements above it took several times longer (a large heap)."""
    import json
    import subprocess

    out = subprocess.run([sys.executable, "-m", "bench.analytics_bench", "--pack-only",
                          "--database-url", url], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent).stdout
    return json.loads(out.rsplit("PACK ", 1)[1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--skip-valgrind", action="store_true")
    parser.add_argument("--requests", type=int, default=3)
    parser.add_argument("--pack-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.pack_only:  # the job in a process of its own, as an RQ work horse runs it
        import json

        from bench.seed import make_app

        result = meeting_pack(make_app(args.database_url), _tenant(args.database_url))
        print("PACK " + json.dumps({k: result.get(k) for k in ("seconds", "wall_s", "files")}))
        return
    slug = _tenant(args.database_url)
    if slug is None:
        import random

        from bench.analytics_seed import seed

        print("seeding:", seed(args.database_url, 200_000, random.Random(2026)))
        slug = _tenant(args.database_url)
    from bench.seed import make_app

    app = make_app(args.database_url)
    print(f"Loop figures recounted by the job in {refresh_time(app, slug):.1f} s")
    for name, period in PERIODS.items():
        rows = explain_charts(app, slug, period)
        print(f"\n### Chart queries, {name} (EXPLAIN ANALYZE, tenant {slug})\n")
        print("| chart | statements | execution ms | slowest statement ms | planning ms |\n"
              "| --- | ---: | ---: | ---: | ---: |")
        for label, execution, planning, count, slowest in rows:
            print(f"| {label} | {count} | {execution:.1f} | {slowest:.1f} | {planning:.1f} |")
        print(f"| **slowest statement** | | | **{max(r[4] for r in rows):.1f}** | |")
    page_ms, health_ms = page_wall_time(args.database_url, slug)
    print(f"\nWhole page in process: {page_ms:.0f} ms (/healthz {health_ms:.2f} ms)")
    pack = _pack_in_own_process(args.database_url)
    print(f"\nMeeting pack job: PDFs {sorted(pack.get('files', {}))} built in "
          f"{pack.get('seconds')} s (job wall time {pack['wall_s']} s)")
    if not args.skip_valgrind:
        from bench.instructions import count

        healthz = count(args.database_url, slug, "/healthz", args.requests)
        page = count(args.database_url, slug, "analytics", args.requests)
        print(f"\nInstructions per request: /healthz {healthz / 1e6:.2f} M, dashboard "
              f"{page / 1e6:.1f} M = {page / healthz:.1f} × /healthz")


if __name__ == "__main__":
    main()
