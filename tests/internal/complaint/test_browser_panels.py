"""The panels in real Chromium on a phone (360 px) in Chinese: a panel's form is posted by htmx
and its answer replaces only that panel (the page is not reloaded; the case header and every
form's version follow out of band); a refused form comes back in the panel with the error and
what was typed; a panel drawn on request opens. No inline script anywhere (the fixtures fail
the test on a Content-Security-Policy report)."""

from __future__ import annotations

import re

import pytest

from tests.browser_support import screenshot
from tests.conftest import PASSWORD
from tests.internal.complaint.test_browser_loop import _seed

pytestmark = pytest.mark.browser


def _accepted_in_chinese(live) -> dict:
    from portal.complaints import workflow
    from portal.models import Complaint, StaffUser, Tenant

    data = _seed(live, "panels")
    with live.seed(data["tenant_id"]) as db:
        db.session.get(Tenant, data["tenant_id"]).default_locale = "zh_CN"
        staff = {u.roles[0]: u for u in db.session.query(StaffUser)}
        complaint = db.session.get(Complaint, data["complaint_id"])
        workflow.transition(complaint, staff["after_sales"], "start_verification")
        workflow.transition(complaint, staff["quality"], "accept")
    return data


def test_a_panel_post_swaps_only_its_panel(live_server, phone_page):
    page = phone_page
    data = _accepted_in_chinese(live_server)
    base = f"{live_server.url}/t/{data['slug']}/staff"
    page.goto(f"{base}/sign-in")
    page.fill("input[name=email]", "quality@panels.example.com")
    page.fill("input[name=password]", PASSWORD)
    page.locator("button[type=submit]").last.click()
    page.wait_for_url(re.compile(r".*/staff/(\?.*)?$"))
    page.goto(f"{base}/complaints/{data['complaint_id']}")
    assert "分类与分流" in page.locator("#panel-classification h2").inner_text()
    page.evaluate("window.notReloaded = true")
    before = page.locator("input.case-version").first.get_attribute("value")

    # A valid save: the panel is replaced with its message; the header follows.
    page.select_option("#classify-severity", "major")
    page.select_option("#classify-cause_category", "machine")
    page.locator("#panel-classification button.primary").click()
    page.wait_for_selector("#panel-classification .flash-success")
    assert page.locator("#panel-classification .flash-success").inner_text() == "分类已保存。"
    assert page.evaluate("window.notReloaded") is True
    assert page.locator("#case-tags .badge-sev-major").count() == 1
    versions = {v.get_attribute("value") for v in page.locator("input.case-version").all()}
    assert len(versions) == 1 and versions != {before}
    assert page.locator("#classify-severity").input_value() == "major"

    # A refused one: the error beside the field, what was typed kept, still no reload.
    # (the form is folded away: unfolding it fetches it, and only it is swapped in)
    page.select_option("#classify-info_class", "B")  # typed, not saved: must survive
    page.locator("#fold-failure_mode > summary").click()
    page.fill("#failure_mode-code", "bad code!")
    page.fill("#failure_mode-name_zh", "外壳毛刺")
    page.fill("#failure_mode-name_en", "Burr")
    assert page.locator("#classify-info_class").input_value() == "B"
    page.locator("#fold-failure_mode button[type=submit]").click()
    page.wait_for_selector("#failure_mode-code-error")
    assert page.locator("#failure_mode-code").input_value() == "bad code!"
    assert page.locator("#failure_mode-name_zh").input_value() == "外壳毛刺"
    assert re.search(r"[\u4e00-\u9fff]", page.locator("#failure_mode-code-error").inner_text())
    assert page.evaluate("window.notReloaded") is True
    screenshot(page, "staff-panels-phone-zh")

    # A panel drawn on request opens in place.
    page.locator("#panel-costs summary").click()
    page.wait_for_selector("#panel-costs:not(.panel-deferred) #costs")
    assert page.evaluate("window.notReloaded") is True
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, width  # nothing wider than the phone
