"""The customer's whole loop in real Chromium at a phone's size (360×640), in Chinese and in
English: file with two photos (one HEIC) and three serial numbers, confirmation, the list,
answer a question from staff, dispute the first answer, accept the second. Staff steps run
through the workflow inside ``live_server.seed`` (the staff workspace has its own tests).

Also measured here: no horizontal scrolling, tap targets of 44 px, axe-core without serious
or critical violations, and the form page under 100 KB before photos. Screenshots of the
form, list and complaint pages go to docs/screenshots/ with UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import os
import re
import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.complaints import casework, operations, workflow
from portal.models import (
    Complaint,
    Contact,
    CustomerCompany,
    Department,
    OutboxMessage,
    Photo,
    ProductModel,
    Shipment,
    StaffUser,
    Tenant,
)
from tests.browser_support import ARTIFACTS
from tests.conftest import _PASSWORD_HASH, PASSWORD

from .conftest import heic, image_bytes

pytestmark = pytest.mark.browser

# Screenshots refresh docs/screenshots/ only when asked (UPDATE_SCREENSHOTS=1), so that a plain
# test run leaves the committed pictures alone; otherwise they go to test-artifacts/.
SCREENSHOTS = (Path(__file__).resolve().parents[2] / "docs" / "screenshots"
               if os.environ.get("UPDATE_SCREENSHOTS") else ARTIFACTS)
PAGE_BUDGET = 100_000  # bytes of HTML + CSS + JS the form page loads


def _seed(live, default_locale: str) -> dict:
    slug = f"b{uuid.uuid4().hex[:8]}"
    with live.seed() as db:
        tenant = Tenant(slug=slug, name="Hengtai Machinery", default_locale=default_locale)
        db.session.add(tenant)
        db.session.flush()
        tenant_id = tenant.id
    with live.seed(tenant_id) as db:
        departments = {}
        for kind in ("after_sales", "quality", "engineering", "purchasing"):
            departments[kind] = Department(name=kind.title(), kind=kind)
            db.session.add(departments[kind])
        db.session.flush()
        staff = {}
        for role, kind in (("after_sales", "after_sales"), ("quality", "quality")):
            staff[role] = StaffUser(email=f"{role}@{slug}.example.com", name=f"{role} lead",
                                    roles=[role], department_id=departments[kind].id,
                                    password_hash=_PASSWORD_HASH)
            db.session.add(staff[role])
        company = CustomerCompany(name="Sample Works")
        db.session.add(company)
        db.session.flush()
        contact = Contact(company_id=company.id, name="Li Wei", email=f"li@{slug}.example.com",
                          phone="+86 21 5555 0101", password_hash=_PASSWORD_HASH)
        product = ProductModel(code="PX-100", name_zh="数控车床 PX-100", name_en="CNC lathe PX-100",
                               specification="380 V")
        db.session.add_all([contact, product])
        db.session.flush()
        db.session.add(Shipment(product_model_id=product.id, lot="L1", quantity=200,
                                shipped_on=date(2026, 3, 2), serial_first="AB000100",
                                serial_last="AB000299"))
        db.session.flush()
        return {"slug": slug, "tenant_id": tenant_id, "contact_email": contact.email,
                "staff": {role: user.id for role, user in staff.items()},
                "quality_dept": departments["quality"].id}


def _staff(live, world, *steps):
    """Run staff steps (callables of (complaint, staff by role)) on the newest complaint."""
    with live.seed(world["tenant_id"]) as db:
        complaint = db.session.scalar(select(Complaint).order_by(Complaint.id.desc()).limit(1))
        staff = {role: db.session.get(StaffUser, uid) for role, uid in world["staff"].items()}
        for step in steps:
            step(complaint, staff)
            db.session.flush()


def _move(name, role, message=None):
    return lambda c, s: workflow.transition(c, s[role], name, message)


def _check_phone_layout(page):
    """No horizontal scrolling at 360 px, and every tap target at least 44 px high."""
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, "horizontal scroll"
    small = page.evaluate("""() => {
      const sel = 'button, a.button, .topnav a, select, textarea, summary, .choice, .crumbs a,'
        + ' input:not([type=hidden]):not([type=checkbox]):not([type=file])';
      return [...document.querySelectorAll(sel)].filter(e => {
        const r = e.getBoundingClientRect();
        return r.width > 0 && r.height > 0 && r.height < 44 && !e.closest('[hidden]');
      }).map(e => e.outerHTML.slice(0, 120));
    }""")
    assert small == [], small


def _check_axe(page, what):
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
           for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert bad == [], f"{what}: {bad}"


def _shoot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_whole_loop_on_a_phone(live_server, phone_page, language):
    page = phone_page
    # The tenant speaks the other language; the customer switches with the header button.
    world = _seed(live_server, "en" if language == "zh_CN" else "zh_CN")
    base = f"{live_server.url}/t/{world['slug']}"
    html_lang = "zh-CN" if language == "zh_CN" else "en"
    visitor = language == "zh_CN"  # Chinese run: file without an account; English: signed in

    page.goto(f"{base}/")
    page.locator(f".lang button[value={language}]").click()
    page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == html_lang

    page.goto(f"{base}/sign-in")
    _check_phone_layout(page)
    _check_axe(page, "sign-in")
    if not visitor:
        page.fill("input[name=email]", world["contact_email"])
        page.fill("input[name=password]", PASSWORD)
        page.locator("form:has(input[name=password]) button[type=submit]").click()
        page.wait_for_load_state()

    # -- the form: measured, checked, photographed, then filled ------------------------------
    page.wait_for_load_state("networkidle")
    loaded = []

    def collect(request):
        if request.resource_type in ("document", "stylesheet", "script"):
            loaded.append(request.url)

    page.on("request", collect)
    page.goto(f"{base}/complaints/new")
    page.wait_for_load_state("networkidle")
    page.remove_listener("request", collect)
    # Fetched again so that cached files count too (a first visit loads them all).
    weight = sum(len(page.request.get(url).body()) for url in loaded)
    assert weight < PAGE_BUDGET, f"form page loads {weight} bytes"
    print(f"form page weight ({language}): {weight} bytes")
    assert page.get_attribute("html", "lang") == html_lang
    _check_phone_layout(page)
    _check_axe(page, "form")
    _shoot(page, f"{language}-form")

    if visitor:
        page.fill("#reporter_name", "王工")
        page.fill("#reporter_company", "示例制造有限公司")
        page.fill("#reporter_email", f"wang@{world['slug']}.example.com")
        page.fill("#reporter_phone", "+86 138 0000 0000")
    page.fill("#product", "PX")
    page.fill("#product", "PX-100")
    page.fill("#serials", "AB000101\nAB000102\nab000103")
    page.locator("#serials").blur()
    page.wait_for_selector("#serial-report li.ok >> nth=2")
    page.fill("#defect_quantity", "3")
    if language == "zh_CN":
        page.fill("#description", "主轴运行 10 分钟后停机 <b>每次都这样</b>。\n三台都有此问题。")
        page.fill("#found_at_place", "2 号装配线")
    else:
        page.fill("#description", "Spindle stops after 10 minutes <b>every time</b>.\n"
                                  "All three units.")
        page.fill("#found_at_place", "Assembly line 2")
    page.check("input[name=demands][value=replacement]")
    page.check("input[name=demands][value=claim]")
    page.fill("#claim_amount", "1200")
    big = image_bytes("JPEG", size=(3200, 2400))  # shrunk by the browser before upload
    page.locator("input[type=file][name=photos][multiple]").set_input_files([
        {"name": "spindle.jpg", "mimeType": "image/jpeg", "buffer": big},
        {"name": "nameplate.heic", "mimeType": "image/heic", "buffer": heic((320, 240))},
    ])
    page.wait_for_selector(".photo-item.done >> nth=1", timeout=20_000)
    assert page.locator(".photo-item progress:visible").count() == 0
    _check_phone_layout(page)
    page.locator("button.submit").click()
    page.wait_for_url(re.compile(r"/complaints/.+/filed$"))
    number = page.locator(".number").inner_text().strip()
    assert re.fullmatch(r"QC-\d{4}-\d{5}", number)
    assert page.locator(".next-steps strong").count() == 2  # first contact and answer, by when
    assert page.get_attribute("html", "lang") == html_lang

    with live_server.seed(world["tenant_id"]) as db:
        complaint = db.session.scalar(select(Complaint).where(Complaint.number == number))
        assert sorted(s.value for s in complaint.serial_numbers) == [
            "AB000101", "AB000102", "AB000103"]
        photos = db.session.scalars(select(Photo).where(Photo.complaint_id == complaint.id)).all()
        assert sorted(p.original_filename for p in photos) == ["nameplate.heic", "spindle.jpg"]
        assert max(p.width for p in photos) <= 2560  # shrunk in the browser
        assert str(complaint.claim_amount) == "1200.00"
        mail = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.job == "jobs.mail.send_email").order_by(OutboxMessage.id)).all()
        # this reporter's e-mail: numbers repeat across the tenants of the shared outbox
        body = next(m.args[2] for m in mail
                    if number in m.args[1] and m.args[0] == complaint.reporter_email)

    if visitor:  # the e-mail's one-time link makes the visitor a contact
        link = re.search(r"http://\S+/follow/\S+", body).group(0)
        page.goto(link)
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(re.compile(rf"/complaints/{number}$"))

    page.goto(f"{base}/complaints")
    assert page.locator(".complaint-row", has_text=number).count() == 1
    page.fill("#q", "AB000102")
    page.locator(".filters button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert page.locator(".complaint-row", has_text=number).count() == 1
    page.goto(f"{base}/complaints")
    _check_phone_layout(page)
    _check_axe(page, "list")
    _shoot(page, f"{language}-list")

    # -- staff ask for information; the customer answers with text and a photo ---------------
    _staff(live_server, world, _move("start_verification", "after_sales"),
           _move("request_information", "after_sales",
                 "Please send a photo of the spindle motor nameplate."))
    page.goto(f"{base}/complaints/{number}")
    assert "nameplate" in page.locator("#answer-question").inner_text()
    page.fill("#message", ("电机铭牌见附图。" if language == "zh_CN" else "Motor nameplate attached. ")
              + "<script>alert(1)</script>")
    page.locator("#answer-question input[type=file][name=photos][multiple]").set_input_files([
        {"name": "motor.png", "mimeType": "image/png", "buffer": image_bytes("PNG", (200, 150))}])
    page.wait_for_selector("#answer-question .photo-item.done")
    page.locator("#answer-question button.submit").click()
    page.wait_for_url(re.compile(rf"/complaints/{number}$"))
    assert page.locator("#answer-question").count() == 0
    assert "<script>alert(1)</script>" in page.locator(".timeline").inner_text()

    # -- staff work the case and answer; the customer disputes -------------------------------
    def classify(c, s):
        operations.classify(c, s["quality"], severity="general", info_class="B",
                            cause_category="machine",
                            responsible_department_id=world["quality_dept"])

    def containment(c, s):
        casework.add_action(c, s["after_sales"], kind="containment",
                            title="Three replacement spindles shipped", customer_sees=True)

    def root_cause(c, s):
        c.root_cause = "Bearing preload too low"

    def corrective_done(c, s):
        action = casework.add_action(c, s["quality"], kind="corrective", title="Torque spec")
        casework.complete_action(c, action, s["quality"], result="Instruction updated")

    def effective(c, s):
        c.effective = True

    _staff(live_server, world, _move("accept", "quality"), classify,
           _move("start_containment", "quality"), containment, _move("start_analysis", "quality"),
           root_cause, _move("start_corrective_action", "quality"), corrective_done,
           _move("submit_for_verification", "quality"), effective,
           _move("answer", "after_sales", "We replaced the bearing and changed the torque."))
    page.goto(f"{base}/complaints/{number}")
    assert "torque" in page.locator("#our-answer").inner_text()
    assert "Three replacement spindles" in page.inner_text("main")
    assert page.locator(".photo-tile img").count() == 3  # processed: thumbnails shown
    _check_phone_layout(page)
    _check_axe(page, "detail")
    _shoot(page, f"{language}-detail")
    page.locator("#dispute summary").click()
    page.fill("#reason", "Two spindles still stop after an hour.")
    page.locator("#dispute button[type=submit]").click()
    page.wait_for_url(re.compile(rf"/complaints/{number}$"))
    assert page.locator("#our-answer form").count() == 0

    # -- staff answer again; the customer accepts -------------------------------------------
    _staff(live_server, world, _move("start_corrective_action", "quality"),
           _move("submit_for_verification", "quality"), effective,
           _move("answer", "after_sales", "Second answer: the spindle housings were replaced."))
    page.goto(f"{base}/complaints/{number}")
    assert "housings" in page.locator("#our-answer").inner_text()
    page.locator("#our-answer button[type=submit]").click()
    page.wait_for_url(re.compile(rf"/complaints/{number}$"))
    with live_server.seed(world["tenant_id"]) as db:
        complaint = db.session.scalar(select(Complaint).where(Complaint.number == number))
        assert complaint.status == "closed" and complaint.customer_verdict == "accepted"
    assert page.get_attribute("html", "lang") == html_lang


def test_failed_photo_is_retried_without_losing_the_form(live_server, phone_page):
    """A flaky connection: the first upload of a photo fails, Retry sends it again; what was
    typed stays; a serial is scanned from the nameplate; a double tap on Send files one
    complaint."""
    page = phone_page
    world = _seed(live_server, "en")
    base = f"{live_server.url}/t/{world['slug']}"
    failures = {"left": 1}

    def flaky(route):
        if failures["left"]:
            failures["left"] -= 1
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/photos/stage", flaky)
    # Debian's Chromium has no BarcodeDetector (phones do): a stand-in reads the nameplate.
    page.add_init_script("""window.BarcodeDetector = class {
        detect() { return Promise.resolve([{rawValue: " AB000202 "}]); } };""")
    page.goto(f"{base}/complaints/new")
    page.locator("#product").type("zz")  # the type-ahead asks the catalogue (htmx)
    page.wait_for_function("() => document.querySelectorAll('#product-options option').length == 0")
    page.locator("#product").fill("")
    page.locator("#product").type("px-1")
    page.wait_for_function("() => document.querySelectorAll('#product-options option').length == 1")
    for selector, value in (("#reporter_name", "Li Wei"), ("#reporter_company", "Sample Works"),
                            ("#reporter_email", f"li2@{world['slug']}.example.com"),
                            ("#reporter_phone", "+86 21 5555 0101"), ("#product", "PX-100"),
                            ("#serials", "AB000201"), ("#defect_quantity", "1"),
                            ("#description", "Coolant pump leaks at the seal.")):
        page.fill(selector, value)
    page.check("input[name=demands][value=answer]")
    assert page.locator(".scan").is_visible()
    page.locator(".scan-input").set_input_files([
        {"name": "plate.jpg", "mimeType": "image/jpeg", "buffer": image_bytes("JPEG")}])
    page.wait_for_function("() => document.querySelector('#serials').value.includes('AB000202')")
    assert page.input_value("#serials") == "AB000201\nAB000202"
    page.locator("input[type=file][name=photos][multiple]").set_input_files([
        {"name": "leak.jpg", "mimeType": "image/jpeg", "buffer": image_bytes("JPEG", (640, 480))}])
    page.wait_for_selector(".photo-item.failed")
    assert page.locator("button.submit").is_enabled()
    page.locator(".photo-item.failed button", has_text="Retry").click()
    page.wait_for_selector(".photo-item.done")
    assert page.input_value("#description") == "Coolant pump leaks at the seal."
    page.locator("button.submit").dblclick()
    page.wait_for_url(re.compile(r"/filed$"))
    with live_server.seed(world["tenant_id"]) as db:
        complaints = db.session.scalars(select(Complaint)).all()
        assert len(complaints) == 1 and len(complaints[0].photos) == 1
        assert [n.value for n in complaints[0].serial_numbers] == ["AB000201", "AB000202"]


def test_the_form_works_without_javascript(live_server, browser):
    """The plain multipart form: photos travel with the form; an error keeps them."""
    world = _seed(live_server, "en")
    base = f"{live_server.url}/t/{world['slug']}"
    context = browser.new_context(viewport={"width": 360, "height": 640}, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{base}/complaints/new")
        page.fill("#reporter_name", "Li Wei")
        page.fill("#reporter_company", "Sample Works")
        page.fill("#reporter_email", f"nojs@{world['slug']}.example.com")
        page.fill("#reporter_phone", "+86 21 5555 0101")
        page.fill("#product", "PX-100")
        page.fill("#serials", "AB000111\nAB000112")
        page.fill("#defect_quantity", "2")
        page.check("input[name=demands][value=onsite]")
        page.locator("input[type=file][name=photos][multiple]").set_input_files([
            {"name": "a.jpg", "mimeType": "image/jpeg", "buffer": image_bytes("JPEG")},
            {"name": "b.heic", "mimeType": "image/heic", "buffer": heic()}])
        page.locator("button.submit").click()  # the description is missing
        page.wait_for_load_state()
        assert page.locator("#description-error").is_visible()
        page.locator("#description").scroll_into_view_if_needed()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "en-form-error-nojs.png"))  # the visible part
        assert page.locator(".photo-item.done").count() == 2  # kept, not asked again
        assert page.input_value("#serials").strip() == "AB000111\nAB000112"
        page.fill("#description", "Hydraulic unit loses pressure overnight.")
        page.locator("button.submit").click()
        page.wait_for_url(re.compile(r"/filed$"))
        _shoot(page, "en-filed-nojs")
    finally:
        context.close()
    with live_server.seed(world["tenant_id"]) as db:
        complaint = db.session.scalar(select(Complaint))
        assert sorted(p.original_filename for p in complaint.photos) == ["a.jpg", "b.heic"]
