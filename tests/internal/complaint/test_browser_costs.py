"""Costs corrected and voided in real Chromium on a phone (360 px) in Chinese: the entry's
fold opens with its values filled in, a correction and a void are posted by htmx and only the
costs panel changes (no reload), the originals stay listed struck through with their reason,
the total counts only the valid entries, and the cost-transfer PDF linked from the page says
the same, with its rows whole and the complaint number on every page."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from tests.browser_support import screenshot
from tests.conftest import PASSWORD
from tests.internal.complaint.test_browser_loop import _seed
from tests.pdf_checks import read_pdf

pytestmark = pytest.mark.browser


def _with_costs(live) -> dict:
    from portal.complaints import costs
    from portal.models import Complaint, StaffUser, Tenant

    data = _seed(live, "costs")
    with live.seed(data["tenant_id"]) as db:
        db.session.get(Tenant, data["tenant_id"]).default_locale = "zh_CN"
        finance = db.session.query(StaffUser).filter(StaffUser.email.like("finance@%")).one()
        complaint = db.session.get(Complaint, data["complaint_id"])
        for category, amount in (("freight", "860.00"), ("rework", "1350.00"),
                                 ("freight", "860.00")):
            costs.add_cost(complaint, finance, category=category, amount=Decimal(amount))
        data["number"] = complaint.number
    return data


def test_correct_and_void_a_cost_on_a_phone(live_server, phone_page):
    page = phone_page
    data = _with_costs(live_server)
    base = f"{live_server.url}/t/{data['slug']}/staff"
    page.goto(f"{base}/sign-in")
    page.fill("input[name=email]", "finance@costs.example.com")
    page.fill("input[name=password]", PASSWORD)
    page.locator("button[type=submit]").last.click()
    page.wait_for_url(re.compile(r".*/staff/(\?.*)?$"))
    page.goto(f"{base}/complaints/{data['complaint_id']}")
    page.locator("#panel-costs summary").first.click()
    page.wait_for_selector("#panel-costs:not(.panel-deferred) #costs")
    page.evaluate("window.notReloaded = true")

    # correct the second entry: its fold opens with its values, the reason is asked for
    row = page.locator("#costs tr.cost-active").nth(1)
    row.locator("details.subform > summary").click()
    amount = row.locator("input[name=amount]")
    assert amount.input_value() == "1350.00"
    amount.fill("1530.00")
    row.locator("form").first.locator("textarea[name=reason]").fill("   ")
    row.locator("form").first.locator("button[type=submit]").click()
    page.wait_for_selector("#costs .has-error")  # a blank reason: refused in place
    row = page.locator("#costs tr.cost-active").nth(1)
    assert row.locator("input[name=amount]").input_value() == "1530.00"  # typed, kept
    row.locator("textarea[name=reason]").first.fill("录入时数字颠倒")
    row.locator("form").first.locator("button[type=submit]").click()
    page.wait_for_selector("#costs tr.cost-corrected")

    # void the duplicate
    row = page.locator("#costs tr.cost-active").nth(1)  # the third entry, now second valid
    row.locator("details.subform > summary").click()
    row.locator("form").nth(1).locator("textarea[name=reason]").fill("重复录入")
    row.locator("form").nth(1).locator("button[type=submit]").click()
    page.wait_for_selector("#costs tr.cost-voided")
    assert page.evaluate("window.notReloaded") is True
    panel = page.locator("#costs").inner_text()
    assert "已更正" in panel and "已作废" in panel and "重复录入" in panel
    assert "2390.00 CNY" in panel  # 860 + 1530: the voided and corrected count nowhere
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, width
    screenshot(page, "staff-costs-corrected-phone-zh")

    href = page.locator(".export-links a[href$='cost-transfer.pdf']").get_attribute("href")
    response = page.request.get(live_server.url + href)
    assert response.status == 200
    doc = read_pdf(response.body())
    doc.assert_inside_pages()
    doc.assert_on_every_page(data["number"])
    assert "2390.00" in doc and "录入时数字颠倒" in doc and "重复录入" in doc
