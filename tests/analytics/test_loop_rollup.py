"""The loop figures' rollup (refreshed by a job) gives the live figures: the same met, late and
running clocks per kind and department as of the refresh, medians within their hours bucket,
the same reopen/dispute counts, recurrences and survey scores; only the tenant's own; a
filtered slice is counted live; the page says when the figures were counted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from werkzeug.datastructures import MultiDict

from portal.analytics import loop, loop_rollup, money
from portal.analytics.period import Slice
from portal.tenancy import activate

YEAR = MultiDict({"period": "range", "from": "2025-12-01", "to": "2026-11-30"})


def _tolerance(hours: float) -> float:
    return 1.0 if hours < 48 else 6 if hours < 720 else 12


def test_refreshed_figures_equal_the_live_ones(history):
    now = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
    tenant = history.tenant
    with activate(tenant):
        assert loop_rollup.refresh(tenant.id, tenant.timezone, now) > 0
        s = Slice.from_args(YEAR, tenant.timezone)
        assert loop_rollup.usable(s)
        stored = loop_rollup.LoopFigures(s)
        assert stored.computed_at == now
        live = {(r.kind, r.department_id): r for r in loop.clock_performance(s, now)}
        rows = {(r.kind, r.department_id): r for r in stored.clocks()}
        assert rows.keys() == live.keys() and rows
        for key, row in rows.items():
            assert (row.on_time, row.late, row.running) == (
                live[key].on_time, live[key].late, live[key].running)
            if live[key].median_hours is None:
                assert row.median_hours is None
            else:
                assert row.median_hours == pytest.approx(
                    live[key].median_hours, abs=_tolerance(live[key].median_hours))
        assert stored.rates() == loop.rates(s)
        assert stored.recurrences() == loop.recurrences(s)
        assert stored.recurrences(by_department=True) == loop.recurrences(s, by_department=True)
        assert stored.costs() == money.costs(s) and stored.costs()["total"] > 0
        for got, want in zip(stored.satisfaction(), money.satisfaction(s, 60)["by_month"],
                             strict=True):
            assert got["answers"] == want["answers"]
            for key in ("total", "overall", "service", "quality"):
                assert got[key] == pytest.approx(want[key]) if want[key] is not None \
                    else got[key] is None


def test_filtered_or_part_month_slices_read_the_rollup_and_count_the_rest(history):
    """Whole months come from the rollup, the rest is counted now (test_loop_figures.py checks
    the figures): a filtered view has nothing from the rollup, a part-month range some."""
    tenant = history.tenant
    zone = tenant.timezone
    with activate(tenant):
        loop_rollup.refresh(tenant.id, zone)
        product = str(history.products[0].id)
        for args, stored in (({"product": product}, False), ({"from": "2026-01-10"}, True),
                             ({"from": "2026-01-10", "to": "2026-01-20"}, False),
                             ({"source": "production"}, True)):
            figures = loop_rollup.LoopFigures(Slice.from_args(MultiDict({**YEAR, **args}), zone))
            assert (figures.computed_at is not None) == stored, args


def test_the_page_says_when_the_loop_figures_were_counted(history, db, make_tenant):
    from portal.analytics import dashboard

    other = make_tenant(timezone="Asia/Shanghai")
    with activate(other):  # another tenant's refresh never shows
        loop_rollup.refresh(other.id, other.timezone)
    with activate(history.tenant):
        s = Slice.from_args(YEAR, history.tenant.timezone)
        assert dashboard.build(s, history.tenant, "complaints", lambda a: "")["computed_at"] is None
        loop_rollup.refresh(history.tenant.id, history.tenant.timezone)
        sections = dashboard.build(s, history.tenant, "complaints", lambda a: "")
        assert sections["computed_at"] is not None
        assert sections["rates"].extra == loop.rates(s)
