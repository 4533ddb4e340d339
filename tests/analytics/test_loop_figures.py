"""The loop figures as the dashboard reads them (``LoopFigures``: the rollup's whole months plus
the other days counted now) against counts made here from what the seed wrote: ranges of part
months, one customer, a product line, a source, the tenant's month edges, a tenant never
refreshed, and only the tenant's own rows (tenant b of the fixture, refreshed too, never
shows)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime

import pytest
from werkzeug.datastructures import MultiDict

from portal.analytics import loop_rollup
from portal.analytics.period import Slice
from portal.tenancy import activate

from .conftest import SHANGHAI

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


def _day(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


def _matches(c: dict, f: dict) -> bool:
    return all(c[k] == v for k, v in f.items())


def expected(history, first: date, last: date, **f) -> dict:
    """Every loop figure of the slice, counted from the seed's records. ``f``: record fields
    (source, company, product, line) the complaints must have."""
    def inside(moment):
        return first <= _day(moment) <= last

    counted = [c for c in history.complaints if inside(c["created"])
               and c["status"] != "rejected" and _matches(c, f)]
    ids = {c["id"] for c in counted}
    clocks: dict = defaultdict(lambda: [0, 0, 0, []])
    for clock in history.clocks:
        if clock["complaint"]["id"] not in ids:
            continue
        row = clocks[(clock["kind"], clock["complaint"]["dept"])]
        if clock["stopped"] is not None:
            row[0 if clock["stopped"] <= clock["due"] else 1] += 1
            row[3].append((clock["stopped"] - clock["started"]).total_seconds() / 3600)
        else:
            row[1 if clock["due"] < NOW else 2] += 1
    reopened = {e["complaint"]["id"] for e in history.events if e["kind"] == "reopen"} & ids
    disputed = {e["complaint"]["id"] for e in history.events if e["kind"] == "dispute"} & ids
    recurring = Counter(
        (c["product"], c["mode"]) for c in counted if c["product"] and c["mode"] and any(
            e["product"] == c["product"] and e["mode"] == c["mode"] and e["closed_at"]
            and e["closed_at"] < c["created"] for e in history.complaints))
    costs: Counter = Counter()
    for cost in history.costs:
        if inside(cost["created"]) and _matches(cost["complaint"], f):
            costs[cost["category"]] += cost["amount"]
    answers: Counter = Counter()
    for survey in history.surveys:
        if inside(survey["answered"]) and _matches(survey["complaint"], f):
            answers[survey["answered"].astimezone(SHANGHAI).strftime("%Y-%m")] += 1
    return {
        "clocks": {k: tuple(v[:3]) for k, v in clocks.items()},
        "hours": {k: sorted(v[3]) for k, v in clocks.items()},
        "rates": {"closed": len({c["id"] for c in counted if c["closed_at"]} | reopened),
                  "reopened": len(reopened), "disputed": len(disputed),
                  "answered": len({c["id"] for c in counted if c["answered_at"]} | disputed)},
        "recurrences": dict(recurring), "costs": dict(costs), "answers": dict(answers),
    }


def _lower_median(values: list[float]) -> float:
    """The value half of them reach (the rollup's median lies in this value's bucket)."""
    return values[(len(values) - 1) // 2]


def _tolerance(hours: float) -> float:  # half a bucket: two hours under two days, then 12
    return 1.0 if hours < 48 else 6 if hours < 720 else 12


def check(figures: loop_rollup.LoopFigures, want: dict) -> None:
    clocks = {(r.kind, r.department_id): r for r in figures.clocks()}
    assert {k: (r.on_time, r.late, r.running) for k, r in clocks.items()} == want["clocks"]
    for key, row in clocks.items():
        hours = want["hours"][key]
        if not hours:
            assert row.median_hours is None
        else:  # the middle bucket's midpoint
            middle = _lower_median(hours)
            assert row.median_hours == pytest.approx(middle, abs=_tolerance(middle))
    rates = figures.rates()
    assert {k: rates[k] for k in want["rates"]} == want["rates"]
    assert {(r["product"], r["mode"]): r["count"]
            for r in figures.recurrences()} == want["recurrences"]
    assert sum(r["count"] for r in figures.recurrences(by_department=True)) \
        == sum(want["recurrences"].values())
    costs = figures.costs()
    assert dict(costs["by_category"]) == want["costs"]
    assert costs["total"] == sum(want["costs"].values())
    assert {r["month"]: r["answers"] for r in figures.satisfaction() if r["answers"]} \
        == want["answers"]


def _slice(history, first: str, last: str, **args) -> Slice:
    return Slice.from_args(MultiDict({"period": "range", "from": first, "to": last, **args}),
                           history.tenant.timezone)


def _refresh_both(history, db) -> None:
    from portal.models import Tenant

    other = db.session.scalars(db.select(Tenant).where(Tenant.id != history.tenant.id)
                               .order_by(Tenant.id.desc())).first()
    for tenant in (history.tenant, other):
        with activate(tenant):
            assert loop_rollup.refresh(tenant.id, tenant.timezone, NOW) > 0


@pytest.mark.parametrize("first,last", [
    ("2026-01-10", "2026-03-31"),  # the start inside a month
    ("2026-02-15", "2026-06-20"),  # both ends inside a month
    ("2026-03-31", "2026-05-10"),  # 31 March alone: 23:30 there is still March (15:30 UTC)
    ("2026-04-01", "2026-04-30"),  # a whole April: 00:30 on 1 April is April (16:30 UTC 31 Mar)
    ("2026-04-03", "2026-04-25"),  # inside one month: nothing from the rollup
])
def test_ranges_of_part_months_add_the_rollup_and_the_edge_days(history, db, first, last):
    _refresh_both(history, db)
    with activate(history.tenant):
        s = _slice(history, first, last)
        figures = loop_rollup.LoopFigures(s, NOW)
        whole = first[8:] == "01" or last[5:7] != first[5:7]
        assert (figures.computed_at == NOW) == whole
        check(figures, expected(history, date.fromisoformat(first), date.fromisoformat(last)))


@pytest.mark.parametrize("args,fields", [
    ({"customer": "company"}, {"company": "company"}),
    ({"line": "L1"}, {"line": "L1"}),
    ({"source": "production"}, {"source": "production"}),
    ({"product": "product"}, {"product": "product"}),
])
def test_filtered_views_count_only_their_complaints(history, db, args, fields):
    _refresh_both(history, db)
    company, product = history.companies[0].id, history.products[0].id
    values = {"company": company, "product": product}
    args = {k: str(values.get(v, v)) for k, v in args.items()}
    fields = {k: values.get(v, v) for k, v in fields.items()}
    with activate(history.tenant):
        for first, last in (("2025-12-01", "2026-11-30"), ("2026-01-10", "2026-06-20")):
            figures = loop_rollup.LoopFigures(_slice(history, first, last, **args), NOW)
            check(figures, expected(history, date.fromisoformat(first),
                                    date.fromisoformat(last), **fields))


def test_a_tenant_never_refreshed_is_counted_now(history):
    with activate(history.tenant):
        figures = loop_rollup.LoopFigures(_slice(history, "2025-12-01", "2026-11-30"), NOW)
        assert figures.computed_at is None
        check(figures, expected(history, date(2025, 12, 1), date(2026, 11, 30)))


def test_an_empty_tenant_sees_nothing_of_the_others(history, db, make_tenant):
    _refresh_both(history, db)
    empty = make_tenant(timezone="Asia/Shanghai")
    with activate(empty):
        for first, last in (("2025-12-01", "2026-11-30"), ("2026-01-10", "2026-06-20")):
            figures = loop_rollup.LoopFigures(_slice(history, first, last), NOW)
            assert figures.clocks() == [] and figures.recurrences() == []
            assert figures.rates()["closed"] == 0 and figures.costs()["total"] == 0
            assert all(r["answers"] == 0 for r in figures.satisfaction())
