"""Complaints by e-mail against a real Dovecot over TLS: a known contact's multipart message
with a HEIC photo, a PDF and a Chinese subject in an encoded word is filed once and answered
with its number; a stranger's becomes a visitor complaint; replies thread onto their complaint
with the quoted history stripped; machines are ignored; a run repeated files nothing twice."""

from __future__ import annotations

import re
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, make_msgid

from sqlalchemy import select

from jobs.mailboxes import poll
from portal.mailin.threading import token_for
from portal.models import (
    Complaint,
    InboundMessage,
    OutboxMessage,
    Photo,
    TimelineEvent,
)
from portal.tenancy import activate, unscoped
from tests.jobs.images import heic_bytes

SUBJECT = "电机异响，转速不稳"


def message(sender: str, subject: str, body: str, *, to="service@maker.example.com",
            attachments=(), headers=None) -> bytes:
    outer = MIMEMultipart("mixed")
    outer["From"] = formataddr((str(Header("王工", "utf-8")), sender))
    outer["To"] = to
    outer["Subject"] = Header(subject, "utf-8").encode()  # =?utf-8?b?…?=
    outer["Message-ID"] = make_msgid(domain="customer.example.com")
    for name, value in (headers or {}).items():
        outer[name] = value
    outer.attach(MIMEText(body, "plain", "utf-8"))
    for part in attachments:
        outer.attach(part)
    return outer.as_bytes()


def heic_part() -> MIMEBase:
    part = MIMEBase("image", "heic")
    part.set_payload(heic_bytes(size=(800, 600)))
    from email import encoders

    encoders.encode_base64(part)
    part.add_header("Content-Disposition", "attachment",
                    filename=("gb2312", "", "照片.heic"))
    return part


def pdf_part() -> MIMEApplication:
    part = MIMEApplication(b"%PDF-1.4\n% test report\n", "pdf")
    part.add_header("Content-Disposition", "attachment", filename="检测报告.pdf")
    return part


def _complaints(db, tenant):
    with activate(tenant):
        db.session.expire_all()
        return list(db.session.scalars(select(Complaint).order_by(Complaint.id)))


def _inbound(db, tenant):
    with activate(tenant):
        return list(db.session.scalars(select(InboundMessage).order_by(InboundMessage.id)))


def _mails_to(db, address):
    with unscoped():
        rows = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.job == "jobs.mail.send_email")).all()
    return [r.args for r in rows if r.args[0] == address]


def test_a_contacts_mail_is_filed_once_with_photo_and_files_and_answered(
        db, connected, make_contact, make_staff, client, sign_in):
    tenant, mailbox_id, user = connected
    contact = make_contact(tenant)
    with activate(tenant):
        address, contact_id = contact.email, contact.id
    user.deliver(message(address.upper(), SUBJECT, "从昨天开始电机有异响。\n\n王工",
                         attachments=[heic_part(), pdf_part()]))

    counts = poll(tenant.id, mailbox_id)
    assert counts["filed"] == 1 and user.unseen() == 0
    [complaint] = _complaints(db, tenant)
    with activate(tenant):
        assert (complaint.title, complaint.channel, complaint.contact_id) == \
            (SUBJECT, "email", contact_id)
        assert complaint.description.startswith("从昨天开始电机有异响。")
        [photo] = db.session.scalars(select(Photo).where(Photo.complaint_id == complaint.id))
        assert photo.status == "stored"  # through the photo pipeline (HEIC decoded, re-encoded)
        files = db.session.scalar(select(TimelineEvent).where(
            TimelineEvent.complaint_id == complaint.id, TimelineEvent.kind == "email.files"))
        assert [f["name"] for f in files.data["files"]] == ["检测报告.pdf"]
        number, token = complaint.number, token_for(complaint)

    # Staff see the files on the timeline and download them.
    sign_in(client, tenant, make_staff(tenant, "after_sales").email)
    page = client.get(f"/t/{tenant.slug}/staff/complaints/{complaint.id}",
                   query_string={"panel": "timeline"}).get_data(as_text=True)
    link = re.search(r'href="([^"]+/mail-files/\d+/0)">检测报告.pdf<', page).group(1)
    download = client.get(link)
    assert download.status_code == 200 and download.data.startswith(b"%PDF-1.4")
    assert "attachment" in download.headers["Content-Disposition"]
    download.close()

    [reply] = _mails_to(db, complaint.reporter_email)
    assert number in reply[1]  # the subject names the complaint number
    assert reply[4]["Reply-To"] == f"service+{token}@maker.example.com"
    assert [(m.outcome, m.sender) for m in _inbound(db, tenant)] == [("filed", address.lower())]

    # The job runs again: nothing new. The "seen" flag lost (a crash before flagging): the
    # message is recognised and still filed once.
    assert poll(tenant.id, mailbox_id)["filed"] == 0
    user.mark_all_unseen()
    assert poll(tenant.id, mailbox_id) == {"filed": 0, "threaded": 0, "ignored": 0,
                                           "failed": 0, "seen_before": 1}
    assert len(_complaints(db, tenant)) == 1


def test_a_strangers_mail_becomes_a_visitor_complaint(db, connected):
    tenant, mailbox_id, user = connected
    user.deliver(message("buyer@factory.example.cn", SUBJECT, "请尽快处理"))
    poll(tenant.id, mailbox_id)
    [complaint] = _complaints(db, tenant)
    with activate(tenant):
        assert complaint.contact_id is None and complaint.customer_company_id is None
        assert (complaint.reporter_email, complaint.reporter_name) == \
            ("buyer@factory.example.cn", "王工")
    [reply] = _mails_to(db, "buyer@factory.example.cn")
    assert f"/t/{tenant.slug}/follow/" in reply[2]  # the visitor's one-time link
    assert "与您联系" not in reply[2]  # in the tenant's language (English here) throughout


def test_machines_and_loops_are_ignored(db, connected):
    tenant, mailbox_id, user = connected
    user.deliver(message("a@x.example", "Out of office", "Away",
                         headers={"Auto-Submitted": "auto-replied"}))
    user.deliver(message("b@x.example", "Newsletter", "News", headers={"Precedence": "bulk"}))
    user.deliver(message("service@maker.example.com", "Loop", "Our own mail"))
    bounce = MIMEMultipart("report", report_type="delivery-status")
    bounce["From"] = "MAILER-DAEMON@mx.example"
    bounce["Subject"] = "Undelivered Mail Returned to Sender"
    bounce["Message-ID"] = make_msgid()
    bounce.attach(MIMEText("could not deliver"))
    user.deliver(bounce.as_bytes())
    counts = poll(tenant.id, mailbox_id)
    assert counts["ignored"] == 4 and counts["filed"] == 0
    assert _complaints(db, tenant) == []
    assert sorted(m.reason for m in _inbound(db, tenant)) == \
        ["auto-submitted", "bounce", "bulk", "own address"]


def test_a_reply_threads_onto_its_complaint_as_the_customers_information(
        db, connected, make_contact, make_complaint, make_staff):
    from portal import uow
    from portal.complaints import workflow

    tenant, mailbox_id, user = connected
    contact = make_contact(tenant)
    complaint = make_complaint(tenant, contact)
    staff = make_staff(tenant, "after_sales")
    with activate(tenant):
        workflow.transition(complaint, staff, "start_verification")
        workflow.transition(complaint, staff, "request_information", "请提供铭牌照片")
        uow.commit()
        address, token, complaint_id = contact.email, token_for(complaint), complaint.id
    body = ("铭牌照片见附件，序列号 A123。\n\n"
            "在 2026年12月6日 09:00，售后 <service@maker.example.com> 写道：\n"
            "> 请提供铭牌照片\n")
    user.deliver(message(address, "Re: 请提供信息", body,
                         to=f"service+{token}@maker.example.com",
                         attachments=[heic_part()],
                         headers={"In-Reply-To": f"<cl.{token}.abc@maker.example.com>"}))
    assert poll(tenant.id, mailbox_id)["threaded"] == 1
    [complaint] = _complaints(db, tenant)
    with activate(tenant):
        assert complaint.status == "verifying"
        event = db.session.scalar(select(TimelineEvent).where(
            TimelineEvent.complaint_id == complaint_id,
            TimelineEvent.kind == "transition.provide_information"))
        assert event.message == "铭牌照片见附件，序列号 A123。"
        assert db.session.scalar(select(Photo).where(Photo.complaint_id == complaint_id))

    # Not waiting any more: a further reply is kept as the customer's message.
    user.deliver(message(address, "Re: again", "还有一个问题\n\nOn Mon, Dec 7, 2026 X wrote:\n> old",
                         headers={"References": f"<cl.{token}.def@maker.example.com>"}))
    poll(tenant.id, mailbox_id)
    with activate(tenant):
        reply = db.session.scalar(select(TimelineEvent).where(
            TimelineEvent.complaint_id == complaint_id, TimelineEvent.kind == "email.reply"))
        assert reply.message == "还有一个问题" and reply.customer_visible
    assert len(_complaints(db, tenant)) == 1


def test_a_forged_token_threads_nothing(db, connected, make_complaint):
    tenant, mailbox_id, user = connected
    complaint = make_complaint(tenant)
    with activate(tenant):
        forged = f"c{complaint.id}x{'0' * 16}"
    user.deliver(message("x@elsewhere.example", "Re: hi", "text",
                         to=f"service+{forged}@maker.example.com"))
    assert poll(tenant.id, mailbox_id)["filed"] == 1  # a new complaint, not a reply
    assert len(_complaints(db, tenant)) == 2


def test_an_unreachable_mailbox_is_recorded_and_admins_told(db, connected, make_staff):
    from portal import uow
    from portal.models import Mailbox, Notification

    tenant, mailbox_id, _user = connected
    admin = make_staff(tenant, "admin")
    with activate(tenant):
        from portal.secretbox import encrypt

        db.session.get(Mailbox, mailbox_id).password_encrypted = encrypt("wrong")
        uow.commit()
    poll(tenant.id, mailbox_id)
    with activate(tenant):
        db.session.expire_all()
        mailbox = db.session.get(Mailbox, mailbox_id)
        assert "AUTHENTICATIONFAILED" in mailbox.last_error or "fail" in mailbox.last_error
        told = db.session.scalars(select(Notification).where(
            Notification.event == "mailbox.failed")).all()
        assert [n.recipient for n in told] == [admin.get_id()]


def test_a_flood_from_one_sender_is_held_at_the_filing_limit(db, connected):
    from portal.models import Tenant

    tenant, mailbox_id, user = connected
    with activate(tenant):
        row = db.session.get(Tenant, tenant.id)
        row.settings = {**(row.settings or {}), "filing_limit_per_hour": 2}
        db.session.flush()
    for n in range(3):
        user.deliver(message("flood@spam.example", f"{SUBJECT} {n}", "同样的内容"))
    assert poll(tenant.id, mailbox_id)["filed"] == 2
    assert len(_complaints(db, tenant)) == 2
    assert [m.reason for m in _inbound(db, tenant) if m.outcome == "ignored"] == ["filing limit"]
