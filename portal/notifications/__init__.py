"""Notifications: one in-app message per recipient, delivered by e-mail and to the tenant's
group robots (WeCom, DingTalk, Feishu) by RQ jobs, each send a Delivery row.

``notify()`` runs with the tenant active, flushes and never commits; the sends are enqueued
through the outbox, so they go only if the caller's transaction commits. A repeated call
with the same ``dedupe_key`` (a sweep run twice) writes and sends nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..extensions import db
from ..models import Contact, Delivery, Notification, StaffUser, Tenant, utcnow
from ..queueing import enqueue
from ..tenancy import active_tenant_id
from .messages import CHANNELS, CUSTOMER_KINDS, EVENTS, ROBOT_CHANNELS, compose

NOTIFY_QUEUE = "mail"  # a queue every worker listens on (config RQ_QUEUES)

__all__ = ["CHANNELS", "EVENTS", "ROBOT_CHANNELS", "compose", "notify", "wants",
           "plan", "write", "unread", "unread_count", "recent", "mark_read", "send_delivery",
           "retry_delivery"]


def principal(user) -> str:
    return user.get_id()


def wants(user, event: str, channel: str) -> bool:
    """The user's choice for this event and channel; everything is on until switched off."""
    prefs = (getattr(user, "notification_prefs", None) or {}).get(event) or {}
    return bool(prefs.get(channel, True))


def set_preferences(user, choices: dict[str, dict[str, bool]]) -> None:
    """Replace the user's choices (``{event: {channel: bool}}``) for the known events."""
    user.notification_prefs = {
        event: {channel: bool((choices.get(event) or {}).get(channel)) for channel in CHANNELS}
        for event in EVENTS
    }


def _insert():
    return pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert


@dataclass
class Planned:
    """One notification to write, and where it is to be delivered."""

    values: dict
    channel: str | None = None  # email, wecom, dingtalk, feishu
    target: str | None = None


def plan(event: str, recipients, *, tenant: Tenant, complaint=None, data: dict | None = None,
         dedupe_key: str | None = None) -> list[Planned]:
    """The notifications ``notify`` would write, without touching the database."""
    if event not in EVENTS and event not in CUSTOMER_KINDS:
        raise ValueError(f"unknown event {event!r}")
    data = dict(data or {})
    if complaint is not None:
        data.setdefault("number", complaint.number)
        data.setdefault("title", complaint.title)
    base = f"{tenant.id}:{dedupe_key}" if dedupe_key else f"{tenant.id}:once:{uuid.uuid4().hex}"
    now = utcnow()

    def values(who: str, read: bool) -> dict:
        return dict(tenant_id=tenant.id, recipient=who, event=event,
                    complaint_id=complaint.id if complaint is not None else None, data=data,
                    dedupe_key=f"{base}:{who}", created_at=now, read_at=now if read else None)

    result: list[Planned] = []
    seen: set[str] = set()
    # The tenant switches whole channels off in its settings; users choose within them.
    tenant_channels = set(tenant.setting("notification_channels"))
    for user in recipients:
        if user is None or not getattr(user, "active", True):
            continue
        who = principal(user)
        if who in seen:
            continue
        seen.add(who)
        in_app = "in_app" in tenant_channels and wants(user, event, "in_app")
        email = "email" in tenant_channels and wants(user, event, "email")
        if not (in_app or email):
            continue
        result.append(Planned(values(who, read=not in_app),
                              "email" if email and user.email else None, user.email))
    for index, robot in enumerate(tenant.setting("webhooks") or ()):
        if event in CUSTOMER_KINDS:  # the customer's mail is theirs, not the group chat's
            break
        if robot.get("channel") not in ROBOT_CHANNELS or not robot.get("url"):
            continue
        if event not in (robot.get("events") or ()):
            continue
        result.append(Planned(values(f"robot:{index}", read=True), robot["channel"],
                              f"{index}|{_mask(robot['url'])}"))
    return result


def write(planned: list[Planned], chunk: int = 1000) -> list[int]:
    """Write planned notifications in a few multi-row statements; skip those whose dedupe
    key exists; add their deliveries and queue one send job each. Returns the new ids."""
    from ..models import OutboxMessage

    written: list[int] = []
    deliveries: list[dict] = []
    for i in range(0, len(planned), chunk):
        part = planned[i:i + chunk]
        statement = (_insert()(Notification).values([p.values for p in part])
                     .on_conflict_do_nothing(index_elements=["dedupe_key"])
                     .returning(Notification.id, Notification.dedupe_key))
        ids = dict((key, ident) for ident, key in db.session.execute(statement).all())
        for p in part:
            ident = ids.get(p.values["dedupe_key"])
            if ident is None:
                continue
            written.append(ident)
            if p.channel:
                deliveries.append(dict(tenant_id=p.values["tenant_id"], notification_id=ident,
                                       channel=p.channel, target=p.target, status="pending",
                                       attempts=0, created_at=utcnow()))
    if deliveries:
        delivery_ids = list(db.session.scalars(
            insert(Delivery).returning(Delivery.id, sort_by_parameter_order=True), deliveries))
        messages = [dict(tenant_id=d["tenant_id"], queue=NOTIFY_QUEUE, job="jobs.notify.deliver",
                         args=[ident], job_id=f"delivery-{d['tenant_id']}-{ident}",
                         created_at=utcnow(), attempts=0)
                    for d, ident in zip(deliveries, delivery_ids, strict=True)]
        outbox_ids = list(db.session.scalars(
            insert(OutboxMessage).returning(OutboxMessage.id, sort_by_parameter_order=True),
            messages))
        db.session.info.setdefault("outbox_ids", []).extend(outbox_ids)
    return written


def notify(event: str, recipients, *, complaint=None, data: dict | None = None,
           dedupe_key: str | None = None) -> list[int]:
    """Tell ``recipients`` (StaffUser / Contact, duplicates ignored) about ``event``.

    Each gets an in-app notification (unread unless they switched in-app off) and, if they
    want it, an e-mail; the tenant's robots subscribed to the event get one message each.
    Returns the ids of the notifications written (empty when all were already sent).
    """
    tenant = db.session.get(Tenant, active_tenant_id())
    return write(plan(event, recipients, tenant=tenant, complaint=complaint, data=data,
                      dedupe_key=dedupe_key))


def _mask(url: str) -> str:
    """Robot URLs carry their credential (key, access_token, hook id): keep only a hint."""
    return url if len(url) <= 48 else url[:40] + "…" + url[-4:]


def _locale_of(recipient: str, tenant: Tenant) -> tuple[str, object | None]:
    kind, _, ident = recipient.partition(":")
    if kind == "complaint" and ident.isdigit():  # a visitor: the language they filed in
        from ..models import Complaint

        complaint = db.session.get(Complaint, int(ident))
        return (getattr(complaint, "reporter_locale", None) or tenant.default_locale
                or "zh_CN"), None
    model = {"staff": StaffUser, "contact": Contact}.get(kind)
    user = db.session.get(model, int(ident)) if model and ident.isdigit() else None
    return (getattr(user, "locale", None) or tenant.default_locale or "zh_CN"), user


def send_delivery(delivery: Delivery) -> None:
    """Send one delivery now. Raises on failure (the job records it and RQ retries)."""
    from flask import render_template

    from ..mail import deliver as send_mail
    from . import robots

    notification = db.session.get(Notification, delivery.notification_id)
    tenant = db.session.get(Tenant, delivery.tenant_id)
    locale, _user = _locale_of(notification.recipient, tenant)
    subject, lines = compose(notification.event, notification.data or {}, locale,
                             tenant.timezone)
    if delivery.channel == "email" and notification.event in CUSTOMER_KINDS:
        from .customer_mail import send_customer_mail

        send_customer_mail(delivery, notification, tenant, locale, subject, lines)
        return
    if delivery.channel == "email":
        from flask_babel import force_locale

        with force_locale(locale):
            text = render_template("mail/notification.txt", subject=subject, lines=lines,
                                   tenant=tenant, notification=notification)
            html = render_template("mail/notification.html", subject=subject, lines=lines,
                                   tenant=tenant, notification=notification)
        send_mail(delivery.target, subject, text.partition("\n")[2].strip() + "\n", html)
        return
    index = int(delivery.target.partition("|")[0])
    robots_config = tenant.setting("webhooks") or []
    if index >= len(robots_config):
        raise robots.RobotError("the robot was removed from the settings")
    robot = robots_config[index]
    robots.send(robot["channel"], robot["url"], robot.get("secret") or None, subject, lines)


def retry_delivery(delivery: Delivery) -> None:
    """Queue a failed delivery again (the tenant admin's button)."""
    delivery.status = "pending"
    enqueue("jobs.notify.deliver", delivery.id, queue=NOTIFY_QUEUE)


def unread(recipient):
    """How many unread notifications ``recipient`` (a principal, or a bound parameter) has,
    as a statement: the bell's figure (portal/header_counts.py asks it with My work's)."""
    return (select(func.count()).select_from(Notification)
            .where(Notification.recipient == recipient, Notification.read_at.is_(None)))


def unread_count(user) -> int:
    return db.session.scalar(unread(principal(user))) or 0


def recent(user, limit: int = 20) -> list[Notification]:
    return list(db.session.scalars(
        select(Notification).where(Notification.recipient == principal(user))
        .order_by(Notification.id.desc()).limit(limit)
    ))


def mark_read(user, notification_id: int | None = None) -> int:
    """Mark one (or, with no id, every) notification of ``user`` read; returns how many."""
    statement = update(Notification).where(Notification.recipient == principal(user),
                                           Notification.read_at.is_(None))
    if notification_id is not None:
        statement = statement.where(Notification.id == notification_id)
    from ..header_counts import forget

    forget()  # the header's unread figure, if this request asked it already
    result = db.session.execute(statement.values(read_at=utcnow())
                                .execution_options(synchronize_session=False))
    return result.rowcount or 0
