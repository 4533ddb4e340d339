"""Complaints by e-mail: a tenant connects an IMAP mailbox (over TLS; the password kept
encrypted, portal/secretbox.py); ``jobs.mailboxes`` fetches its new mail and hands each
message to ``process()`` here, which

- ignores machines: auto-replies, bounces, lists, our own mail (portal/mailin/reading.py);
- threads a reply onto its complaint when the message carries the complaint's signed token
  (reply address or In-Reply-To/References, portal/mailin/threading.py), with the quoted
  history stripped: as the customer's information when the complaint waits on the customer
  (the workflow's ``provide_information``), else as a customer message on the timeline;
- otherwise files a new complaint through the intake operation: from a known contact as that
  contact, from anyone else as a visitor's complaint for after-sales to confirm, and replies
  with the complaint's number;
- takes JPEG/PNG/HEIC attachments through the photo pipeline and keeps other files as
  evidence on the complaint's timeline.

Each message is recorded once per mailbox (``inbound_messages``, unique Message-ID), in the
same transaction as what it caused, so a job run twice (or two at once) files nothing twice.
Flushes, never commits.
"""

from __future__ import annotations

import hashlib
import io
import logging
from datetime import timedelta

from flask import current_app, url_for
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage

from ..complaints import workflow
from ..complaints.casework import store_evidence
from ..complaints.operations import submit_complaint
from ..complaints.permissions import Refused
from ..complaints.timeline import Visitor, record
from ..events import announce
from ..extensions import db
from ..models import Complaint, Contact, InboundMessage, Mailbox, Tenant, utcnow
from ..secretbox import encrypt
from .reading import automatic, html_to_text, is_image, recipients, references, strip_quoted
from .threading import complaint_id_from

log = logging.getLogger(__name__)

MAX_FILES = 10


def connect(*, address: str, host: str, port: int, username: str, password: str,
            folder: str = "INBOX", enabled: bool = True) -> Mailbox:
    """Record a mailbox (the caller checked the host and the login)."""
    mailbox = Mailbox(address=address.strip().lower(), host=host.strip(), port=port,
                      username=username.strip(), password_encrypted=encrypt(password),
                      folder=folder.strip() or "INBOX", enabled=enabled)
    db.session.add(mailbox)
    db.session.flush()
    return mailbox


def message_key(message_id: str | None, uidvalidity, uid) -> str:
    """The Message-ID (hashed when too long), else the IMAP UID with its validity."""
    message_id = (message_id or "").strip()
    if not message_id:
        return f"uid:{uidvalidity}:{uid}"
    if len(message_id) > 250:
        return "sha256:" + hashlib.sha256(message_id.encode()).hexdigest()
    return message_id


def claim(mailbox: Mailbox, key: str, sender: str, subject: str) -> InboundMessage | None:
    """The message's row, written now; None when it was taken before (by this or another run)."""
    if db.session.scalar(select(InboundMessage.id).where(
            InboundMessage.mailbox_id == mailbox.id, InboundMessage.message_key == key)):
        return None
    row = InboundMessage(mailbox_id=mailbox.id, message_key=key, sender=sender[:254] or None,
                         subject=(subject or "")[:300], outcome="ignored")
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:  # another run took it a moment ago
        return None
    return row


def process(mailbox: Mailbox, mail, row: InboundMessage) -> InboundMessage:
    """Act on one fetched message (an imap_tools MailMessage) claimed as ``row``."""
    tenant = db.session.get(Tenant, mailbox.tenant_id)
    sender = (mail.from_ or "").strip().lower()
    own = {mailbox.address.lower(), mailbox.username.lower(),
           _address_of(current_app.config.get("MAIL_FROM") or "")}
    reason = automatic(mail.obj, sender, own)
    if reason:
        row.reason = reason
        return row
    complaint_id = complaint_id_from(f"{recipients(mail.obj)} {references(mail.obj)}", tenant.id)
    complaint = db.session.get(Complaint, complaint_id) if complaint_id else None
    text = _text_of(mail)
    if complaint is not None:
        _thread(complaint, mail, sender, text)
        row.outcome = "threaded"
    else:
        complaint = _file(tenant, mail, sender, text, row.message_key)
        if complaint is None:
            row.reason = "filing limit"
            return row
        row.outcome = "filed"
    row.complaint_id = complaint.id
    return row


def _address_of(value: str) -> str:
    from email.utils import parseaddr

    return parseaddr(value)[1].lower()


def _text_of(mail) -> str:
    text = mail.text or html_to_text(mail.html or "")
    return strip_quoted(text)[:20000]


def _contact(sender: str) -> Contact | None:
    return db.session.scalar(select(Contact).where(func.lower(Contact.email) == sender,
                                                   Contact.active.is_(True)).limit(1))


def _actor(sender: str, mail, company_id: int | None = None):
    contact = _contact(sender)
    if contact is not None and (company_id is None or contact.company_id == company_id):
        return contact
    return Visitor((mail.from_values.name if mail.from_values else "") or sender)


def _thread(complaint: Complaint, mail, sender: str, text: str) -> None:
    actor = _actor(sender, mail, complaint.customer_company_id)
    if complaint.status == "waiting_customer" and text:
        workflow.transition(complaint, actor, "provide_information", text)
    else:
        record(complaint, actor, "email.reply", message=text or None, customer_visible=True,
               data={"from": sender})
        announce("customer_replied", complaint, actor)  # the owner hears it (routing.py)
    _attachments(complaint, mail, actor)


def _over_limit(tenant: Tenant, sender: str) -> bool:
    limit = int(tenant.setting("filing_limit_per_hour"))
    count = db.session.scalar(select(func.count()).select_from(Complaint).where(
        Complaint.channel == "email", func.lower(Complaint.reporter_email) == sender,
        Complaint.created_at > utcnow() - timedelta(hours=1)))
    return count >= limit


def _file(tenant: Tenant, mail, sender: str, text: str, key: str) -> Complaint | None:
    if _over_limit(tenant, sender):
        return None
    actor = _actor(sender, mail)
    contact = actor if isinstance(actor, Contact) else None
    subject = " ".join((mail.subject or "").split())
    data = {"reporter_name": (actor.name or sender)[:120], "reporter_email": sender[:254],
            "reporter_company": contact.company.name[:200] if contact and contact.company
            else None,
            "title": (subject or text.split("\n", 1)[0] or sender)[:200],
            "description": text or subject or "—", "defect_quantity": 1,
            "demands": ["answer"], "channel": "email", "source": "customer"}
    complaint, created = submit_complaint(
        tenant, actor, data=data,
        submission_key="mail:" + hashlib.sha256(key.encode()).hexdigest()[:59])
    if created:
        _attachments(complaint, mail, actor)
        _acknowledge(tenant, complaint, contact)
    return complaint


def _attachments(complaint: Complaint, mail, actor) -> None:
    """Photos through the photo pipeline, other files kept as evidence; refusals noted."""
    from .. import photos

    kept, refused = [], []
    for attachment in list(mail.attachments)[:MAX_FILES]:
        name = attachment.filename or "file"
        upload = FileStorage(io.BytesIO(attachment.payload), filename=name,
                             content_type=attachment.content_type)
        if is_image(attachment.content_type, name):
            try:
                photos.accept_upload(complaint, upload, actor)
                continue
            except photos.PhotoRefused as exc:
                refused.append({"name": name[:120], "reason": str(exc.message)[:200]})
                continue
        try:
            kept.append(store_evidence(complaint, upload))
        except Refused as exc:
            refused.append({"name": name[:120], "reason": str(exc.message)[:200]})
    if kept or refused:
        record(complaint, actor, "email.files", data={"files": kept, "refused": refused})


def _acknowledge(tenant: Tenant, complaint: Complaint, contact: Contact | None) -> None:
    """Reply with the complaint's number (and the link to follow it)."""
    from flask_babel import force_locale

    from ..accounts import issue_token
    from ..complaints import intake
    from ..deadlines import promises_for
    from ..mail import queue_mail

    base = current_app.config.get("PUBLIC_URL") or "http://127.0.0.1:5000"
    with current_app.test_request_context(base_url=base):
        if contact is not None:
            link = url_for("customer.complaint", tenant_slug=tenant.slug,
                           number=complaint.number, _external=True)
        else:
            token = issue_token(intake.ComplaintClaim(complaint.id),
                                purpose=intake.CLAIM_PURPOSE, minutes=intake.CLAIM_MINUTES)
            link = url_for("customer.public_claim", tenant_slug=tenant.slug, token=token,
                           _external=True)
    locale = (contact.locale if contact else None) or tenant.default_locale
    with force_locale(locale):  # the promises' labels, in the recipient's language
        promises = [(str(p.label), p.due_at) for p in promises_for(complaint)
                    if p.state in ("running", "paused")]
    queue_mail(complaint.reporter_email, "complaint_received", locale, complaint=complaint,
               tenant=tenant, link=link, visitor=contact is None, promises=promises)
