"""Webhooks out: the admin subscribes a receiver URL to domain events, changes its name, address
or events, sees each delivery with its status, response code and duration, replays one, pauses
or resumes a receiver, and reads or rotates its signing secret. The sending is portal/webhooks' and jobs/webhooks'."""

from __future__ import annotations

from http import HTTPStatus

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import DataRequired, Length, ValidationError

from portal import uow, webhooks
from portal.events import EVENTS
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import WebhookDelivery, WebhookSubscription
from portal.web import render

from . import blueprint
from .admin_forms import MultiCheckboxField, opts

DELIVERY_LABELS = {"pending": _l("Waiting"), "sending": _l("Sending"),
                   "retrying": _l("Will retry"), "delivered": _l("Delivered"),
                   "failed": _l("Failed"), "cancelled": _l("Not sent (paused)")}
PAGE_SIZE = 50


class WebhookForm(FlaskForm):
    name = StringField(_l("Name"), validators=[
        DataRequired(_l("Give the receiver a name, e.g. the system it feeds.")), Length(max=80)])
    url = StringField(_l("Receiver address"), validators=[
        DataRequired(_l("Enter the address that receives the events.")), Length(max=500)])
    events = MultiCheckboxField(_l("Events it receives"), choices=opts(EVENTS.items()),
                                validators=[DataRequired(_l("Choose at least one event."))])

    def validate_url(self, field):
        try:
            webhooks.net.check_url((field.data or "").strip())
        except webhooks.RefusedAddress as exc:
            raise ValidationError(exc.message) from exc


def _subscription(subscription_id: int) -> WebhookSubscription:
    subscription = db.session.get(WebhookSubscription, subscription_id)
    if subscription is None:
        abort(404)
    return subscription


def _list(form, status=HTTPStatus.OK):
    subscriptions = list(db.session.scalars(
        select(WebhookSubscription).order_by(WebhookSubscription.id)))
    return render("internal/admin/webhooks.html", None, status, form=form,
                  subscriptions=subscriptions, events=EVENTS)


@blueprint.get("/admin/webhooks")
def admin_webhooks():
    return _list(WebhookForm())


@blueprint.post("/admin/webhooks")
def admin_webhook_create():
    form = WebhookForm()
    if not form.validate_on_submit():
        return _list(form, HTTPStatus.UNPROCESSABLE_ENTITY)
    subscription = webhooks.create_subscription(
        current_user, name=form.name.data.strip(), url=form.url.data.strip(),
        events=[e for e in EVENTS if e in form.events.data])
    uow.commit()
    flash(_("Webhook %(name)s added. Its signing secret is shown below.",
            name=subscription.name), "success")
    return redirect(url_for("internal.admin_webhook", subscription_id=subscription.id), code=303)


def _detail(subscription, edit_form, status=HTTPStatus.OK):
    deliveries = list(db.session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription.id)
        .order_by(WebhookDelivery.id.desc()).limit(PAGE_SIZE)))
    return render("internal/admin/webhook.html", None, status, subscription=subscription,
                  secret=webhooks.subscription_secret(subscription), deliveries=deliveries,
                  events=EVENTS, labels=DELIVERY_LABELS, form=FlaskForm(), edit_form=edit_form)


@blueprint.get("/admin/webhooks/<int:subscription_id>")
def admin_webhook(subscription_id: int):
    subscription = _subscription(subscription_id)
    return _detail(subscription, WebhookForm(obj=subscription))


@blueprint.post("/admin/webhooks/<int:subscription_id>/edit")
def admin_webhook_edit(subscription_id: int):
    """Change the name, the receiver address (checked as on creation) or the events; the
    secret and the deliveries stay."""
    subscription = _subscription(subscription_id)
    form = WebhookForm()
    if form.validate_on_submit():
        try:
            webhooks.update_subscription(
                subscription, name=form.name.data.strip(), url=form.url.data.strip(),
                events=[e for e in EVENTS if e in form.events.data])
        except webhooks.RefusedAddress as exc:  # the name resolves elsewhere now
            form.url.errors = [exc.message]
        else:
            uow.commit()
            flash(_("Webhook %(name)s saved.", name=subscription.name), "success")
            return redirect(url_for("internal.admin_webhook", subscription_id=subscription.id),
                            code=303)
    return _detail(subscription, form, HTTPStatus.UNPROCESSABLE_ENTITY)


def _post_action(subscription_id: int, action, message):
    if not FlaskForm().validate_on_submit():
        abort(400)
    subscription = _subscription(subscription_id)
    action(subscription)
    uow.commit()
    flash(message, "success")
    return redirect(url_for("internal.admin_webhook", subscription_id=subscription.id), code=303)


@blueprint.post("/admin/webhooks/<int:subscription_id>/resume")
def admin_webhook_resume(subscription_id: int):
    return _post_action(subscription_id, webhooks.resume, _("The webhook sends again."))


@blueprint.post("/admin/webhooks/<int:subscription_id>/switch-off")
def admin_webhook_switch_off(subscription_id: int):
    def off(subscription):
        subscription.enabled = False

    return _post_action(subscription_id, off, _("The webhook is switched off."))


@blueprint.post("/admin/webhooks/<int:subscription_id>/rotate")
def admin_webhook_rotate(subscription_id: int):
    return _post_action(subscription_id, webhooks.rotate_secret,
                        _("A new signing secret was made; the old one no longer signs."))


@blueprint.post("/admin/webhooks/<int:subscription_id>/delete")
def admin_webhook_delete(subscription_id: int):
    if not FlaskForm().validate_on_submit():
        abort(400)
    subscription = _subscription(subscription_id)
    db.session.delete(subscription)
    uow.commit()
    flash(_("Webhook %(name)s removed.", name=subscription.name), "success")
    return redirect(url_for("internal.admin_webhooks"), code=303)


@blueprint.post("/admin/webhooks/<int:subscription_id>/deliveries/<int:webhook_delivery_id>/replay")
def admin_webhook_replay(subscription_id: int, webhook_delivery_id: int):
    if not FlaskForm().validate_on_submit():
        abort(400)
    subscription = _subscription(subscription_id)
    delivery = db.session.get(WebhookDelivery, webhook_delivery_id)
    if delivery is None or delivery.subscription_id != subscription.id:
        abort(404)
    if not subscription.active:
        flash(_("Resume the webhook before sending again."), "error")
    else:
        webhooks.replay(delivery)
        uow.commit()
        flash(_("Delivery %(id)s queued again.", id=delivery.id), "success")
    return redirect(url_for("internal.admin_webhook", subscription_id=subscription.id), code=303)
