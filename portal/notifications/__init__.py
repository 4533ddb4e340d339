"""Notifications: one in-app message per recipient, delivered by e-mail and to the tenant's
group robots (WeCom, DingTalk, Feishu) by RQ jobs, each send a Delivery row.

``notify()`` runs with the tenant active, flushes and never commits; the sends are enqueued
through the outbox, so they go only if the caller's transaction commits. A repeated call
with the same ``dedupe_key`` (a sweep run twice) writes and sends nothing.
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..extensions import db
from ..models import Contact, Delivery, Notification, StaffUser, Tenant, utcnow
from ..queueing import enqueue
from ..tenancy import active_tenant_id
from .messages import CHANNELS, EVENTS, ROBOT_CHANNELS, compose

NOTIFY_QUEUE = "mail"  # a queue every worker listens on (config RQ_QUEUES)

__all__ = ["CHANNELS", "EVENTS", "ROBOT_CHANNELS", "compose", "notify", "wants",
           "unread_count", "recent", "mark_read", "send_delivery", "retry_delivery"]


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


def _create(recipient: str, event: str, complaint_id, data: dict, dedupe_key: str | None,
            read: bool = False) -> int | None:
    """Insert one Notification unless its dedupe key exists; the new id, or None."""
    values = dict(tenant_id=active_tenant_id(), recipient=recipient, event=event,
                  complaint_id=complaint_id, data=data, dedupe_key=dedupe_key,
                  created_at=utcnow(), read_at=utcnow() if read else None)
    statement = _insert()(Notification).values(**values)
    if dedupe_key:
        statement = statement.on_conflict_do_nothing(index_elements=["dedupe_key"])
    return db.session.execute(statement.returning(Notification.id)).scalar()


def notify(event: str, recipients, *, complaint=None, data: dict | None = None,
           dedupe_key: str | None = None) -> list[int]:
    """Tell ``recipients`` (StaffUser / Contact, duplicates ignored) about ``event``.

    Each gets an in-app notification (unread unless they switched in-app off) and, if they
    want it, an e-mail; the tenant's robots subscribed to the event get one message each.
    Returns the ids of the notifications written (empty when all were already sent).
    """
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}")
    tenant = db.session.get(Tenant, active_tenant_id())
    data = dict(data or {})
    if complaint is not None:
        data.setdefault("number", complaint.number)
        data.setdefault("title", complaint.title)
    complaint_id = complaint.id if complaint is not None else None
    base = f"{tenant.id}:{dedupe_key}" if dedupe_key else None
    written: list[int] = []
    seen: set[str] = set()
    for user in recipients:
        if user is None or not getattr(user, "active", True):
            continue
        who = principal(user)
        if who in seen:
            continue
        seen.add(who)
        in_app, email = wants(user, event, "in_app"), wants(user, event, "email")
        if not (in_app or email):
            continue
        notification_id = _create(who, event, complaint_id, data,
                                  f"{base}:{who}" if base else None, read=not in_app)
        if notification_id is None:
            continue
        written.append(notification_id)
        if email and user.email:
            _deliver(notification_id, "email", user.email)
    for index, robot in enumerate(tenant.setting("webhooks") or ()):
        if robot.get("channel") not in ROBOT_CHANNELS or not robot.get("url"):
            continue
        if event not in (robot.get("events") or ()):
            continue
        who = f"robot:{index}"
        notification_id = _create(who, event, complaint_id, data,
                                  f"{base}:{who}" if base else None, read=True)
        if notification_id is not None:
            written.append(notification_id)
            _deliver(notification_id, robot["channel"], _mask(robot["url"]), robot_index=index)
    return written


def _mask(url: str) -> str:
    """Robot URLs carry their credential (key, access_token, hook id): keep only a hint."""
    return url if len(url) <= 48 else url[:40] + "…" + url[-4:]


def _deliver(notification_id: int, channel: str, target: str, robot_index: int | None = None):
    delivery = Delivery(notification_id=notification_id, channel=channel,
                        target=target if robot_index is None else f"{robot_index}|{target}")
    db.session.add(delivery)
    db.session.flush()
    enqueue("jobs.notify.deliver", delivery.id, queue=NOTIFY_QUEUE,
            job_id=f"delivery-{delivery.tenant_id}-{delivery.id}")


def _locale_of(recipient: str, tenant: Tenant) -> tuple[str, object | None]:
    kind, _, ident = recipient.partition(":")
    model = {"staff": StaffUser, "contact": Contact}.get(kind)
    user = db.session.get(model, int(ident)) if model else None
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


def unread_count(user) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Notification)
        .where(Notification.recipient == principal(user), Notification.read_at.is_(None))
    ) or 0


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
    result = db.session.execute(statement.values(read_at=utcnow())
                                .execution_options(synchronize_session=False))
    return result.rowcount or 0
