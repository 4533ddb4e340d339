"""The webhook resource's bodies: subscriptions (the secret only in the answer to a create),
their deliveries, and the create and change requests, limited as the admin page's form."""

from __future__ import annotations

from marshmallow import fields, validate

from ..events import EVENTS
from .schemas import ListArgs, Strict

EVENT = fields.String(validate=validate.OneOf(list(EVENTS)))
DELIVERY_STATES = ["pending", "sending", "retrying", "delivered", "failed", "cancelled"]


class WebhookSchema(Strict):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    url = fields.String(required=True)
    events = fields.List(EVENT, required=True)
    active = fields.Boolean(required=True, metadata={
        "description": "Sending: switched on and not paused after failures."})
    enabled = fields.Boolean(required=True, metadata={
        "description": "Switched on by an admin (false: switched off)."})
    paused_at = fields.DateTime(allow_none=True, required=True, metadata={
        "description": "When it was paused after failing attempts in a row, if it is."})
    consecutive_failures = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)


class WebhookCreatedSchema(WebhookSchema):
    secret = fields.String(required=True, metadata={
        "description": "The signing secret (HMAC-SHA256 key of `Closeloop-Signature`). Shown "
                       "in this answer only; keep it in the receiver."})


class WebhookPageSchema(Strict):
    items = fields.List(fields.Nested(WebhookSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class WebhookCreateSchema(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=80))
    url = fields.String(required=True, validate=validate.Length(min=1, max=500), metadata={
        "description": "http(s) address on the public internet; private, loopback and "
                       "link-local networks are refused unless the operator allows them."})
    events = fields.List(EVENT, required=True, validate=validate.Length(min=1, max=len(EVENTS)))


class WebhookUpdateSchema(Strict):
    name = fields.String(validate=validate.Length(min=1, max=80))
    url = fields.String(validate=validate.Length(min=1, max=500))
    events = fields.List(EVENT, validate=validate.Length(min=1, max=len(EVENTS)))
    active = fields.Boolean(metadata={
        "description": "true resumes sending (also after a pause), false switches it off."})


class DeliverySchema(Strict):
    id = fields.Integer(required=True)
    event = fields.String(required=True)
    event_id = fields.String(required=True, metadata={
        "description": "The event's id, the same in every attempt and replay."})
    complaint_id = fields.Integer(allow_none=True, required=True)
    status = fields.String(required=True, validate=validate.OneOf(DELIVERY_STATES))
    attempts = fields.Integer(required=True)
    response_code = fields.Integer(allow_none=True, required=True)
    duration_ms = fields.Integer(allow_none=True, required=True)
    error = fields.String(allow_none=True, required=True)
    created_at = fields.DateTime(required=True)
    last_attempt_at = fields.DateTime(allow_none=True, required=True)
    next_attempt_at = fields.DateTime(allow_none=True, required=True)
    delivered_at = fields.DateTime(allow_none=True, required=True)


class DeliveryPageSchema(Strict):
    items = fields.List(fields.Nested(DeliverySchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class DeliveryListArgs(ListArgs):
    status = fields.String(validate=validate.OneOf(DELIVERY_STATES))
