"""My work in Chromium, in Chinese on a 360 px phone: the header count, the sections, no
horizontal scroll; and the empty state."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from portal.complaints import casework, requests, workflow
from portal.complaints.operations import classify, submit_complaint
from portal.models import Contact, CustomerCompany, Department, StaffUser, Tenant, utcnow
from tests.browser_support import screenshot
from tests.conftest import _PASSWORD_HASH, PASSWORD

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
        dept = Department(name="质量部", kind="quality")
        db.session.add(dept)
        db.session.flush()
        me = StaffUser(email=f"q@{slug}.example.com", name="王质量", roles=["quality"],
                       department_id=dept.id, password_hash=_PASSWORD_HASH)
        helper = StaffUser(email=f"a@{slug}.example.com", name="赵售后", roles=["after_sales"],
                           department_id=dept.id, password_hash=_PASSWORD_HASH)
        company = CustomerCompany(name="华东客户")
        db.session.add_all([me, helper, company])
        db.session.flush()
        contact = Contact(company_id=company.id, name="李伟", email=f"li@{slug}.example.com")
        db.session.add(contact)
        db.session.flush()
        complaint, _ = submit_complaint(tenant, contact, data={
            "reporter_name": "李伟", "reporter_email": contact.email,
            "title": "主轴运行五十小时后卡死，客户产线停机", "description": "主轴卡死",
            "defect_quantity": 2, "demands": ["return"]})
        workflow.transition(complaint, helper, "start_verification")
        workflow.transition(complaint, helper, "accept")
        classify(complaint, helper, severity="major", info_class="A", cause_category="machine",
                 owner_id=me.id)
        casework.add_action(complaint, helper, kind="containment", title="库存四百件全部挑选",
                            owner_id=me.id, due_at=utcnow() + timedelta(days=1))
        ret = requests.create_request(complaint, helper, kind="return", quantity=2)
        requests.decide(complaint, ret, helper, approve=True, note=None)
    return {"slug": slug, "me": f"q@{slug}.example.com", "helper": f"a@{slug}.example.com"}


def _sign_in(page, live, slug, email):
    page.goto(f"{live.url}/t/{slug}/staff/sign-in")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("form:has(input[name=password]) button[type=submit]")
    assert "/sign-in" not in page.url, page.content()[:2000]


def test_my_work_in_chinese_on_a_phone(live_server, phone_page):
    world = _seed(live_server)
    page = phone_page
    _sign_in(page, live_server, world["slug"], world["me"])
    page.goto(f"{live_server.url}/t/{world['slug']}/staff/my-work")
    assert page.locator("h1").inner_text() == "我的待办"
    assert page.locator("#my-work-link .my-work-count").inner_text() == "3"
    for section in ("#my-approvals", "#my-actions", "#my-complaints"):
        assert page.locator(section).is_visible(), section
    assert "库存四百件全部挑选" in page.locator("#my-actions").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, "horizontal scroll"
    screenshot(page, "my-work-zh-360")


def test_nothing_waits_in_chinese(live_server, phone_page):
    world = _seed(live_server)
    page = phone_page
    _sign_in(page, live_server, world["slug"], world["helper"])
    page.goto(f"{live_server.url}/t/{world['slug']}/staff/my-work")
    assert page.locator("#my-work-empty").inner_text() == "目前没有等待您处理的事项。"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "my-work-zh-360-empty")


def test_my_work_in_english_on_a_desktop(live_server, desktop_page):
    world = _seed(live_server)
    page = desktop_page
    _sign_in(page, live_server, world["slug"], world["me"])
    page.goto(f"{live_server.url}/t/{world['slug']}/staff/")
    with page.expect_navigation():
        page.click("form[action='/lang'] button:has-text('English')")
    assert page.locator("#my-work-link").inner_text().startswith("My work")
    page.click("#my-work-link")
    page.wait_for_selector("#my-approvals")
    assert page.locator("h1").inner_text() == "My work"
    assert "Return" in page.locator("#my-approvals").inner_text()
    screenshot(page, "my-work-en-desktop")
