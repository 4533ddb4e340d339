"""The complaints rollup stays equal to a direct count: after a random sequence of inserts,
reclassifications, status changes (rejections, closings, reopenings), deletes, commits (which
expire what the session holds, so old values come from the table) and changes made on objects
never loaded, the rollup table matches a count made here in Python from the complaints as the
database holds them; ``rebuild`` gives the same rows; and a Core write that bypasses the ORM
is what ``rebuild`` is for."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from portal.analytics import rollup
from portal.models import (
    AnalyticsMonth,
    Complaint,
    CustomerCompany,
    Department,
    FailureMode,
    ProductModel,
)
from portal.tenancy import activate

STATUSES = ["received", "verifying", "analysis", "answered", "closed", "rejected"]


def expected(db, tenant) -> dict:
    """Per (month, source, dimension, key): [received, defects, closed], counted in Python
    from the complaints' rows."""
    zone = ZoneInfo(tenant.timezone)
    totals: dict = defaultdict(lambda: [0, 0, 0])
    with activate(tenant):
        for c in db.session.scalars(select(Complaint)).all():
            keys = [("all", ""), ("cause", c.cause_category or ""),
                    ("mode", str(c.failure_mode_id or "")),
                    ("product", str(c.product_model_id or "")),
                    ("customer", str(c.customer_company_id or "")),
                    ("department", str(c.responsible_department_id or ""))]
            for dimension, key in keys:
                if c.status != "rejected":
                    month = c.created_at.astimezone(zone).strftime("%Y-%m-01")
                    totals[(month, c.source, dimension, key)][0] += 1
                    totals[(month, c.source, dimension, key)][1] += c.defect_quantity
                if c.status == "closed" and c.closed_at:
                    month = c.closed_at.astimezone(zone).strftime("%Y-%m-01")
                    totals[(month, c.source, dimension, key)][2] += 1
    return {k: v for k, v in totals.items() if any(v)}


def stored(db, tenant) -> dict:
    with activate(tenant):
        rows = db.session.scalars(select(AnalyticsMonth)).all()
        return {(r.month.isoformat(), r.source, r.dimension, r.key):
                [r.received, r.defects, r.closed]
                for r in rows if r.received or r.defects or r.closed}


def _references(db, tenant):
    with activate(tenant):
        refs = {"dept": [Department(name=f"D{i}", kind="quality") for i in range(3)],
                "product": [ProductModel(code=f"R{i}", name_zh="型", name_en="M")
                            for i in range(3)],
                "mode": [FailureMode(code=f"m{i}", name_zh="失", name_en="F") for i in range(3)],
                "company": [CustomerCompany(name=f"C{i}") for i in range(2)]}
        db.session.add_all([o for group in refs.values() for o in group])
        db.session.flush()
    return {k: [o.id for o in v] + [None] for k, v in refs.items()}


def _new(rng, refs, k: int) -> Complaint:
    # Around month edges in Shanghai (UTC+8): 15:00–17:00 UTC on the last day of a month.
    created = datetime(2026, rng.randint(1, 11), 28, tzinfo=UTC) + timedelta(
        days=rng.choice([0, 1, 2, 3]), hours=rng.choice([1, 15, 16, 17]))
    return Complaint(number=f"R-{k}", reporter_name="R", title="t", description="d",
                     source=rng.choice(["customer", "production"]), created_at=created,
                     status=rng.choice(STATUSES), defect_quantity=rng.randint(1, 9),
                     product_model_id=rng.choice(refs["product"]),
                     failure_mode_id=rng.choice(refs["mode"]),
                     responsible_department_id=rng.choice(refs["dept"]),
                     customer_company_id=rng.choice(refs["company"]),
                     cause_category=rng.choice(["man", "machine", None]))


def _change(rng, refs, c: Complaint) -> None:
    what = rng.choice(["status", "close", "reopen", "dims", "defects", "source"])
    if what == "status":
        c.status = rng.choice(STATUSES)
    elif what == "close":
        c.status, c.closed_at = "closed", c.created_at + timedelta(days=rng.randint(0, 40),
                                                                   hours=rng.randint(0, 23))
    elif what == "reopen":
        c.status = "analysis"
    elif what == "dims":
        c.cause_category = rng.choice(["man", "method", None])
        c.failure_mode_id = rng.choice(refs["mode"])
        c.responsible_department_id = rng.choice(refs["dept"])
        c.product_model_id = rng.choice(refs["product"])
        c.customer_company_id = rng.choice(refs["company"])
    elif what == "defects":
        c.defect_quantity = rng.randint(1, 20)
    else:
        c.source = rng.choice(["customer", "production", "staff"])


def test_rollup_equals_a_direct_count_after_random_operations(db, make_tenant):
    tenant = make_tenant(timezone="Asia/Shanghai")
    other = make_tenant(timezone="America/New_York")
    rng = random.Random(2026)
    refs = _references(db, tenant)
    other_refs = _references(db, other)
    ids: list[int] = []
    for step in range(400):
        with activate(tenant):
            roll = rng.random()
            if roll < 0.3 or not ids:
                c = _new(rng, refs, step)
                db.session.add(c)
                db.session.flush()
                ids.append(c.id)
            elif roll < 0.9:
                _change(rng, refs, db.session.get(Complaint, rng.choice(ids)))
            else:
                db.session.delete(db.session.get(Complaint, ids.pop(rng.randrange(len(ids)))))
            if rng.random() < 0.2:
                db.session.commit()  # expires everything: old values come from the table
            elif rng.random() < 0.2 or step % 50 == 0:
                db.session.flush()  # several changes go in one flush otherwise
        if step % 50 == 0:
            with activate(other):
                db.session.add(_new(rng, other_refs, 10_000 + step))
                db.session.flush()
    with activate(tenant):
        db.session.flush()
    for t in (tenant, other):
        assert stored(db, t) == expected(db, t)
        assert stored(db, t), "the sequence wrote rows"


def test_a_change_to_an_object_never_loaded_reads_the_old_values(db, make_tenant):
    tenant = make_tenant(timezone="Asia/Shanghai")
    refs = _references(db, tenant)
    with activate(tenant):
        c = _new(random.Random(1), refs, 1)
        c.status = "analysis"
        db.session.add(c)
        db.session.commit()
        db.session.expire_all()
        c.cause_category = "method"  # set without loading: the old cause is not in memory
        c.status = "rejected"
        db.session.flush()
    assert stored(db, tenant) == expected(db, tenant) == {}


def test_rebuild_gives_the_same_rows_and_repairs_a_core_write(db, make_tenant):
    from sqlalchemy import update

    tenant = make_tenant(timezone="Europe/Berlin")
    rng = random.Random(7)
    refs = _references(db, tenant)
    with activate(tenant):
        for k in range(60):
            db.session.add(_new(rng, refs, k))
        db.session.flush()
        incremental = stored(db, tenant)
        assert rollup.rebuild(tenant.id) == len(incremental)
        assert stored(db, tenant) == incremental == expected(db, tenant)
        # A Core UPDATE bypasses the flush hook: the rollup is stale until rebuilt.
        db.session.execute(update(Complaint).values(status="rejected")
                           .execution_options(synchronize_session=False))
        assert stored(db, tenant) != expected(db, tenant)
        rollup.rebuild(tenant.id)
    assert stored(db, tenant) == expected(db, tenant)


def test_a_range_of_part_months_adds_the_rollup_and_the_days_outside(history):
    """From 10 January to 20 May: February–April from the rollup, the rest from the
    complaints; every figure as counted here from the seeded rows."""
    from collections import Counter

    from werkzeug.datastructures import MultiDict

    from portal.analytics import counts, loop, pareto
    from portal.analytics.period import Slice

    from .conftest import SHANGHAI

    s = Slice.from_args(MultiDict({"period": "range", "from": "2026-01-10", "to": "2026-05-20"}),
                        history.tenant.timezone)
    assert counts.whole_months(s) is not None and s.start.day == 10

    def inside(moment):
        return moment is not None and "2026-01-10" <= moment.astimezone(SHANGHAI).date() \
            .isoformat() <= "2026-05-20"

    received = [c for c in history.complaints if inside(c["created"]) and c["status"] != "rejected"]
    closed = Counter(c["closed_at"].astimezone(SHANGHAI).strftime("%Y-%m")
                     for c in history.complaints if c["status"] == "closed" and inside(c["closed_at"]))
    with activate(history.tenant):
        rows = pareto.pareto(s, "mode", "defects")
        flow = loop.flow_by_month(s)
    expected = Counter()
    for c in received:
        expected[c["mode"]] += c["defects"]
    assert {r.key: r.defects for r in rows} == dict(expected)
    assert {f["month"]: f["closed"] for f in flow if f["closed"]} == dict(closed)
    assert sum(f["received"] for f in flow) == len(received)


def test_a_new_time_zone_moves_the_months(db, make_tenant):
    tenant = make_tenant(timezone="Asia/Shanghai")
    refs = _references(db, tenant)
    with activate(tenant):
        rng = random.Random(3)
        for k in range(30):
            db.session.add(_new(rng, refs, k))
        db.session.flush()
        before = stored(db, tenant)
        tenant.timezone = "America/Los_Angeles"  # 16 hours back: some complaints change month
        db.session.flush()
    assert stored(db, tenant) == expected(db, tenant) != before
