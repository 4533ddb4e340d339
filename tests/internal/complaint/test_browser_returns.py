"""A returned spindle in real Chromium: the customer asked for a return in their complaint;
after-sales turns it into a return request (an RMA number at once), the tenant's chain of
three signs it, logistics receives the goods into quarantine, after-sales signs the first
analysis, quality appraises the purchased part with a photo (a supplier request opens from
it), after-sales issues good parts — each form posted by htmx into its panel at desktop width
in English; then the customer follows it on a phone in Chinese: RMA number, received, the
verdict, good parts sent, and none of the internal notes."""

from __future__ import annotations

import re

import pytest

from tests.browser_support import screenshot
from tests.conftest import _PASSWORD_HASH, PASSWORD
from tests.internal.complaint import returns_browser
from tests.internal.complaint.returns_support import jpeg_bytes
from tests.internal.complaint.test_browser_loop import Desk, _seed

pytestmark = pytest.mark.browser


def _in_containment(live) -> dict:
    from portal.complaints import workflow
    from portal.complaints.operations import classify
    from portal.models import Complaint, Contact, StaffUser, Supplier, SupplierContact, Tenant

    data = _seed(live, "rma")
    with live.seed(data["tenant_id"]) as db:
        staff = {u.roles[0]: u for u in db.session.query(StaffUser)}
        complaint = db.session.get(Complaint, data["complaint_id"])
        workflow.transition(complaint, staff["after_sales"], "start_verification")
        workflow.transition(complaint, staff["quality"], "accept")
        classify(complaint, staff["quality"], severity="general", info_class="B",
                 cause_category="machine", owner_id=staff["quality"].id)
        workflow.transition(complaint, staff["quality"], "start_containment")
        supplier = Supplier(name="精密主轴 Precision Spindle", code="SP-01",
                            part_numbers=["SPN-6K-01"])
        db.session.add(supplier)
        db.session.flush()
        db.session.add(SupplierContact(supplier_id=supplier.id, name="张工",
                                       email="zhang@spindle.example.com"))
        contact = db.session.get(Contact, data["contact_id"])
        contact.password_hash = _PASSWORD_HASH
        db.session.get(Tenant, data["tenant_id"]).default_locale = "en"
    return data


def test_a_return_from_the_customers_request_to_good_parts(live_server, desktop_page, browser):
    page = desktop_page
    data = _in_containment(live_server)
    desk = Desk(page, live_server, data, "rma")

    desk.as_("after_sales")
    form = desk.open("Turn a demand into a request", "#requests")
    form.locator("select[name=kind]").select_option("return")
    form.locator("input[name=quantity]").fill("1")
    form.locator("button[type=submit]").click()
    desk.ok()
    page.reload()
    rma = page.locator("#returns .rma").inner_text()
    assert re.fullmatch(r"RMA-\d{4}-00001", rma)
    for role in ("after_sales", "quality", "manager"):
        if role != "after_sales":
            desk.as_(role)
        page.locator("#requests button:has-text('Approve and sign')").first.click()
        desk.ok()

    desk.as_("logistics")
    returns_browser.receive(page, desk)
    assert "QT-0042" in page.locator("#returns").inner_text()
    desk.as_("after_sales")
    returns_browser.analyse(page, desk)
    desk.as_("quality")
    returns_browser.appraise(page, desk, supplier="精密主轴 Precision Spindle (SP-01)",
                             photo=jpeg_bytes())
    text = page.locator("#returns").inner_text()
    assert "Product quality problem" in text and "bearing.jpg" in text
    assert "Scrapped as material waste: 1" in text and "SCAR-" in text
    desk.as_("after_sales")
    returns_browser.issue(page, desk)
    assert "Good parts issued" in page.locator("#returns").inner_text()
    assert page.locator("#returns a:has-text('Appraisal form (PDF)')").count() == 1
    screenshot(page, "returns-staff-desktop")

    phone = browser.new_context(viewport={"width": 360, "height": 640}, device_scale_factor=2,
                                is_mobile=True, has_touch=True, locale="zh-CN")
    try:
        customer = phone.new_page()
        base = f"{live_server.url}/t/{data['slug']}"
        customer.goto(f"{base}/sign-in")
        customer.locator(".lang button[value=zh_CN]").click()
        customer.wait_for_load_state()
        customer.fill("input[name=email]", "wang@rma.example.com")
        customer.fill("input[name=password]", PASSWORD)
        customer.locator("form:has(input[name=password]) button[type=submit]").click()
        customer.wait_for_load_state()
        customer.goto(f"{base}/complaints/{data['number']}")
        card = customer.locator("#returns").inner_text()
        assert rma in card and "您的退回材料" in card
        assert "属我方产品质量问题" in card and "合格品已发出" in card
        whole = customer.content()
        for internal in ("QT-0042", "Q-3", "疑似轴承失效", "滚道烧蚀", "bearing.jpg"):
            assert internal not in whole
        width = customer.evaluate("document.documentElement.scrollWidth")
        assert width <= 360
        screenshot(customer, "returns-customer-phone-zh")
    finally:
        phone.close()
