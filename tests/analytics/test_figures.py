"""Each figure of portal/analytics against a count made in Python from the seeded rows, plus
empty periods, a model with no shipments, month edges in the tenant's zone, and tenant
isolation (tenant b's rows are in the same tables and must never count)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from werkzeug.datastructures import MultiDict

from portal.analytics import loop, money, pareto
from portal.analytics.period import Slice
from portal.tenancy import activate

from .conftest import SHANGHAI

YEAR = MultiDict({"period": "range", "from": "2025-12-01", "to": "2026-11-30"})


def local_month(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m")


def in_year(record) -> bool:
    return "2025-12" <= local_month(record["created"]) <= "2026-11"


def counted(history, **match):
    return [c for c in history.complaints if in_year(c) and c["status"] != "rejected"
            and all(c[k] == v for k, v in match.items())]


def year_slice(history, **args) -> Slice:
    return Slice.from_args(MultiDict({**YEAR, **args}), history.tenant.timezone)


@pytest.mark.parametrize("dimension,key", [("cause", "cause"), ("mode", "mode"),
                                           ("product", "product"), ("customer", "company"),
                                           ("department", "dept")])
def test_pareto_counts_complaints_and_defects_by_each_dimension(history, dimension, key):
    expected_n, expected_q = Counter(), Counter()
    for c in counted(history):
        expected_n[c[key]] += 1
        expected_q[c[key]] += c["defects"]
    with activate(history.tenant):
        rows = pareto.pareto(year_slice(history), dimension, "complaints")
        by_defects = pareto.pareto(year_slice(history), dimension, "defects")
    assert {r.key: r.complaints for r in rows} == dict(expected_n)
    assert {r.key: r.defects for r in rows} == dict(expected_q)
    assert [r.complaints for r in rows] == sorted(expected_n.values(), reverse=True)
    assert [r.defects for r in by_defects] == sorted(expected_q.values(), reverse=True)
    total = sum(expected_n.values())
    running = 0
    for row in rows:
        running += row.complaints
        assert row.cumulative == pytest.approx(running / total)
    assert rows[-1].cumulative == pytest.approx(1.0)


def test_pareto_filters_product_line_customer_and_source(history):
    company = history.companies[0].id
    expected = Counter(c["cause"] for c in counted(history, line="L1", company=company,
                                                   source="production"))
    with activate(history.tenant):
        rows = pareto.pareto(year_slice(history, line="L1", customer=str(company),
                                        source="production"), "cause")
    assert {r.key: r.complaints for r in rows} == dict(expected)


def test_an_empty_period_has_no_rows_and_no_division_by_zero(history):
    s = Slice.from_args(MultiDict({"period": "range", "from": "2024-01-01",
                                   "to": "2024-03-31"}), "Asia/Shanghai")
    with activate(history.tenant):
        assert pareto.pareto(s, "cause") == []
        assert pareto.ratio_by_model(s, "en") == []
        assert [r["received"] for r in loop.flow_by_month(s)] == [0, 0, 0]
        assert loop.rates(s)["reopen_rate"] is None
        assert loop.clock_performance(s) == []
        assert money.costs(s)["total"] == 0
        assert all(r["total"] is None for r in money.satisfaction(s, 60)["by_month"])


def test_defect_ratio_by_month_over_shipments_and_unknown_without_shipments(history):
    defects, shipped = defaultdict(int), defaultdict(int)
    for c in counted(history):
        if c["product"]:
            defects[(c["product"], local_month(c["created"]))] += c["defects"]
    for s in history.shipments:
        shipped[(s["product"], s["month"])] += s["quantity"]
    with activate(history.tenant):
        models = pareto.ratio_by_model(year_slice(history), "en", models=10)
    assert {m.product_id for m in models} == {p.id for p in history.products}
    for model in models:
        for point in model.points:
            key = (model.product_id, point.month)
            assert point.defects == defects[key]
            assert point.shipped == shipped[key]
            if shipped[key]:
                assert point.ratio == pytest.approx(defects[key] / shipped[key])
            else:
                assert point.ratio is None  # unknown, never zero
    no_shipments = next(m for m in models if m.product_id == history.products[2].id)
    assert no_shipments.centre is None and all(p.ratio is None for p in no_shipments.points)
    assert no_shipments.defects > 0
    june = next(p for m in models if m.product_id == history.products[0].id
                for p in m.points if p.month == "2026-06")
    assert june.shipped == 0 and june.ratio is None


def test_p_chart_limits_and_warnings():
    from portal.analytics.pareto import ModelRatio, RatioPoint, _control

    points = [RatioPoint("2026-01", 2, 1000, None), RatioPoint("2026-02", 3, 1000, None),
              RatioPoint("2026-03", 4, 1000, None), RatioPoint("2026-04", 5, 1000, None),
              RatioPoint("2026-05", 40, 1000, None), RatioPoint("2026-06", 1, 0, None)]
    model = _control(ModelRatio(1, "X", "X", points, None))
    centre = 54 / 5000
    assert model.centre == pytest.approx(centre)
    ucl = centre + 3 * (centre * (1 - centre) / 1000) ** 0.5
    assert points[0].ucl == pytest.approx(ucl)
    assert [p.outside for p in points] == [False, False, False, False, True, False]
    # 2→3→4→5 is three rises: flagged at April; May rises again (a fourth)
    assert [p.rising for p in points] == [False, False, False, True, True, False]
    assert points[5].ratio is None and points[5].ucl is None
    assert "outside:2026-05" in model.warnings and "rising:2026-04" in model.warnings


def test_months_follow_the_tenant_zone_at_month_edges(history):
    march = Slice.from_args(MultiDict({"period": "range", "from": "2026-03-01",
                                       "to": "2026-03-31"}), "Asia/Shanghai")
    with activate(history.tenant):
        ids = {c["id"] for c in history.complaints if c["status"] == "analysis"
               and c["created"] in (datetime(2026, 3, 31, 15, 30, tzinfo=UTC),
                                    datetime(2026, 3, 31, 16, 30, tzinfo=UTC))}
        assert len(ids) == 2
        flow = loop.flow_by_month(march)
    expected = len([c for c in counted(history) if local_month(c["created"]) == "2026-03"])
    assert flow == [{"month": "2026-03", "received": expected, "closed": flow[0]["closed"]}]
    assert march.since == datetime(2026, 2, 28, 16, 0, tzinfo=UTC)
    assert march.before == datetime(2026, 3, 31, 16, 0, tzinfo=UTC)
    # 16:30 UTC on 31 March is April in Shanghai (and would be March in UTC)
    assert local_month(datetime(2026, 3, 31, 16, 30, tzinfo=UTC)) == "2026-04"


def test_received_and_closed_by_month(history):
    received, closed = Counter(), Counter()
    for c in counted(history):
        received[local_month(c["created"])] += 1
    for c in history.complaints:
        if c["status"] == "closed" and "2025-12" <= local_month(c["closed_at"]) <= "2026-11":
            closed[local_month(c["closed_at"])] += 1
    with activate(history.tenant):
        flow = loop.flow_by_month(year_slice(history))
    assert {r["month"]: r["received"] for r in flow if r["received"]} == dict(received)
    assert {r["month"]: r["closed"] for r in flow if r["closed"]} == dict(closed)
    assert len(flow) == 12


def test_open_by_age(history):
    from portal.models import OPEN_STATUSES

    now = datetime.now(UTC)
    expected = [0, 0, 0, 0]
    for c in history.complaints:
        if c["status"] in OPEN_STATUSES:
            age = now - c["created"]
            expected[0 if age <= timedelta(days=7) else 1 if age <= timedelta(days=30)
                     else 2 if age <= timedelta(days=90) else 3] += 1
    with activate(history.tenant):
        rows = loop.open_by_age(year_slice(history), now)
    assert [r["count"] for r in rows] == expected


def test_clock_on_time_rates_and_medians_by_department(history):
    now = datetime.now(UTC)
    expected: dict = defaultdict(lambda: [0, 0, 0, []])
    for clock in history.clocks:
        c = clock["complaint"]
        if not in_year(c) or c["status"] == "rejected":
            continue
        row = expected[(clock["kind"], c["dept"])]
        if clock["stopped"] is not None:
            row[0 if clock["stopped"] <= clock["due"] else 1] += 1
            row[3].append((clock["stopped"] - clock["started"]).total_seconds() / 3600)
        elif clock["due"] < now:
            row[1] += 1
        else:
            row[2] += 1
    with activate(history.tenant):
        rows = loop.clock_performance(year_slice(history), now)
    assert {(r.kind, r.department_id) for r in rows} == set(expected)
    for r in rows:
        on_time, late, running, hours = expected[(r.kind, r.department_id)]
        assert (r.on_time, r.late, r.running) == (on_time, late, running)
        hours.sort()
        middle = len(hours) // 2
        median = hours[middle] if len(hours) % 2 else (hours[middle - 1] + hours[middle]) / 2
        assert r.median_hours == pytest.approx(median)


def test_reopen_and_dispute_rates(history):
    mine = {c["id"] for c in counted(history)}
    reopened = {e["complaint"]["id"] for e in history.events if e["kind"] == "reopen"} & mine
    disputed = {e["complaint"]["id"] for e in history.events if e["kind"] == "dispute"} & mine
    closed = {c["id"] for c in counted(history) if c["closed_at"]} | reopened
    answered = {c["id"] for c in counted(history) if c["answered_at"]} | disputed
    with activate(history.tenant):
        figures = loop.rates(year_slice(history))
    assert figures["reopened"] == len(reopened) and figures["closed"] == len(closed)
    assert figures["disputed"] == len(disputed) and figures["answered"] == len(answered)
    assert figures["reopen_rate"] == pytest.approx(len(reopened) / len(closed))


def test_recurrences(history):
    expected = Counter()
    for c in counted(history):
        if c["product"] and c["mode"] and any(
                e["id"] != c["id"] and e["product"] == c["product"] and e["mode"] == c["mode"]
                and e["closed_at"] and e["closed_at"] < c["created"] for e in history.complaints):
            expected[(c["product"], c["mode"])] += 1
    with activate(history.tenant):
        rows = loop.recurrences(year_slice(history))
        by_department = loop.recurrences(year_slice(history), by_department=True)
    assert {(r["product"], r["mode"]): r["count"] for r in rows} == dict(expected)
    assert sum(r["count"] for r in by_department) == sum(expected.values())


def test_costs_by_category_department_and_month(history):
    by_category, by_department, by_month = Counter(), Counter(), Counter()
    for cost in history.costs:
        month = local_month(cost["created"])
        if "2025-12" <= month <= "2026-11":
            by_category[cost["category"]] += cost["amount"]
            by_department[cost["dept"]] += cost["amount"]
            by_month[month] += cost["amount"]
    with activate(history.tenant):
        figures = money.costs(year_slice(history))
    assert dict(figures["by_category"]) == dict(by_category)
    assert dict(figures["by_department"]) == dict(by_department)
    assert {k: v for k, v in figures["by_month"] if v} == dict(by_month)
    assert figures["total"] == sum(by_month.values(), Decimal(0))


def test_satisfaction_by_month_module_and_low_scores(history):
    totals, service = defaultdict(list), defaultdict(list)
    low = set()
    for survey in history.surveys:
        month = local_month(survey["answered"])
        if "2025-12" <= month <= "2026-11":
            totals[month].append(float(survey["total"]))
            service[month].append(float(survey["modules"]["service"]))
            if survey["total"] < 60:
                low.add(survey["complaint"]["id"])
    with activate(history.tenant):
        figures = money.satisfaction(year_slice(history), 60)
    for row in figures["by_month"]:
        if totals[row["month"]]:
            assert row["answers"] == len(totals[row["month"]])
            assert row["total"] == pytest.approx(sum(totals[row["month"]]) / len(totals[row["month"]]))
            assert row["service"] == pytest.approx(sum(service[row["month"]]) / len(service[row["month"]]))
        else:
            assert row["answers"] == 0 and row["total"] is None
    assert {r.complaint_id for r in figures["low"]} == low
    assert all(r.title for r in figures["low"])  # each low score has its follow-up


def test_every_aggregate_sees_only_its_tenant(history, db, make_tenant):
    empty = make_tenant(timezone="Asia/Shanghai")
    s = Slice.from_args(YEAR, "Asia/Shanghai")
    with activate(empty):
        assert pareto.pareto(s, "cause") == []
        assert pareto.ratio_by_model(s, "en") == []
        assert sum(r["received"] + r["closed"] for r in loop.flow_by_month(s)) == 0
        assert sum(r["count"] for r in loop.open_by_age(s)) == 0
        assert loop.clock_performance(s) == []
        assert loop.rates(s) == {"closed": 0, "reopened": 0, "reopen_rate": None,
                                 "answered": 0, "disputed": 0, "dispute_rate": None}
        assert loop.recurrences(s) == [] and loop.overdue_actions(s) == {}
        assert money.costs(s)["total"] == 0
        assert money.satisfaction(s, 60)["low"] == []


def test_overdue_actions_by_department(history):
    expected = Counter()
    for action in history.actions:
        month = local_month(action["due"])
        if "2025-12" <= month <= "2026-11" and (action["done"] is None
                                               or action["done"] > action["due"]):
            expected[action["complaint"]["dept"]] += 1
    with activate(history.tenant):
        assert loop.overdue_actions(year_slice(history)) == dict(expected)


def test_slice_parsing_falls_back_and_links_back():
    today = date(2026, 12, 6)
    s = Slice.from_args(MultiDict({"period": "range", "from": "2026-05-01", "to": "2026-01-01"}),
                        "Asia/Shanghai", today)
    assert (s.period, s.start, s.end) == ("12m", date(2026, 1, 1), date(2027, 1, 1))
    s = Slice.from_args(MultiDict({"period": "'; DROP TABLE x", "product": "-1",
                                   "source": "<script>"}), "Asia/Shanghai", today)
    assert (s.period, s.product, s.source) == ("12m", None, "")
    s = Slice.from_args(MultiDict({"period": "month"}), "Asia/Shanghai", today)
    assert s.months == ["2026-12"] and s.to_args() == {"period": "month"}
    s = Slice.from_args(MultiDict({"period": "range", "from": "2020-01-01", "to": "2026-01-01"}),
                        "Asia/Shanghai", today)
    assert s.period == "12m"  # more than three years is refused
