"""The 8D panel in real Chromium: on a phone (360 px) in Chinese it opens when asked for, a
refused team change (a second leader) comes back inside the panel with the error and what was
typed, a discipline saves by htmx without a reload, and nothing is wider than the phone; at
desktop width in English the same panel. Screenshots under test-artifacts/."""

from __future__ import annotations

import re

import pytest

from tests.browser_support import ARTIFACTS, screenshot
from tests.conftest import PASSWORD
from tests.internal.complaint.test_browser_loop import _seed

pytestmark = pytest.mark.browser


def _analysis_with_8d(live, tag: str, locale: str) -> dict:
    from datetime import timedelta

    from portal.complaints import casework, eight_d, workflow
    from portal.complaints.operations import classify
    from portal.models import Complaint, StaffUser, Tenant, utcnow

    data = _seed(live, tag)
    with live.seed(data["tenant_id"]) as db:
        db.session.get(Tenant, data["tenant_id"]).default_locale = locale
        staff = {u.roles[0]: u for u in db.session.query(StaffUser)}
        complaint = db.session.get(Complaint, data["complaint_id"])
        workflow.transition(complaint, staff["after_sales"], "start_verification")
        workflow.transition(complaint, staff["quality"], "accept")
        classify(complaint, staff["quality"], severity="major", info_class="B",
                 cause_category="machine", owner_id=staff["quality"].id)
        workflow.transition(complaint, staff["quality"], "start_containment")
        casework.add_action(complaint, staff["after_sales"], kind="containment",
                            title="库存主轴复检 Re-test spindles in stock",
                            owner_id=staff["after_sales"].id, due_at=utcnow() + timedelta(days=1))
        workflow.transition(complaint, staff["quality"], "start_analysis")
        eight_d.start_report(complaint, staff["quality"], requested_by_customer=True)
        data["names"] = {role: u.name for role, u in staff.items()}
        data["ids"] = {role: u.id for role, u in staff.items()}
    return data


def _open_panel(page, live, data, tag: str) -> None:
    base = f"{live.url}/t/{data['slug']}/staff"
    page.goto(f"{base}/sign-in")
    page.fill("input[name=email]", f"quality@{tag}.example.com")
    page.fill("input[name=password]", PASSWORD)
    page.locator("button[type=submit]").last.click()
    page.wait_for_url(re.compile(r".*/staff/(\?.*)?$"))
    page.goto(f"{base}/complaints/{data['complaint_id']}")
    page.locator("#panel-eight_d summary").first.click()
    page.wait_for_selector("#panel-eight_d #eight-d")


def _team_change(page, staff_id: int, responsibility: str) -> None:
    """Unfold D1's team form and post ``staff_id`` as the leader."""
    page.locator("#d1 details.subform > summary").click()
    page.select_option("#team-staff_user", str(staff_id))
    page.select_option("#team-role", "leader")
    page.fill("#team-responsibility", responsibility)
    page.locator("#d1 details.subform button[type=submit]").click()


def test_eight_d_panel_on_a_phone_in_chinese(live_server, phone_page):
    page = phone_page
    data = _analysis_with_8d(live_server, "eightdzh", "zh_CN")
    _open_panel(page, live_server, data, "eightdzh")
    assert "D1 成立小组" in page.locator("#d1 > summary").inner_text()
    page.evaluate("window.notReloaded = true")

    page.locator("#d1 > summary").click()
    _team_change(page, data["ids"]["quality"], "组织分析与验证")
    page.wait_for_selector("#panel-eight_d .flash-success")
    assert "组长" in page.locator("#d1 .team").inner_text()  # D1 stays open

    # a second leader is refused inside the panel, with what was typed
    _team_change(page, data["ids"]["technical"], "工艺分析 kept")
    page.wait_for_selector("#panel-eight_d .form-errors")
    assert "小组已有组长" in page.locator("#panel-eight_d .form-errors").first.inner_text()
    assert page.locator("#team-responsibility").input_value() == "工艺分析 kept"

    # D2 in 5W2H saves by htmx, the panel answers alone
    page.locator("#d2 > summary").click()
    for field, value in (("what", "主轴异响"), ("where", "客户二号车间"), ("when", "2026-11"),
                         ("how_many", "3/40"), ("is_what", "前轴承"), ("is_not_what", "电机")):
        page.fill(f"#section2-{field}", value)
    page.check("#section2-customer_visible")
    page.locator("#d2 form button[type=submit]").click()
    page.wait_for_selector("#panel-eight_d .flash-success")
    assert page.evaluate("window.notReloaded") is True
    assert page.locator("#section2-where").input_value() == "客户二号车间"
    page.locator("#d4 > summary").click()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, width
    screenshot(page, "eight-d-page-phone-zh")
    page.locator("#panel-eight_d").screenshot(path=str(ARTIFACTS / "eight-d-panel-phone-zh.png"))


def test_eight_d_panel_at_desktop_width_in_english(live_server, desktop_page):
    page = desktop_page
    data = _analysis_with_8d(live_server, "eightden", "en")
    _open_panel(page, live_server, data, "eightden")
    for d in (1, 2, 3):
        page.locator(f"#d{d} > summary").click()
    assert "D2 Problem description" in page.locator("#d2 > summary").inner_text()
    assert page.locator("#section2-what").is_visible()
    assert "Re-test spindles in stock" in page.locator("#d3").inner_text()
    screenshot(page, "eight-d-page-desktop-en")
    page.locator("#panel-eight_d").screenshot(path=str(ARTIFACTS / "eight-d-panel-desktop-en.png"))
