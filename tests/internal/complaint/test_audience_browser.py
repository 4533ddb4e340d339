""""The customer sees this" in real Chromium on a phone in Chinese: the box is unticked, the
preview says the note stays with staff, ticking it shows the note as the customer's timeline
will (htmx, no reload), and the saved entry is the customer's to read; an unticked note is
not."""

from __future__ import annotations

import re

import pytest

from tests.browser_support import screenshot
from tests.conftest import PASSWORD
from tests.internal.complaint.test_browser_loop import _seed

pytestmark = pytest.mark.browser


def test_the_customer_sees_only_the_ticked_note(live_server, phone_page):
    from portal.complaints import workflow
    from portal.models import Complaint, StaffUser, Tenant, TimelineEvent

    page, live = phone_page, live_server
    data = _seed(live, "audience")
    with live.seed(data["tenant_id"]) as db:
        db.session.get(Tenant, data["tenant_id"]).default_locale = "zh_CN"
        staff = {u.roles[0]: u for u in db.session.query(StaffUser)}
        workflow.transition(db.session.get(Complaint, data["complaint_id"]),
                            staff["after_sales"], "start_verification")
    base = f"{live.url}/t/{data['slug']}/staff"
    page.goto(f"{base}/sign-in")
    page.fill("input[name=email]", "after_sales@audience.example.com")
    page.fill("input[name=password]", PASSWORD)
    page.locator("button[type=submit]").last.click()
    page.wait_for_url(re.compile(r".*/staff/(\?.*)?$"))
    page.goto(f"{base}/complaints/{data['complaint_id']}")
    page.evaluate("window.notReloaded = true")

    panel = page.locator("#panel-verification")
    box = panel.locator("input[name=customer_sees]").first
    assert not box.is_checked()
    note = panel.locator("textarea[name=note]")
    note.fill("铭牌照片已收到，<b>无需</b>再补充。")
    preview = panel.locator(".audience-preview").first
    assert "仅内部可见" in preview.inner_text()
    box.check()
    page.wait_for_selector("#panel-verification .customer-preview-card")
    card = panel.locator(".customer-preview-card")
    assert "铭牌照片已收到，<b>无需</b>再补充。" in card.inner_text()  # as text, not markup
    note.fill("铭牌照片已收到，无需再补充。")
    page.wait_for_function(
        "() => document.querySelector('#panel-verification .customer-preview-card')"
        ".innerText.includes('无需再补充')")
    screenshot(page, "staff-audience-preview-phone-zh")
    panel.locator("form:has(textarea[name=note]) button[type=submit]").click()
    page.wait_for_selector("#panel-verification .flash-success")
    assert page.evaluate("window.notReloaded") is True

    with live.seed(data["tenant_id"]) as db:
        event = db.session.query(TimelineEvent).filter_by(
            complaint_id=data["complaint_id"], kind="verification.checklist").one()
        assert event.customer_visible and event.customer_text_visible
