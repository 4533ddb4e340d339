"""Warranty in Chromium, in Chinese on a 360 px phone: after-sales records a serial's
installation date on the complaint page (htmx answers the panel), the status turns from
unknown to in warranty with its end date, and the queue's warranty filter, chosen in the
form, is a link that shows the same list when opened again."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from portal.complaints.operations import submit_complaint
from portal.models import (
    Contact,
    CustomerCompany,
    Department,
    ProductModel,
    Shipment,
    StaffUser,
    Tenant,
)
from tests.browser_support import screenshot
from tests.conftest import _PASSWORD_HASH
from tests.internal.test_my_work_browser import _sign_in

pytestmark = pytest.mark.browser


def _seed(live) -> dict:
    slug = f"w{uuid.uuid4().hex[:8]}"
    with live.seed() as db:
        tenant = Tenant(slug=slug, name="恒泰机械", default_locale="zh_CN")
        db.session.add(tenant)
        db.session.flush()
        tenant_id = tenant.id
    with live.seed(tenant_id) as db:
        tenant = db.session.get(Tenant, tenant_id)
        dept = Department(name="售后服务部", kind="after_sales")
        company = CustomerCompany(name="华东客户")
        product = ProductModel(code="VT-200", name_zh="振动筛", name_en="Vibrating screen",
                               warranty_months=24, warranty_basis="installation")
        db.session.add_all([dept, company, product])
        db.session.flush()
        db.session.add(StaffUser(email=f"a@{slug}.example.com", name="赵售后",
                                 roles=["after_sales"], department_id=dept.id,
                                 password_hash=_PASSWORD_HASH))
        contact = Contact(company_id=company.id, name="李伟", email=f"li@{slug}.example.com")
        shipment = Shipment(product_model_id=product.id, lot="L1", quantity=10,
                            shipped_on=date(2026, 1, 10), serial_first="VT000100",
                            serial_last="VT000109")
        db.session.add_all([contact, shipment])
        db.session.flush()
        complaint, _ = submit_complaint(tenant, contact, data={
            "reporter_name": "李伟", "title": "振动筛异响", "description": "筛网振动异常",
            "defect_quantity": 1, "demands": ["onsite"], "product_model_id": product.id},
            serials=[{"value": "VT000105", "shipment_id": shipment.id}])
        db.session.flush()
        return {"slug": slug, "email": f"a@{slug}.example.com", "id": complaint.id,
                "number": complaint.number}


def test_installation_date_and_queue_filter_in_chinese_on_a_phone(live_server, phone_page):
    world = _seed(live_server)
    page = phone_page
    _sign_in(page, live_server, world["slug"], world["email"])
    base = f"{live_server.url}/t/{world['slug']}/staff"
    page.goto(f"{base}/complaints/{world['id']}")
    serials = page.locator("#serials")
    assert "保修状态未知" in serials.locator("#complaint-warranty").inner_text()
    assert "尚未记录安装日期" in serials.inner_text()
    serials.locator("input[type=date]").fill("2026-02-01")
    serials.locator("button[type=submit]").click()
    page.wait_for_selector("#complaint-warranty:has-text('在保修期内')")
    assert "至 2028-02-01" in page.locator("#complaint-warranty").inner_text()
    assert "安装日期已保存" in page.locator("#panel-intake").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, "horizontal scroll"
    screenshot(page, "warranty-serials-zh-360")
    page.goto(f"{base}/?view=all")
    page.locator("details.filter-more summary").click()
    page.select_option("#f-warranty", "expired")
    page.locator(".filter-actions button[type=submit]").click()
    page.wait_for_url("**warranty=expired**")
    assert world["number"] not in page.locator("#queue-results").inner_text()
    page.select_option("#f-warranty", "in_warranty")
    page.locator(".filter-actions button[type=submit]").click()
    page.wait_for_url("**warranty=in_warranty**")
    bookmark = page.url
    page.goto(bookmark)
    assert world["number"] in page.locator("#queue-results").inner_text()
    assert page.locator("#f-warranty").input_value() == "in_warranty"
