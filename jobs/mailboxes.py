"""E-mail intake: the clock enqueues ``poll_all`` every MAIL_INTAKE_INTERVAL seconds, which
queues one ``poll`` per enabled mailbox; ``poll`` fetches unseen mail and hands each message
to portal.mailin, committing after each (so a crash loses nothing done and repeats nothing:
the message's row is unique per mailbox). Seen is flagged only after the commit."""

from __future__ import annotations

import logging
import time

from flask import current_app, has_app_context
from imap_tools import AND, MailMessageFlags
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from . import _get_app, tenant_job

log = logging.getLogger(__name__)
BATCH = 50


def poll_all() -> int:
    """Queue a poll of every enabled mailbox of every tenant; returns how many."""
    from portal import tenancy, uow
    from portal.extensions import db
    from portal.models import Mailbox
    from portal.queueing import enqueue

    app = current_app._get_current_object() if has_app_context() else _get_app()
    with app.app_context():
        try:
            with tenancy.unscoped():
                boxes = db.session.execute(select(Mailbox.tenant_id, Mailbox.id)
                                           .where(Mailbox.enabled.is_(True))).all()
            slot = int(time.time() // max(int(app.config["MAIL_INTAKE_INTERVAL"]), 1))
            for tenant_id, mailbox_id in boxes:
                with tenancy.activate(tenant_id):
                    try:
                        with db.session.begin_nested():
                            enqueue("jobs.mailboxes.poll", mailbox_id,
                                    job_id=f"mailbox-{mailbox_id}-{slot}")
                    except IntegrityError:
                        pass  # queued already in this interval
            uow.commit()
            return len(boxes)
        except Exception:
            uow.rollback()
            raise
        finally:
            db.session.remove()


@tenant_job
def poll(mailbox_id: int) -> dict:
    from portal import uow
    from portal.extensions import db
    from portal.mailin import imap
    from portal.models import Mailbox, utcnow

    mailbox = db.session.get(Mailbox, mailbox_id)
    if mailbox is None or not mailbox.enabled:
        return {"skipped": True}
    counts = {"filed": 0, "threaded": 0, "ignored": 0, "failed": 0, "seen_before": 0}
    try:
        with imap.open_mailbox(mailbox) as box:
            status = box.folder.status(mailbox.folder, ["UIDVALIDITY"])
            for mail in box.fetch(AND(seen=False), mark_seen=False, limit=BATCH):
                outcome = _one(mailbox, mail, status.get("UIDVALIDITY"))
                counts[outcome] += 1
                box.flag([mail.uid], MailMessageFlags.SEEN, True)
        mailbox = db.session.get(Mailbox, mailbox_id)
        mailbox.last_polled_at, mailbox.last_error = utcnow(), None
    except Exception as exc:  # noqa: BLE001 — recorded for the admin, tried again next beat
        uow.rollback()
        _failed(mailbox_id, f"{type(exc).__name__}: {exc}"[:500])
    uow.commit()
    return counts


def _one(mailbox, mail, uidvalidity) -> str:
    """Process one message in its own transaction; returns its outcome."""
    from portal import mailin, uow

    key = mailin.message_key(mail.obj.get("Message-ID"), uidvalidity, mail.uid)
    sender = (mail.from_ or "").strip().lower()
    row = mailin.claim(mailbox, key, sender, mail.subject)
    if row is None:
        return "seen_before"
    try:
        mailin.process(mailbox, mail, row)
        outcome = row.outcome
        uow.commit()
        return outcome
    except Exception as exc:  # noqa: BLE001 — kept as "failed" with its reason
        log.exception("mail %s of mailbox %s not processed", key, mailbox.id)
        uow.rollback()
        row = mailin.claim(mailbox, key, sender, mail.subject)
        if row is not None:
            row.outcome, row.reason = "failed", f"{type(exc).__name__}: {exc}"[:200]
            uow.commit()
        return "failed"


def _failed(mailbox_id: int, error: str) -> None:
    from portal.extensions import db
    from portal.models import Mailbox, StaffUser
    from portal.notifications import notify

    mailbox = db.session.get(Mailbox, mailbox_id)
    first = mailbox.last_error is None
    mailbox.last_error = error
    if first:
        admins = [u for u in db.session.scalars(select(StaffUser).where(StaffUser.active))
                  if u.has_role("admin")]
        notify("mailbox.failed", admins, data={"address": mailbox.address, "error": error},
               dedupe_key=f"mailbox-failed-{mailbox.id}-{int(time.time() // 3600)}")
