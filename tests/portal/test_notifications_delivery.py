"""Notifications reach a real SMTP sink (aiosmtpd) and a local HTTP server standing in for the
WeCom, DingTalk and Feishu robots; signatures are checked as the platforms document them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote_plus, urlsplit

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from portal import uow
from portal.models import Delivery, Notification
from portal.notifications import mark_read, notify, set_preferences, unread_count
from portal.tenancy import activate

SMTP_PORT = 5431
HTTP_PORT = 5442


class _Sink:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp_sink(app, monkeypatch):
    sink = _Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=SMTP_PORT)
    controller.start()
    monkeypatch.setitem(app.config, "MAIL_URL", f"smtp://127.0.0.1:{SMTP_PORT}")
    try:
        yield sink
    finally:
        controller.stop()


@pytest.fixture
def robot_server():
    calls = []
    answers = {"/fail": {"errcode": 310000, "errmsg": "sign not match"}}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            calls.append({"path": self.path, "body": json.loads(body), "at": time.time(),
                          "content_type": self.headers["Content-Type"]})
            path = urlsplit(self.path).path
            answer = answers.get(path, {"code": 0, "msg": "success"} if "feishu" in path
                                 else {"errcode": 0, "errmsg": "ok"})
            raw = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", HTTP_PORT), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield calls
    finally:
        server.shutdown()
        server.server_close()


def test_email_and_robots_are_delivered_and_signed(db, make_tenant, make_staff, make_complaint,
                                                   smtp_sink, robot_server):
    base = f"http://127.0.0.1:{HTTP_PORT}"
    tenant = make_tenant(settings={"webhooks": [
        {"channel": "wecom", "url": f"{base}/wecom/send?key=KEY-1",
         "events": ["deadline.breached"]},
        {"channel": "dingtalk", "url": f"{base}/dingtalk/send?access_token=TOKEN",
         "secret": "SECdingtalk", "events": ["deadline.breached"]},
        {"channel": "feishu", "url": f"{base}/feishu/hook/abc", "secret": "feishu-secret",
         "events": ["deadline.breached"]},
        {"channel": "feishu", "url": f"{base}/feishu/other", "events": ["report.opened"]},
    ]})
    complaint = make_complaint(tenant)  # filed before the staff exist: only the sweep tells
    english = make_staff(tenant, "after_sales", locale="en", email="owner@staff.example.com")
    quiet = make_staff(tenant, "manager", email="quiet@staff.example.com")
    number = complaint.number
    with activate(tenant):
        set_preferences(quiet, {"deadline.breached": {"in_app": True, "email": False}})
        before = time.time()
        notify("deadline.breached", [english, quiet, english], complaint=complaint,
               data={"clock_kind": "first_contact", "due_at": "2026-03-09T01:00:00+00:00"},
               dedupe_key="clock:1:breached")
        uow.commit()  # relays the outbox: the jobs run in process and send for real
        deliveries = db.session.scalars(select(Delivery).order_by(Delivery.id)).all()
        assert sorted(d.channel for d in deliveries) == ["dingtalk", "email", "feishu", "wecom"]
        assert all(d.status == "sent" and d.attempts == 1 for d in deliveries), \
            [(d.channel, d.last_error) for d in deliveries]
        assert unread_count(english) == 1 and unread_count(quiet) == 1

    # E-mail: one, to the owner only (the manager switched e-mail off), in English.
    assert len(smtp_sink.messages) == 1
    mail = smtp_sink.messages[0]
    assert mail["To"] == "owner@staff.example.com"
    assert number in mail["Subject"] and "deadline missed" in mail["Subject"]
    text = mail.get_body(("plain",)).get_content()
    assert "First contact with the customer was due at 2026-03-09 09:00 (Asia/Shanghai)" in text
    assert mail.get_body(("html",)) is not None

    by_path = {urlsplit(c["path"]).path: c for c in robot_server}
    assert set(by_path) == {"/wecom/send", "/dingtalk/send", "/feishu/hook/abc"}
    # WeCom: the key stays in the URL; markdown body.
    wecom = by_path["/wecom/send"]
    assert parse_qs(urlsplit(wecom["path"]).query) == {"key": ["KEY-1"]}
    assert wecom["body"]["msgtype"] == "markdown"
    assert number in wecom["body"]["markdown"]["content"]
    # DingTalk: timestamp (ms) and sign in the query; sign = base64(HMAC-SHA256(secret,
    # timestamp + "\n" + secret)).
    ding = by_path["/dingtalk/send"]
    query = parse_qs(urlsplit(ding["path"]).query)
    assert query["access_token"] == ["TOKEN"]
    timestamp = query["timestamp"][0]
    assert before * 1000 - 1000 <= int(timestamp) <= time.time() * 1000
    expected = base64.b64encode(hmac.new(b"SECdingtalk", f"{timestamp}\nSECdingtalk".encode(),
                                         hashlib.sha256).digest()).decode()
    assert unquote_plus(query["sign"][0]) == expected or query["sign"][0] == expected
    assert ding["body"]["msgtype"] == "markdown" and ding["body"]["markdown"]["title"]
    # Feishu: timestamp (s) and sign in the body; sign = base64(HMAC-SHA256(key=timestamp +
    # "\n" + secret, message=b"")).
    feishu = by_path["/feishu/hook/abc"]["body"]
    expected = base64.b64encode(hmac.new(f"{feishu['timestamp']}\nfeishu-secret".encode(), b"",
                                         hashlib.sha256).digest()).decode()
    assert feishu["sign"] == expected
    assert feishu["msg_type"] == "text" and number in feishu["content"]["text"]

    # The same notification again (a sweep run twice): nothing new is written or sent.
    with activate(tenant):
        assert notify("deadline.breached", [english, quiet], complaint=complaint,
                      data={"clock_kind": "first_contact"}, dedupe_key="clock:1:breached") == []
        uow.commit()
    assert len(smtp_sink.messages) == 1 and len(robot_server) == 3


def test_a_refused_robot_message_is_recorded_for_the_admin(db, make_tenant, make_staff,
                                                           make_complaint, robot_server):
    tenant = make_tenant(settings={"webhooks": [
        {"channel": "dingtalk", "url": f"http://127.0.0.1:{HTTP_PORT}/fail?access_token=x",
         "secret": "s", "events": ["deadline.warning"]}]})
    owner = make_staff(tenant, "after_sales")
    set_preferences(owner, {})  # everything off: only the robot is told
    complaint = make_complaint(tenant)
    with activate(tenant):
        notify("deadline.warning", [owner], complaint=complaint, data={"clock_kind": "answer"})
        uow.commit()
        delivery = db.session.scalar(select(Delivery))
        assert delivery.status == "failed" and delivery.attempts == 1
        assert "310000" in delivery.last_error
        assert db.session.scalars(select(Notification).where(
            Notification.recipient == f"staff:{owner.id}")).all() == []


def test_bell_counts_and_marks_read(db, make_tenant, make_staff, make_complaint):
    tenant = make_tenant()
    user = make_staff(tenant, "quality")
    complaint = make_complaint(tenant)
    with activate(tenant):
        notify("deadline.warning", [user], complaint=complaint, data={"clock_kind": "answer"})
        notify("deadline.breached", [user], complaint=complaint, data={"clock_kind": "answer"})
        assert unread_count(user) == 2
        assert mark_read(user) == 2
        assert unread_count(user) == 0
