""""The customer sees this": the preview of a staff text as the customer will read it.

Every form writing a text the audience rule lets staff show (portal/complaints/audience.py,
``CHOSEN``) draws ``audience_choice`` (``_audience.html``): the checkbox, unticked by
default, and this preview, which htmx refreshes as the text is typed or the box ticked. Texts
always meant for the customer (a question, a reason) are previewed without a box. The
preview is drawn in the customer's language, with the customer's words for the entry."""

from __future__ import annotations

from http import HTTPStatus

from flask import request
from flask_babel import force_locale
from flask_login import current_user

from portal.complaints import audience, vocabulary
from portal.tenancy import current_tenant
from portal.web import render

from .. import blueprint
from .base import load

MAX_PREVIEW = 5000


def customer_locale(complaint) -> str:
    contact = complaint.contact
    return getattr(contact, "locale", None) or current_tenant.default_locale or "zh_CN"


@blueprint.post("/complaints/<int:complaint_id>/customer-preview")
def customer_preview(complaint_id: int):
    complaint = load(complaint_id, joined=False)
    kind = request.form.get("kind", "")
    if kind not in audience.EVENTS:
        return render("internal/complaint/_customer_preview.html", None,
                      HTTPStatus.UNPROCESSABLE_ENTITY, state="unknown")
    field = request.form.get("field", "message")
    text = (request.form.get(field) or "").strip()[:MAX_PREVIEW]
    rule = audience.rule(kind)
    shown = request.form.get("customer_sees") in ("y", "on", "1", "true")
    if rule.text == audience.INTERNAL or (rule.text == audience.CHOSEN and not shown):
        state = "internal"
    else:
        state = "shown" if text else "empty"
    with force_locale(customer_locale(complaint)):
        label = str(vocabulary.event_label(kind, customer=True))
    return render("internal/complaint/_customer_preview.html", None, HTTPStatus.OK,
                  state=state, label=label, text=text, actor=current_user.name)


@blueprint.app_template_global("audience_of")
def audience_of(kind: str) -> str:
    """Who reads the text of an entry of ``kind``: "customer", "internal" or "chosen"."""
    text = audience.rule(kind).text
    return audience.INTERNAL if text == audience.NONE else text
