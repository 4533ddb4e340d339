"""The analytics dashboard and meeting pack in real Chromium at desktop (1280) and phone (360)
widths, in English and Chinese: charts drawn (inline SVG, no script refused by the CSP), nothing
wider than the screen, and a bar of a chart clicked through to the queue filtered to exactly the
complaints it counts. Screenshots go to test-artifacts/ (look at them)."""

from __future__ import annotations

import random
import re
import uuid

import pytest

from tests.browser_support import screenshot
from tests.conftest import _PASSWORD_HASH, PASSWORD

from .conftest import seed_history

pytestmark = pytest.mark.browser
YEAR = "period=range&from=2025-12-01&to=2026-11-30"


@pytest.fixture(scope="module")
def seeded(live_server):
    from portal.models import Department, StaffUser, Tenant

    tag = uuid.uuid4().hex[:6]
    with live_server.seed() as db:
        tenant = Tenant(slug=f"an-{tag}", name=f"示范机械 Analytics {tag}", default_locale="en",
                        timezone="Asia/Shanghai")
        db.session.add(tenant)
        db.session.flush()
        tenant_id = tenant.id
    with live_server.seed(tenant_id) as db:
        tenant = db.session.get(Tenant, tenant_id)
        history = seed_history(db, tenant, random.Random(7), count=220)
        department = Department(name="质量部", kind="quality")
        db.session.add(department)
        db.session.flush()
        for locale in ("en", "zh_CN"):
            db.session.add(StaffUser(email=f"manager-{locale}@{tag}.example.com",
                                     name=f"Manager {locale}", roles=["manager"], locale=locale,
                                     department_id=department.id, password_hash=_PASSWORD_HASH))
        _reports(db, history)
    return {"slug": f"an-{tag}", "tag": tag, "base": f"{live_server.url}/t/an-{tag}/staff"}


def _reports(db, history):
    """Two open escalation reports: a market exception on a ratio and a special report on
    repeated complaints, with their complaints, lot, owner and due time."""
    from datetime import UTC, datetime

    from portal.models import EscalationReport, StaffUser

    owner = db.session.scalars(db.select(StaffUser)).first()
    related = [c["id"] for c in history.complaints[:3]]
    window = {"window_start": "2026-03-01", "window_end": "2026-05-31", "window_months": 3,
              "complaints": 3, "first_complaint_at": "2026-05-02T01:00:00+00:00"}
    db.session.add_all([
        EscalationReport(number="MQE-2026-0007", kind="market_exception",
                         trigger="ratio_exception", lot="LOT-2026-05-A", owner_id=owner.id,
                         product_model_id=history.products[0].id,
                         failure_mode_id=history.modes[0].id,
                         due_at=datetime(2026, 12, 20, 9, tzinfo=UTC),
                         evidence={"figures": {**window, "ratio": 0.0042, "defects": 21,
                                               "shipped": 5000, "repeat_count": 1,
                                               "repeat_days": 30},
                                   "thresholds": {"exception": 0.003, "special": 0.01,
                                                  "repeat_count": 3},
                                   "related_complaints": related}),
        EscalationReport(number="QSR-2026-0003", kind="special", trigger="repeat",
                         product_model_id=history.products[1].id, owner_id=owner.id,
                         evidence={"figures": {**window, "ratio": None, "defects": 9,
                                               "shipped": 0, "repeat_count": 4,
                                               "repeat_days": 30},
                                   "thresholds": {"exception": 0.003, "special": 0.01,
                                                  "repeat_count": 3},
                                   "related_complaints": related[:2]}),
    ])
    db.session.flush()


def _sign_in(page, seeded, locale):
    page.goto(f"{seeded['base']}/sign-in")
    page.fill("input[name=email]", f"manager-{locale}@{seeded['tag']}.example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]:has-text('Sign in')")
    page.wait_for_url(re.compile(r".*/staff/(\?.*)?$"))


def _no_horizontal_overflow(page):
    width = page.evaluate("document.documentElement.clientWidth")
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width + 1, (scroll, width)


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_dashboard_and_click_through(seeded, browser, request, viewport, locale):
    page = request.getfixturevalue(f"{viewport}_page")
    _sign_in(page, seeded, locale)
    nav = page.locator('a[href$="/staff/analytics"]').first
    assert nav.inner_text() == ("Analytics" if locale == "en" else "质量分析")
    if viewport == "phone" and not nav.is_visible():
        page.locator(".nav-toggle, summary").first.click()
    nav.click()
    page.wait_for_url(re.compile(r".*/staff/analytics$"))
    page.goto(f"{seeded['base']}/analytics?{YEAR}")
    charts = page.locator("svg.chart")
    assert charts.count() >= 10
    box = charts.first.bounding_box()
    assert box["width"] > 200 and box["height"] > 80
    _no_horizontal_overflow(page)
    screenshot(page, f"analytics-{viewport}-{locale}")
    # The first bar of the cause Pareto, clicked: the queue shows as many complaints as the bar.
    bar = page.locator("#pareto-cause svg a").first
    label = bar.locator("title").text_content()
    count = int(re.search(r"(\d+)\s*$", label).group(1))
    bar.locator("rect").click(force=True)
    page.wait_for_url(re.compile(r".*/staff/\?.*cause=.*"))
    text = page.locator("body").inner_text()
    expected = f"{count} complaint" if locale == "en" else f"{count}"
    assert expected in text


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_meeting_pack_page(seeded, browser, request, viewport, locale):
    page = request.getfixturevalue(f"{viewport}_page")
    _sign_in(page, seeded, locale)
    page.goto(f"{seeded['base']}/analytics/meeting?month=2026-05")
    assert page.locator("svg.chart").count() >= 2
    heading = "Department assessment" if locale == "en" else "部门考核"
    assert heading in page.locator("body").inner_text()
    _no_horizontal_overflow(page)
    screenshot(page, f"meeting-pack-{viewport}-{locale}")


@pytest.mark.parametrize("viewport,locale", [("phone", "zh_CN"), ("desktop", "en")])
def test_escalation_reports_list_and_detail(seeded, browser, request, viewport, locale):
    page = request.getfixturevalue(f"{viewport}_page")
    _sign_in(page, seeded, locale)
    page.goto(f"{seeded['base']}/reports")
    text = page.locator("body").inner_text()
    for shown in ("MQE-2026-0007", "LOT-2026-05-A", "4.20‰ > 3‰ (21/5000)",
                  "Open" if locale == "en" else "处理中"):
        assert shown in text, shown
    assert "market_exception" not in text and "ratio_exception" not in text
    _no_horizontal_overflow(page)
    screenshot(page, f"reports-{viewport}-{locale}")
    page.locator("a:has-text('MQE-2026-0007')").first.click()
    page.wait_for_url(re.compile(r".*/staff/reports/\d+$"))
    assert page.locator('a[href*="/staff/complaints/"]').count() >= 3
    assert ("Mode 0" if locale == "en" else "失效0") in page.locator("body").inner_text()
    _no_horizontal_overflow(page)
    screenshot(page, f"report-detail-{viewport}-{locale}")
