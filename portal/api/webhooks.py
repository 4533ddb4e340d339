"""Webhooks through the API: list, create (the signing secret in that answer only), read,
change (URL, events, name, on/off), delete a subscription, page through its deliveries and
replay one. Admin only: a token with the ``admin`` scope acting as a user who may administer.
URLs are checked as on the admin page (portal/webhooks: no private, loopback or link-local
address unless the operator allows it); the work is portal/webhooks'."""

from __future__ import annotations

from http import HTTPStatus

import marshmallow as ma
from flask import g
from sqlalchemy import select

from .. import webhooks
from ..complaints.permissions import require
from ..events import EVENTS
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models import WebhookDelivery, WebhookSubscription
from . import actor, blueprint, require_scope, writes
from . import webhook_schemas as s
from .catalogue import INVALID, _page
from .complaints import IDEMPOTENCY_HEADER, SECURITY
from .problems import abort_problem

ADMIN = "Scope `admin`, acting as a user with the admin role."


def _admin() -> None:
    require_scope("admin")
    require(actor(), "administer")


def _subscription(s_: WebhookSubscription) -> dict:
    return {"id": s_.id, "name": s_.name, "url": s_.url, "events": list(s_.events or ()),
            "active": s_.active, "enabled": s_.enabled, "paused_at": s_.paused_at,
            "consecutive_failures": s_.consecutive_failures, "created_at": s_.created_at}


def _delivery(d: WebhookDelivery) -> dict:
    return {"id": d.id, "event": d.event, "event_id": d.event_id,
            "complaint_id": d.complaint_id, "status": d.status, "attempts": d.attempts,
            "response_code": d.response_code, "duration_ms": d.duration_ms, "error": d.error,
            "created_at": d.created_at, "last_attempt_at": d.last_attempt_at,
            "next_attempt_at": d.next_attempt_at, "delivered_at": d.delivered_at}


def _subscription_or_404(subscription_id: int) -> WebhookSubscription:
    found = db.session.get(WebhookSubscription, subscription_id) \
        if subscription_id < 2**31 else None
    if found is None:
        abort_problem(404, _l("No webhook with this id."), code="not_found")
    return found


def _checked_url(url: str) -> str:
    try:
        webhooks.net.check_url(url)
    except webhooks.RefusedAddress as exc:
        abort_problem(422, INVALID, code="invalid", errors={"json": {"url": [str(exc.message)]}})
    return url


def _blank(values: dict) -> None:
    errors = {n: [str(_l("This field is required."))] for n in ("name", "url")
              if n in values and not values[n]}
    if errors:
        abort_problem(422, INVALID, code="invalid", errors={"json": errors})


def _stripped(body: dict) -> dict:
    return {k: v.strip() if isinstance(v, str) else v for k, v in body.items()}


@blueprint.route("/webhooks", methods=["GET"])
@blueprint.doc(security=SECURITY, summary="List webhook subscriptions", description=ADMIN)
@blueprint.arguments(s.ListArgs, location="query", as_kwargs=True, unknown=ma.RAISE)
@blueprint.response(200, s.WebhookPageSchema)
def list_webhooks(cursor=None, limit=50):
    _admin()
    rows, next_cursor = _page(select(WebhookSubscription), WebhookSubscription, cursor, limit)
    return {"items": [_subscription(x) for x in rows], "next_cursor": next_cursor}


@blueprint.route("/webhooks", methods=["POST"])
@writes("admin")
@blueprint.doc(security=SECURITY, summary="Subscribe a receiver URL to events",
               description="The answer carries the signing secret, shown this once (a retry "
                           "with the same `Idempotency-Key` gets the same answer). " + ADMIN,
               parameters=[IDEMPOTENCY_HEADER])
@blueprint.arguments(s.WebhookCreateSchema)
@blueprint.response(201, s.WebhookCreatedSchema)
def create_webhook(body: dict):
    _admin()
    values = _stripped(body)
    _blank(values)
    subscription = webhooks.create_subscription(
        actor().user, name=values["name"], url=_checked_url(values["url"]),
        events=[e for e in EVENTS if e in values["events"]])
    g.api_response_has_secret = True  # stored sealed for an Idempotency-Key replay
    return ({**_subscription(subscription),
             "secret": webhooks.subscription_secret(subscription)}, HTTPStatus.CREATED)


@blueprint.route("/webhooks/<int:subscription_id>", methods=["GET"])
@blueprint.doc(security=SECURITY, summary="Read a webhook subscription", description=ADMIN)
@blueprint.response(200, s.WebhookSchema)
def read_webhook(subscription_id: int):
    _admin()
    return _subscription(_subscription_or_404(subscription_id))


@blueprint.route("/webhooks/<int:subscription_id>", methods=["PATCH"])
@writes("admin")
@blueprint.doc(security=SECURITY, summary="Change a webhook subscription",
               description="Only the fields sent change; a new URL is checked as on "
                           "creation; the secret stays. `active: true` also resumes a "
                           "receiver paused after failures. " + ADMIN,
               parameters=[IDEMPOTENCY_HEADER])
@blueprint.arguments(s.WebhookUpdateSchema)
@blueprint.response(200, s.WebhookSchema)
def update_webhook(body: dict, subscription_id: int):
    _admin()
    subscription = _subscription_or_404(subscription_id)
    values = _stripped(body)
    _blank(values)
    try:
        webhooks.update_subscription(subscription, **values)
    except webhooks.RefusedAddress as exc:
        abort_problem(422, INVALID, code="invalid", errors={"json": {"url": [str(exc.message)]}})
    return _subscription(subscription)


@blueprint.route("/webhooks/<int:subscription_id>", methods=["DELETE"])
@writes("admin")
@blueprint.doc(security=SECURITY, summary="Delete a webhook subscription and its deliveries",
               description=ADMIN)
@blueprint.response(204)
def delete_webhook(subscription_id: int):
    _admin()
    db.session.delete(_subscription_or_404(subscription_id))
    db.session.flush()
    return "", HTTPStatus.NO_CONTENT


@blueprint.route("/webhooks/<int:subscription_id>/deliveries", methods=["GET"])
@blueprint.doc(security=SECURITY, summary="List a webhook's deliveries, newest first",
               description="Optionally of one `status`. " + ADMIN)
@blueprint.arguments(s.DeliveryListArgs, location="query", as_kwargs=True, unknown=ma.RAISE)
@blueprint.response(200, s.DeliveryPageSchema)
def list_deliveries(subscription_id: int, cursor=None, limit=50, status=None):
    _admin()
    subscription = _subscription_or_404(subscription_id)
    statement = select(WebhookDelivery).where(
        WebhookDelivery.subscription_id == subscription.id)
    if status:
        statement = statement.where(WebhookDelivery.status == status)
    rows, next_cursor = _page(statement, WebhookDelivery, cursor, limit, newest_first=True)
    return {"items": [_delivery(d) for d in rows], "next_cursor": next_cursor}


@blueprint.route("/webhooks/<int:subscription_id>/deliveries/<int:webhook_delivery_id>/replay",
                 methods=["POST"])
@writes("admin")
@blueprint.doc(security=SECURITY, summary="Send a delivery again",
               description="The same body and event id, a new attempt queued now. Refused "
                           "(409) while the webhook is switched off or paused. " + ADMIN,
               parameters=[IDEMPOTENCY_HEADER])
@blueprint.response(202, s.DeliverySchema)
def replay_delivery(subscription_id: int, webhook_delivery_id: int):
    _admin()
    subscription = _subscription_or_404(subscription_id)
    delivery = db.session.get(WebhookDelivery, webhook_delivery_id) \
        if webhook_delivery_id < 2**31 else None
    if delivery is None or delivery.subscription_id != subscription.id:
        abort_problem(404, _l("No delivery with this id."), code="not_found")
    if not subscription.active:
        abort_problem(409, _l("Resume the webhook before sending again."), code="paused")
    webhooks.replay(delivery)
    return _delivery(delivery), HTTPStatus.ACCEPTED
