"""The customer sees only what someone chose to show: a whole loop through the workspace in
which every text staff write carries its own marker, then every page, e-mail and PDF the
customer can reach is searched for them. Only the texts written for the customer, and the
ones someone ticked "the customer sees this" for, may be there."""

from __future__ import annotations

import io
import re
import subprocess
import uuid

from sqlalchemy import select

from portal import uow
from portal.models import Action, GoodsReturn, OutboxMessage, ServiceRequest
from portal.tenancy import activate
from tests.conftest import PASSWORD
from tests.portal.test_notification_routing import smtp_sink  # noqa: F401  (fixture)


class Marks:
    """Unique words to write into texts: ``hidden(...)`` must never reach the customer,
    ``shown(...)`` must."""

    def __init__(self):
        self.hidden, self.shown = {}, {}

    def _new(self, table, where):
        word = f"M{uuid.uuid4().hex[:10]}x"
        table[word] = where
        return word

    def internal(self, where: str, text: str = "") -> str:
        return f"{text} {self._new(self.hidden, where)}".strip()

    def customer(self, where: str, text: str = "") -> str:
        return f"{text} {self._new(self.shown, where)}".strip()


def ok(response):
    assert response.status_code == 303, re.findall(r"class=\"error[^>]*>([^<]*)", response.get_data(as_text=True))
    return response


def _customer_reads(customer, slug: str, number: str) -> str:
    """Every page of the customer's portal about the complaint, and every PDF it links."""
    texts = []
    for path in (f"/t/{slug}/", f"/t/{slug}/complaints", f"/t/{slug}/complaints/{number}"):
        response = customer.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        texts.append(html)
        for href in re.findall(r'href="([^"]+)"', html):
            if "pdf" in href.lower() and href.startswith("/"):
                pdf = customer.get(href)
                if pdf.status_code == 200 and pdf.data.startswith(b"%PDF"):
                    texts.append(subprocess.run(["pdftotext", "-", "-"], input=pdf.data,
                                                capture_output=True, check=True).stdout.decode())
    return "\n".join(texts)


def _customer_mails(sink, db, tenant, address: str) -> str:
    parts = []
    for mail in sink.messages:
        if mail["To"] == address:
            parts.append(mail["Subject"])
            parts += [part.get_content() for part in mail.walk()
                      if part.get_content_maintype() == "text"]
    with activate(tenant):  # and whatever is queued for them but not sent yet
        for row in db.session.scalars(select(OutboxMessage)
                                      .where(OutboxMessage.job == "jobs.mail.send_email")):
            if row.args and row.args[0] == address:
                parts.append(" ".join(str(a) for a in row.args))
    return "\n".join(parts)


def _loop_to_answer(shop, as_role, db, complaint_id: int, m: Marks) -> None:  # noqa: PLR0915
    p = f"/complaints/{complaint_id}"
    after_sales, quality, responder = as_role("after_sales"), as_role("quality"), as_role("responder")
    manager, logistics, finance = as_role("manager"), as_role("logistics"), as_role("finance")
    ok(after_sales.post(f"{p}/transition/start_verification", page=p))
    ok(after_sales.post(f"{p}/transition/request_information",
                        {"message": m.customer("question", "Which lot?")}, page=p))
    ok(after_sales.post(f"{p}/transition/resume_verification",
                        {"message": m.internal("resume note", "Called them")}, page=p))
    ok(after_sales.post(f"{p}/checklist", {"confirmed": ["customer"],
                                           "note": m.internal("checklist note")}, page=p))
    ok(after_sales.post(f"{p}/visit", {"visited_on": "2026-02-01", "visitor": "Wang",
                                       "notes": m.internal("visit notes")}, page=p))
    ok(after_sales.post(f"{p}/visit", {"visited_on": "2026-02-02", "visitor": "Li",
                                       "notes": m.customer("visit shown"),
                                       "customer_sees": "y"}, page=p))
    ok(quality.post(f"{p}/transition/accept", page=p))
    ok(quality.post(f"{p}/classify", {"severity": "major", "info_class": "A",
                                      "cause_category": "material",
                                      "failure_mode": str(shop.mode_id),
                                      "owner": str(shop.staff_ids["quality"])}, page=p))
    ok(quality.post(f"{p}/problem/new", {"title": m.internal("problem title"),
                                         "analysis": m.internal("problem analysis")}, page=p))
    ok(quality.post(f"{p}/transition/start_containment", page=p))
    owner = str(shop.staff_ids["after_sales"])
    ok(after_sales.post(f"{p}/actions/containment", {
        "kind": "containment", "title": m.internal("hidden measure"),
        "description": m.internal("hidden measure details"), "owner": owner,
        "due_at": "2026-03-01T10:00"}, page=p))
    ok(after_sales.post(f"{p}/actions/containment", {
        "kind": "containment", "title": m.customer("shown measure"),
        "description": m.customer("shown measure details"), "customer_sees": "y",
        "owner": owner, "due_at": "2026-03-01T10:00"}, page=p))
    ok(after_sales.post(f"{p}/requests", {"kind": "return", "quantity": "1",
                                          "note": m.internal("return note", "运费由我方承担")},
                        page=p))
    ok(after_sales.post(f"{p}/requests", {"kind": "replacement", "quantity": "2",
                                          "note": m.customer("replacement note"),
                                          "customer_sees": "y"}, page=p))
    with activate(shop.tenant):
        ret, rep = db.session.scalars(select(ServiceRequest).order_by(ServiceRequest.id)).all()
        ret_id, rep_id = ret.id, rep.id
    for role, staff in (("after_sales", after_sales), ("quality", quality),
                        ("manager", manager)):
        ok(staff.post(f"{p}/requests/{ret_id}/decide",
                      {"decision": "approve", "note": m.internal(f"{role} approval note")},
                      page=p))
    ok(logistics.post(f"{p}/requests/{rep_id}/ship", {"carrier": "sf", "tracking_number": "SF123"}, page=p))
    with activate(shop.tenant):  # the return's goods are received on its record (RMA)
        record_id = db.session.scalar(select(GoodsReturn.id).where(
            GoodsReturn.request_id == ret_id))
    ok(logistics.post(f"{p}/returns/{record_id}/receive", {
        "quantity_received": "1", "received_on": "2026-03-02", "condition": "intact",
        "warehouse_location": m.internal("warehouse"), "quarantine_tag": "QT-7",
        "note": m.internal("received note")}, page=p))
    ok(quality.post(f"{p}/transition/start_analysis", page=p))
    ok(quality.post(f"{p}/8d", {"requested_by_customer": "y"}, page=p))
    ok(quality.post(f"{p}/root-cause", {"root_cause": m.internal("root cause"),
                                        "why1": m.internal("why 1"), "why2": m.internal("why 2"),
                                        "material": m.internal("5M1E material")}, page=p))
    ok(quality.post(f"{p}/actions/corrective", {
        "kind": "corrective", "title": m.internal("corrective title"),
        "description": m.internal("corrective details"),
        "owner": str(shop.staff_ids["responder"]), "due_at": "2026-03-05T10:00"}, page=p))
    ok(quality.post(f"{p}/transition/start_corrective_action", page=p))
    with activate(shop.tenant):
        action_id = db.session.scalar(select(Action.id).where(Action.kind == "corrective"))
    ok(responder.post(f"{p}/actions/{action_id}/done",
                      {"result": m.internal("action result"),
                       "evidence": (io.BytesIO(b"%PDF-1.4 evidence"), "instruction.pdf")},
                      page=p, content_type="multipart/form-data"))
    ok(responder.post(f"{p}/transition/submit_for_verification", page=p))
    for d in range(1, 9):
        extra = {2: {k: m.internal(f"8D D2 {k}") for k in ("what", "where", "when", "how_many")},
                 4: {k: m.internal(f"8D D4 {k}") for k in ("occurrence_point", "escape_point")},
                 6: {"validation": m.internal("8D D6 validation"), "result": "passed"}}
        ok(quality.post(f"{p}/8d/sections", {"discipline": str(d), **extra.get(d, {}),
                                              "text": m.internal(f"8D D{d}")}, page=p))
    ok(quality.post(f"{p}/8d/summary", {"summary": m.customer("8D summary")}, page=p))
    ok(quality.post(f"{p}/effectiveness", {"verdict": "effective",
                                           "note": m.internal("effectiveness note")}, page=p))
    ok(finance.post(f"{p}/costs", {"category": "freight", "amount": "120.50", "currency": "CNY",
                                   "department": str(shop.dept_ids["purchasing"]),
                                   "note": m.internal("cost note")}, page=p))
    ok(after_sales.post(f"{p}/answer", {"measures": m.customer("answer measures"),
                                        "changes": m.customer("answer changes")}, page=p))


def test_no_internal_text_reaches_the_customer(app, shop, as_role, make_complaint, db,
                                               sign_in, smtp_sink):  # noqa: F811
    complaint = make_complaint(shop.tenant, shop.contact, product_model_id=shop.product_id,
                               demands=["return", "replacement"])
    with activate(shop.tenant):
        number, address, cid = complaint.number, shop.contact.email, complaint.id
        uow.commit()
    marks = Marks()
    _loop_to_answer(shop, as_role, db, cid, marks)

    customer = app.test_client()
    assert sign_in(customer, shop.tenant, address, PASSWORD, staff=False).status_code == 303
    before = _customer_reads(customer, shop.slug, number)
    page = customer.get(f"/t/{shop.slug}/complaints/{number}").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    accepted = customer.post(f"/t/{shop.slug}/complaints/{number}/accept",
                             data={"csrf_token": token})
    assert accepted.status_code in (200, 303)
    seen = before + _customer_reads(customer, shop.slug, number)
    mails = _customer_mails(smtp_sink, db, shop.tenant, address)
    assert mails, "the customer got no e-mail at all: the loop did not run as meant"

    leaked = {where: word for word, where in marks.hidden.items()
              if word in seen or word in mails}
    assert not leaked, f"internal texts the customer can read: {leaked}"
    missing = {where: word for word, where in marks.shown.items() if word not in seen}
    assert not missing, f"texts meant for the customer that they cannot read: {missing}"
    # and the staff still read every one of them
    staff_page = as_role("quality").get(f"/complaints/{cid}?panel=timeline")
    staff_text = staff_page.get_data(as_text=True)
    for word, where in marks.hidden.items():
        if where in ("checklist note", "return note", "quality approval note"):
            assert word in staff_text, where
