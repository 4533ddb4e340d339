"""Deadline sweep over 1,000,000 open clocks on PostgreSQL.

    python bench/sweep_bench.py [--clocks 1000000] [--due 1000]

Creates its own schema on DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test),
migrates it, bulk-inserts complaints and clocks with server-side INSERT … SELECT
generate_series (unscoped: platform tooling), then times:

  1. a quiet sweep: 1,000,000 running clocks, none owing a step;
  2. a busy sweep: the same plus ``--due`` clocks owing a warning, as many owing a breach
     escalation, and half as many owing a second escalation (timeline + notifications +
     deliveries written for each);
  3. the same sweep again (must do nothing: idempotent);
and a trivial ``SELECT 1`` round trip in the same run, for a ratio. Drops the schema after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clocks", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=1000)
    args = parser.parse_args()

    from portal import create_app
    from portal.deadlines.sweep import run
    from portal.extensions import db
    from portal.models import Department, StaffUser, Tenant, utcnow
    from portal.tenancy import activate, unscoped

    schema = f"bench_sweep_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    app = create_app({
        "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": DATABASE_URL, "REDIS_URL": None,
        "MAIL_URL": None, "TESTING": False,
        "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": f"-csearch_path={schema}"}},
    })
    try:
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            with unscoped():
                tenant = Tenant(slug="bench", name="Bench")
                db.session.add(tenant)
                db.session.flush()
            with activate(tenant):
                department = Department(name="Quality", kind="quality")
                db.session.add(department)
                db.session.flush()
                owner = StaffUser(email="owner@bench.example.com", name="Owner",
                                  roles=["after_sales"], department_id=department.id)
                manager = StaffUser(email="manager@bench.example.com", name="Manager",
                                    roles=["manager"], department_id=department.id)
                db.session.add_all([owner, manager])
                db.session.flush()
                department.manager_id = manager.id
                db.session.commit()
            n_complaints = args.clocks // 4
            t0 = time.perf_counter()
            with unscoped():
                db.session.execute(sa.text("""
                    INSERT INTO complaints (tenant_id, number, source, channel, reporter_name,
                        title, description, demands, defect_quantity, status,
                        status_changed_at, severe_event, safety_hazard, eight_d_requested,
                        owner_id, responsible_department_id, version, created_at, updated_at)
                    SELECT :t, 'QC-B-' || g, 'customer', 'portal', 'Bench', 'Bench complaint',
                        'x', '[]', 1, 'verifying', now(), false, false, false, :owner, :dept,
                        1, now(), now()
                    FROM generate_series(1, :n) g"""),
                    {"t": tenant.id, "n": n_complaints, "owner": owner.id, "dept": department.id})
                # Four clocks per complaint, due between 2 and 30 days ahead: none owes a step.
                db.session.execute(sa.text("""
                    INSERT INTO deadline_clocks (tenant_id, complaint_id, kind, working_time,
                        budget_minutes, customer_visible, started_at, due_at, warn_at,
                        second_escalation_at, paused_minutes)
                    SELECT c.tenant_id, c.id, k.kind, false, 2880, false, now(),
                        now() + make_interval(days => 2 + (c.id % 28)),
                        now() + make_interval(days => 1 + (c.id % 28)),
                        now() + make_interval(days => 3 + (c.id % 28)), 0
                    FROM complaints c
                    CROSS JOIN (VALUES ('forward'), ('first_contact'), ('answer'),
                                       ('class_a_plan')) AS k(kind)"""))
            db.session.commit()
            with engine.begin() as conn:
                conn.execute(sa.text(f'ANALYZE "{schema}".deadline_clocks'))
                conn.execute(sa.text(f'ANALYZE "{schema}".complaints'))
            load_s = time.perf_counter() - t0
            total = db.session.execute(sa.text(
                "SELECT count(*) FROM deadline_clocks WHERE stopped_at IS NULL")).scalar()

            def timed_sweep():
                # The sweep's transaction: claim, timeline, notifications, deliveries, outbox
                # rows, commit. Relaying the outbox afterwards (to RQ, or in process in the
                # embedded default) is timed apart: it is the same for any producer.
                start = time.perf_counter()
                result = run()
                pending = db.session.info.pop("outbox_ids", [])
                db.session.commit()
                elapsed = time.perf_counter() - start
                relay_start = time.perf_counter()
                if pending:
                    from portal.queueing import relay_pending

                    relay_pending(pending, limit=len(pending))
                relays.append((len(pending), time.perf_counter() - relay_start))
                db.session.remove()
                return elapsed, result.as_dict()

            relays: list[tuple[int, float]] = []

            quiet_s, quiet = timed_sweep()

            now = utcnow()
            due = args.due
            db.session.execute(sa.text("""
                UPDATE deadline_clocks SET warn_at = :past, due_at = :future
                WHERE id IN (SELECT id FROM deadline_clocks ORDER BY id LIMIT :n)"""),
                {"past": now - timedelta(minutes=1), "future": now + timedelta(hours=2),
                 "n": due})
            db.session.execute(sa.text("""
                UPDATE deadline_clocks SET due_at = :past, warn_at = :past2,
                    warned_at = :past2, second_escalation_at = :later
                WHERE id IN (SELECT id FROM deadline_clocks ORDER BY id OFFSET :o LIMIT :n)"""),
                {"past": now - timedelta(minutes=1), "past2": now - timedelta(hours=1),
                 "later": now + timedelta(hours=5), "o": due, "n": due})
            db.session.execute(sa.text("""
                UPDATE deadline_clocks SET due_at = :past, warn_at = :past, warned_at = :past,
                    breached_at = :past, escalated_at = :past,
                    second_escalation_at = :recent
                WHERE id IN (SELECT id FROM deadline_clocks ORDER BY id OFFSET :o LIMIT :n)"""),
                {"past": now - timedelta(hours=10), "recent": now - timedelta(minutes=1),
                 "o": 2 * due, "n": due // 2})
            db.session.commit()
            busy_s, busy = timed_sweep()
            again_s, again = timed_sweep()

            trivial = []
            for _ in range(200):
                start = time.perf_counter()
                db.session.execute(sa.text("SELECT 1")).scalar()
                trivial.append(time.perf_counter() - start)
            db.session.remove()
            trivial_ms = statistics.median(trivial) * 1000

        print(f"open clocks                 : {total:,}")
        print(f"bulk load (complaints+clocks): {load_s:.1f} s")
        print(f"quiet sweep (nothing owed)  : {quiet_s * 1000:.0f} ms  {quiet}")
        print(f"busy sweep                  : {busy_s * 1000:.0f} ms  {busy}")
        print(f"repeat sweep (idempotent)   : {again_s * 1000:.0f} ms  {again}")
        print(f"outbox relay after busy sweep (in process, {relays[1][0]} jobs): "
              f"{relays[1][1] * 1000:.0f} ms")
        print(f"trivial SELECT 1 (median)   : {trivial_ms:.3f} ms")
        print(f"ratio quiet sweep / SELECT 1: {quiet_s * 1000 / trivial_ms:.0f}x")
        assert again["warned"] == again["breached"] == again["escalated"] == 0
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


if __name__ == "__main__":
    main()
