"""Staff pages for notifications: the bell (unread count), the list, marking read, each
user's choices, and the tenant admin's view of sends that failed (with a retry)."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal import notifications, uow
from portal.accounts.forms import ConfirmForm
from portal.complaints.permissions import permitted
from portal.extensions import db
from portal.header_counts import header_counts
from portal.models import Delivery, Notification
from portal.web import render

from . import blueprint


def _require_admin() -> None:
    permitted("administer")


@blueprint.app_template_global("notification_unread")
def _unread() -> int:
    if not getattr(current_user, "is_authenticated", False) or current_user.kind != "staff":
        return 0
    return header_counts(current_user)[1]


@blueprint.get("/notifications")
def notifications_list():
    items = notifications.recent(current_user, limit=50)
    rendered = []
    for n in items:
        subject, lines = notifications.compose(n.event, n.data or {}, str(_locale()),
                                               current_tenant_timezone())
        rendered.append({"n": n, "subject": subject, "lines": lines})
    return render("internal/notifications/list.html", items=rendered, form=ConfirmForm())


def _locale():
    from flask_babel import get_locale

    return get_locale()


def current_tenant_timezone() -> str:
    from portal.tenancy import current_tenant

    return current_tenant.timezone


@blueprint.post("/notifications/read")
def notifications_read():
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    raw = request.form.get("id")
    notification_id = int(raw) if raw and raw.isdigit() else None
    if notification_id is not None:
        db.get_or_404(Notification, notification_id)
    notifications.mark_read(current_user, notification_id)
    uow.commit()
    return redirect(url_for("internal.notifications_list"), code=303)


@blueprint.route("/notifications/preferences", methods=["GET", "POST"])
def notification_preferences():
    if request.method == "POST":
        form = ConfirmForm()
        if not form.validate_on_submit():
            abort(400)
        choices = {event: {channel: request.form.get(f"{event}:{channel}") == "on"
                           for channel in notifications.CHANNELS}
                   for event in notifications.EVENTS}
        notifications.set_preferences(current_user, choices)
        uow.commit()
        flash(_("Your notification choices are saved."), "success")
        return redirect(url_for("internal.notification_preferences"), code=303)
    return render("internal/notifications/preferences.html", events=notifications.EVENTS,
                  channels=notifications.CHANNELS, wants=notifications.wants,
                  form=ConfirmForm())


@blueprint.get("/admin/deliveries")
def deliveries():
    _require_admin()
    status = request.args.get("status", "failed")
    query = select(Delivery).order_by(Delivery.id.desc()).limit(200)
    if status not in ("failed", "pending", "sent", "all"):
        status = "failed"
    if status != "all":
        query = query.where(Delivery.status == status)
    rows = db.session.scalars(query).all()
    return render("internal/notifications/deliveries.html", rows=rows, shown_status=status,
                  form=ConfirmForm())


@blueprint.post("/admin/deliveries/<int:delivery_id>/retry")
def delivery_retry(delivery_id: int):
    _require_admin()
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    delivery = db.get_or_404(Delivery, delivery_id)
    if delivery.status != "sent":
        notifications.retry_delivery(delivery)
        uow.commit()
        flash(_("The send was queued again."), "success")
    return redirect(url_for("internal.deliveries"), code=303)
