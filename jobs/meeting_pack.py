"""The monthly quality meeting pack by mail.

``due()`` runs on the clock (``flask clock``, every 15 minutes; see portal/deadlines/cli.py):
for each live tenant whose local date is the first working day of its month (its own working
calendar: weekends, mainland holidays and make-up days, its exceptions) and whose local hour
has reached ``meeting_pack_hour``, it claims last month's pack (one ``meeting_packs`` row per
tenant and month, unique, so running twice or concurrently claims it once) and queues
``build_and_mail`` through the outbox. Tenants that set ``meeting_pack_mail`` to false are
skipped.

``build_and_mail`` renders the pack's PDF in each language its managers read, keeps it in
storage (``t/<id>/meeting-packs/<YYYY-MM>-<lang>.pdf``) with the seconds it took, and mails
each active manager a link to it and to the page. Idempotent: a pack already mailed is left.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

from . import _get_app, tenant_job

PDF_TYPE = "application/pdf"


def first_working_day(calendar, day: date) -> date:
    cursor = day.replace(day=1)
    for _ in range(31):
        if calendar.is_working_day(cursor):
            return cursor
        cursor += timedelta(days=1)
    return day.replace(day=1)


def due(now: datetime | None = None, tenant_ids: list[int] | None = None) -> list[int]:
    """Claim and queue the packs due now (for ``tenant_ids`` only, when given: tests and the
    benchmark). Returns the ids of the packs claimed."""
    from portal import uow
    from portal.extensions import db

    app = current_app._get_current_object() if has_app_context() else _get_app()
    with app.app_context():
        try:
            claimed = _claim_all(now or datetime.now(UTC), tenant_ids)
            uow.commit()
            return claimed
        except Exception:
            uow.rollback()
            raise
        finally:
            db.session.remove()


def _claim_all(now: datetime, tenant_ids: list[int] | None) -> list[int]:
    from sqlalchemy import select

    from portal.extensions import db
    from portal.models import Tenant
    from portal.tenancy import activate, unscoped

    with unscoped():
        statement = select(Tenant).where(Tenant.status == "active").order_by(Tenant.id)
        if tenant_ids is not None:
            statement = statement.where(Tenant.id.in_(tenant_ids))
        tenants = db.session.scalars(statement).all()
    claimed = []
    for tenant in tenants:
        with activate(tenant.id):
            pack_id = _claim(tenant, now)
            if pack_id:
                claimed.append(pack_id)
    return claimed


def _claim(tenant, now: datetime) -> int | None:
    from sqlalchemy.exc import IntegrityError

    from portal.analytics.period import add_months
    from portal.deadlines.calendar import calendar_for
    from portal.extensions import db
    from portal.models import MeetingPack
    from portal.queueing import enqueue

    if not tenant.setting("meeting_pack_mail"):
        return None
    local = now.astimezone(ZoneInfo(tenant.timezone or "Asia/Shanghai"))
    if local.day > 20 or local.hour < int(tenant.setting("meeting_pack_hour")):
        return None
    if local.date() != first_working_day(calendar_for(tenant), local.date()):
        return None
    month = add_months(local.date(), -1)
    if db.session.query(MeetingPack.id).filter_by(month=month).first():
        return None
    try:
        with db.session.begin_nested():
            pack = MeetingPack(month=month)
            db.session.add(pack)
            db.session.flush()
    except IntegrityError:  # claimed by a concurrent run
        return None
    enqueue("jobs.meeting_pack.build_and_mail", pack.id, queue="default",
            job_id=f"meeting-pack-{tenant.id}-{month:%Y-%m}")
    return pack.id


@tenant_job
def build_and_mail(pack_id: int) -> dict:
    from flask import g, url_for
    from flask_babel import force_locale
    from sqlalchemy import select

    from portal.analytics import meeting
    from portal.extensions import db
    from portal.mail import queue_mail
    from portal.models import MeetingPack, StaffUser, Tenant, utcnow
    from portal.storage import get_storage, tenant_key

    pack = db.session.get(MeetingPack, pack_id)
    if pack is None or pack.mailed_at is not None:
        return {"skipped": pack_id}
    tenant = db.session.get(Tenant, pack.tenant_id)
    managers = [u for u in db.session.scalars(select(StaffUser).where(StaffUser.active.is_(True))
                                              .order_by(StaffUser.id)) if u.has_role("manager")]
    locales = sorted({u.locale or tenant.default_locale or "zh_CN" for u in managers}
                     or {tenant.default_locale or "zh_CN"})
    base = current_app.config.get("PUBLIC_URL") or "http://127.0.0.1:5000"
    started = time.perf_counter()
    files = {}
    with current_app.test_request_context(base_url=base):
        g.tenant = tenant

        def link(args):
            return url_for("internal.index", _external=True, **args)

        for locale in locales:
            with force_locale(locale):
                data = meeting.pdf(tenant, pack.month, link)
            key = tenant_key(tenant.id, "meeting-packs", f"{pack.month:%Y-%m}-{locale}.pdf")
            get_storage().put(key, data, PDF_TYPE)
            files[locale] = key
        pack.files, pack.built_at = files, utcnow()
        pack.build_seconds = round(time.perf_counter() - started, 3)
        for user in managers:
            locale = user.locale or tenant.default_locale or "zh_CN"
            queue_mail(user.email, "meeting_pack", locale, tenant=tenant, name=user.name,
                       month=f"{pack.month:%Y-%m}",
                       page_url=url_for("internal.meeting_pack", month=f"{pack.month:%Y-%m}",
                                        _external=True),
                       pdf_url=url_for("internal.meeting_pack_file", pack_id=pack.id,
                                       lang=locale, _external=True))
    pack.mailed_to = [u.email for u in managers]
    pack.mailed_at = utcnow()
    db.session.flush()
    return {"pack": pack.id, "files": files, "seconds": pack.build_seconds,
            "mailed": len(managers)}
