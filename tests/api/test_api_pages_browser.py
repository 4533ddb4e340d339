"""The API tokens page and the API reference on a 360 px phone, in English and Chinese, in
real Chromium under the site's CSP: the admin makes a token, the secret is shown once and
works against the live API; nothing overflows the screen sideways."""

from __future__ import annotations

import json
import urllib.request
import uuid

import pytest

from tests.browser_support import screenshot

pytestmark = pytest.mark.browser


def _seed(live):
    from portal.models import Department, StaffUser, Tenant
    from tests.conftest import _PASSWORD_HASH

    tag = uuid.uuid4().hex[:6]
    with live.seed() as db:
        tenant = Tenant(slug=f"api-{tag}", name=f"示范机械 API {tag}", default_locale="en")
        db.session.add(tenant)
        db.session.flush()
        tenant_id, slug = tenant.id, tenant.slug
    with live.seed(tenant_id) as db:
        department = Department(name="质量部", kind="quality")
        db.session.add(department)
        db.session.flush()
        db.session.add_all([
            StaffUser(email=f"admin@{tag}.example.com", name="管理员 Admin", roles=["admin"],
                      department_id=department.id, password_hash=_PASSWORD_HASH),
            StaffUser(email=f"quality@{tag}.example.com", name="质量 Zhou", roles=["quality"],
                      department_id=department.id, password_hash=_PASSWORD_HASH)])
    return slug, f"admin@{tag}.example.com"


def _no_sideways_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= 362


def test_tokens_page_and_reference_on_a_phone(live_server, phone_page):
    from tests.conftest import PASSWORD

    slug, email = _seed(live_server)
    page = phone_page
    base = f"{live_server.url}/t/{slug}"
    page.goto(f"{base}/staff/sign-in")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("form:has(#password) button[type=submit]")
    page.wait_for_url(f"{base}/staff/**")
    page.goto(f"{base}/staff/admin/api-tokens")
    page.fill("#name", "ERP 同步 nightly")
    page.select_option("#acting_user", label=page.locator("#acting_user option",
                                                          has_text="质量 Zhou").inner_text())
    page.check("input[value='read']")
    page.check("input[value='catalogue:write']")
    page.click("text=Create token")
    secret = page.locator("#new-token").inner_text()
    assert secret.startswith("clk_")
    _no_sideways_scroll(page)
    screenshot(page, "api-tokens-phone-en")

    request = urllib.request.Request(f"{base}/api/v1/product-models",
                                     headers={"Authorization": f"Bearer {secret}"})
    with urllib.request.urlopen(request) as response:
        assert json.load(response) == {"items": [], "next_cursor": None}

    page.goto(f"{base}/staff/admin/api-tokens")
    assert secret not in page.content() and "ERP 同步 nightly" in page.content()
    page.click("button[value='zh_CN']")
    page.wait_for_selector("text=API 令牌")
    _no_sideways_scroll(page)
    screenshot(page, "api-tokens-phone-zh")

    page.goto(f"{base}/api/v1/docs")
    page.wait_for_selector("text=POST /shipments/upsert")
    _no_sideways_scroll(page)
    screenshot(page, "api-reference-phone-zh")
