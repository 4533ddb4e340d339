"""Issue 10's "done means", in Chromium at phone and desktop widths: a complaint runs through
the whole loop (filed on the portal → information asked → answered → accepted → a return
approved by its chain → 8D by the owner's department → answered → accepted and closed), and at
each step the person whose turn it is has it under My work and got one notification by the
channel they chose (the manager chose the bell only), and the customer got an e-mail, caught
by a real SMTP sink, whose link signs them in and opens the complaint."""

from __future__ import annotations

import re
import time
import uuid
from contextlib import contextmanager
from datetime import date
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from tests.browser_support import screenshot
from tests.conftest import _PASSWORD_HASH, PASSWORD
from tests.internal.complaint import returns_browser
from tests.internal.complaint.test_browser_loop import Desk
from tests.portal.test_notification_routing import _free_port, _Sink

pytestmark = pytest.mark.browser

ROLES = ("after_sales", "quality", "manager", "logistics", "responder")


@contextmanager
def _sink_for(live):
    """A real SMTP sink the live server's mail goes to, for this test only."""
    sink, port = _Sink(), _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    previous = live.app.config.get("MAIL_URL")
    live.app.config["MAIL_URL"] = f"smtp://127.0.0.1:{port}"
    try:
        yield sink
    finally:
        live.app.config["MAIL_URL"] = previous
        controller.stop()


def _seed(live, tag: str) -> dict:
    from portal.models import (
        Contact,
        CustomerCompany,
        Department,
        ProductModel,
        Shipment,
        StaffUser,
        Tenant,
    )
    from portal.notifications import EVENTS, set_preferences

    slug = f"turns-{tag}-{uuid.uuid4().hex[:6]}"
    with live.seed() as db:
        tenant = Tenant(slug=slug, name="示范机械 Turns", default_locale="en", settings={
            "tell_customer_containment": True, "survey_delay_hours": 0,
            "return_approval_chain": ["after_sales", "quality", "manager"]})
        db.session.add(tenant)
        db.session.flush()
        tenant_id = tenant.id
    with live.seed(tenant_id) as db:
        production = Department(name="生产部", kind="production")
        office = Department(name="质量部", kind="quality")
        db.session.add_all([production, office])
        db.session.flush()
        ids = {}
        for role in ROLES:
            user = StaffUser(email=f"{role}@{tag}.example.com", name=f"{role.title()} {tag}",
                             roles=[role], password_hash=_PASSWORD_HASH,
                             department_id=(production if role == "responder" else office).id)
            db.session.add(user)
            db.session.flush()
            ids[role] = user.id
            if role == "manager":  # the manager chose the bell only
                set_preferences(user, {kind: {"in_app": True} for kind in EVENTS})
        company = CustomerCompany(name="华东精密制造有限公司")
        db.session.add(company)
        db.session.flush()
        contact = Contact(company_id=company.id, name="王工", email=f"wang@{slug}.example.com",
                          password_hash=_PASSWORD_HASH, locale="zh_CN")
        product = ProductModel(code="CL-3000", name_zh="数控雕刻机", name_en="CNC engraver")
        db.session.add_all([contact, product])
        db.session.flush()
        db.session.add(Shipment(product_model_id=product.id, lot="202601-01", quantity=200,
                                shipped_on=date(2026, 1, 8), serial_first="CL001000",
                                serial_last="CL001199"))
        email = contact.email
    return {"tenant_id": tenant_id, "slug": slug, "staff": ids, "contact": email}


class Turns:
    """The checks made at each step: the notification, My work, the customer's e-mail."""

    def __init__(self, desk: Desk, sink, world):
        self.desk, self.sink, self.world = desk, sink, world
        self.page, self.live = desk.page, desk.live
        self.mails_seen = 0

    def told(self, role: str, kind: str) -> None:
        """``role`` got exactly one ``kind`` about the complaint, by the chosen channel, and
        finds the complaint under My work."""
        from portal.models import Delivery, Notification

        who = f"staff:{self.world['staff'][role]}"
        with self.live.seed(self.world["tenant_id"]) as db:
            rows = db.session.scalars(select(Notification).where(
                Notification.recipient == who, Notification.event == kind,
                Notification.complaint_id == self.desk.data["complaint_id"])).all()
            assert len(rows) == 1, (role, kind, len(rows))
            mailed = db.session.scalar(select(Delivery.id).where(
                Delivery.notification_id == rows[0].id))
        assert (mailed is None) == (role == "manager"), (role, kind)
        self.desk.as_(role)
        self.page.goto(f"{self.desk.base}/my-work")
        assert self.desk.data["number"] in self.page.locator("main").inner_text(), (role, kind)
        assert int(self.page.locator("#my-work-link .my-work-count").inner_text()) >= 1

    def mailed(self, word: str) -> str:
        """The customer's next e-mail says ``word``, names the complaint and the product; its
        link signs them in (in this browser) and opens the complaint. Returns the page."""
        deadline = time.monotonic() + 30
        while True:
            mails = [m for m in self.sink.messages if m["To"] == self.world["contact"]]
            found = [m for m in mails[self.mails_seen:] if word in m["Subject"]]
            if found or time.monotonic() > deadline:
                break
            self.page.wait_for_timeout(100)
        assert found, (word, [m["Subject"] for m in mails])
        self.mails_seen = mails.index(found[0]) + 1
        text = found[0].get_body(("plain",)).get_content()
        assert self.desk.data["number"] in found[0]["Subject"] and "CL-3000" in text
        link = next(w for line in text.splitlines() for w in line.split() if "://" in w)
        if "/survey/" in link:  # a personal link, no sign-in
            self.page.goto(f"{self.live.url}{urlsplit(link).path}")
        else:  # signs in whoever opens it: a fresh browser session
            self.page.goto("about:blank")  # no staff panel still loading (see Desk.as_)
            self.page.context.clear_cookies()
            self.page.goto(f"{self.live.url}{urlsplit(link).path}")
            self.page.locator("main form button[type=submit]").click()
            self.page.wait_for_url(re.compile(rf"/complaints/{self.desk.data['number']}$"))
        return self.page.content()


def _photo() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (180, 60, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


def _file(page, live, world) -> str:
    """The customer files the complaint on the portal, signed in with their password."""
    base = f"{live.url}/t/{world['slug']}"
    page.goto(f"{base}/sign-in")
    page.fill("input[name=email]", world["contact"])
    page.fill("input[name=password]", PASSWORD)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_load_state()
    page.goto(f"{base}/complaints/new")
    page.fill("#product", "CL-3000")
    page.fill("#serials", "CL001042")
    page.locator("#serials").blur()
    page.wait_for_selector("#serial-report li.ok")
    page.fill("#defect_quantity", "1")
    page.fill("#description", "主轴启动约十分钟后出现尖锐异响。")
    page.check("input[name=demands][value=return]")
    page.locator("input[type=file][name=photos][multiple]").set_input_files([
        {"name": "spindle.jpg", "mimeType": "image/jpeg",
         "buffer": _photo()}])
    page.wait_for_selector(".photo-item.done")
    # Filing runs its jobs (photo, receipt, the after-sales notice) in process: slow under load.
    with page.expect_navigation(timeout=120_000):
        page.locator("button.submit").click(no_wait_after=True)
    assert "/filed" in page.url, page.locator("main").inner_text()[:1500]
    return page.locator(".number").inner_text().strip()


def _staff_steps_to_containment(desk, turns, viewport):
    page = desk.page
    desk.as_("after_sales")
    desk.step("start_verification")
    desk.step("request_information", "请提供设备铭牌照片和批次号。")
    html = turns.mailed("信息")  # the customer answers from the e-mail's link
    assert "请提供设备铭牌照片和批次号。" in html
    page.fill("#message", "批次 202601-01，铭牌见附件。")
    page.locator("#answer-question button.submit").click()
    page.wait_for_selector(".flash-success")
    turns.told("after_sales", "work.customer_replied")
    page.goto(f"{desk.base}/complaints/{desk.data['complaint_id']}")
    desk.step("accept")
    turns.mailed("受理")
    turns.told("quality", "work.to_classify")
    page.goto(f"{desk.base}/complaints/{desk.data['complaint_id']}")
    page.select_option("#classify-severity", "major")
    page.select_option("#classify-info_class", "B")
    page.select_option("#classify-cause_category", "man")
    page.select_option("#classify-department", label="生产部")
    page.select_option("#classify-owner", label=f"Responder {viewport}")
    page.locator("#classify button:has-text('Save classification')").click()
    desk.ok()
    desk.step("start_containment")
    turns.mailed("措施")
    turns.told("responder", "work.assigned")
    # The owner, a responder, records the containment measure (issue 10, item 5).
    page.goto(f"{desk.base}/complaints/{desk.data['complaint_id']}")
    form = desk.open("Add a containment measure", "#containment")
    form.locator("input[name=title]").fill("库存挑选 Sort the stock")
    form.locator("select[name=owner]").select_option(label=f"Responder {viewport}")
    form.locator("input[name=due_at]").fill("2026-12-20T10:00")
    form.locator("button[type=submit]").click()
    desk.ok()


def _return_approved(desk, turns):
    page = desk.page
    desk.as_("after_sales")
    form = desk.open("Turn a demand into a request", "#requests")
    form.locator("select[name=kind]").select_option("return")
    form.locator("input[name=quantity]").fill("1")
    form.locator("button[type=submit]").click()
    desk.ok()
    page.locator("#requests button:has-text('Approve and sign')").first.click()
    desk.ok()
    for role in ("quality", "manager"):
        turns.told(role, "work.approval_waiting")
        page.goto(f"{desk.base}/complaints/{desk.data['complaint_id']}")
        page.locator("#requests button:has-text('Approve and sign')").first.click()
        desk.ok()
    turns.told("logistics", "work.request_to_fulfil")
    page.goto(f"{desk.base}/complaints/{desk.data['complaint_id']}")
    returns_browser.receive(page, desk)  # the goods back into quarantine, on the return's record
    turns.mailed("收到")
    turns.told("after_sales", "work.return_received")
    page.goto(f"{desk.base}/complaints/{desk.data['complaint_id']}")
    returns_browser.analyse(page, desk)
    desk.as_("quality")  # a return cannot close without quality's appraisal
    returns_browser.appraise(page, desk)


def _eight_d_by_the_owner(desk, turns, viewport):
    page = desk.page
    desk.as_("quality")
    desk.step("start_analysis")
    desk.as_("responder")  # the owner's department analyses and corrects
    desk.load("eight_d")
    page.locator("#eight-d button:has-text('Start the 8D report')").click()
    desk.ok()
    page.fill("#root_cause-why1", "主轴异响")
    page.fill("#root_cause-root_cause", "装配作业指导书未规定轴承预紧扭矩")
    page.locator("#analysis button:has-text('Save root cause')").click()
    desk.ok()
    form = desk.open("Add an action", "#corrective")
    form.locator("input[name=title]").fill("作业指导书增加扭矩要求")
    form.locator("select[name=owner]").select_option(label=f"Responder {viewport}")
    form.locator("input[name=due_at]").fill("2026-12-20T10:00")
    form.locator("button[type=submit]").click()
    desk.ok()
    desk.step("start_corrective_action")
    done = desk.open("Mark done", "#corrective")
    done.locator("textarea[name=result]").fill("已更新作业指导书 WI-203 第4版")
    done.locator("button[type=submit]").click()
    desk.ok()
    desk.step("submit_for_verification")
    turns.told("quality", "work.to_verify")
    page.goto(f"{desk.base}/complaints/{desk.data['complaint_id']}")
    page.check("input[name=verdict][value=effective]")
    page.fill("#effectiveness textarea[name=note]", "连续两周无异响")
    page.locator("#effectiveness button[type=submit]").click()
    desk.ok()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_every_turn_reaches_its_person(live_server, browser, viewport, request):
    from portal.models import Complaint

    page = request.getfixturevalue(f"{viewport}_page")
    world = _seed(live_server, viewport)
    with _sink_for(live_server) as sink:
        number = _file(page, live_server, world)
        with live_server.seed(world["tenant_id"]) as db:
            complaint_id = db.session.scalar(select(Complaint.id).where(
                Complaint.number == number))
        desk = Desk(page, live_server, {"complaint_id": complaint_id, "number": number,
                                        "slug": world["slug"]}, viewport)
        turns = Turns(desk, sink, world)
        turns.told("after_sales", "work.arrived")
        _staff_steps_to_containment(desk, turns, viewport)
        _return_approved(desk, turns)
        _eight_d_by_the_owner(desk, turns, viewport)
        desk.as_("after_sales")
        page.fill("#answer-measures", "更换主轴轴承，调整润滑周期。")
        page.fill("#answer-changes", "装配作业指导书已规定扭矩。")
        page.locator("#answer button[type=submit]").click()
        desk.ok()
        html = turns.mailed("答复")  # accept or dispute, from the e-mail's link
        assert "/dispute" in html
        screenshot(page, f"turns-customer-answer-{viewport}")
        page.locator("form[action$='/accept'] button[type=submit]").click()
        page.wait_for_selector(".flash-success")
        survey = turns.mailed("满意")
        assert "survey" in page.url and survey
        page.goto(f"{live_server.url}/t/{world['slug']}/complaints/{number}")
        assert page.locator("#survey a").count() == 1  # the survey, from the complaint page
        screenshot(page, f"turns-customer-closed-{viewport}")
        if viewport == "phone":
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
