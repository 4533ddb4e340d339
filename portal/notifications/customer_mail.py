"""The customer's e-mail about a step of their complaint: in their language, naming the
complaint number and the product, with a link that signs them straight in — a one-time
sign-in link for a contact, the one-time follow link for a visitor. The token is issued when
the mail is sent (inside the delivery job's transaction: a failed send keeps no token)."""

from __future__ import annotations

from flask import current_app, render_template, url_for
from flask_babel import force_locale

from ..extensions import db
from ..models import Complaint, Contact

LINK_MINUTES = 7 * 24 * 60  # a week: the customer may read the mail days later


def customer_link(complaint: Complaint, recipient: str, tenant) -> str:
    """An absolute link (built from PUBLIC_URL: jobs have no request) that signs the
    recipient in and opens the complaint."""
    from ..accounts import issue_token
    from ..complaints import intake

    base = current_app.config.get("PUBLIC_URL") or "http://127.0.0.1:5000"
    kind, _, ident = recipient.partition(":")
    with current_app.test_request_context(base_url=base):
        if kind == "contact" and ident.isdigit():
            contact = db.session.get(Contact, int(ident))
            page = url_for("customer.complaint", tenant_slug=tenant.slug,
                           number=complaint.number)
            token = issue_token(contact, next_path=page, minutes=LINK_MINUTES)
            return url_for("customer.use_link", tenant_slug=tenant.slug, token=token,
                           _external=True)
        token = issue_token(intake.ComplaintClaim(complaint.id), purpose=intake.CLAIM_PURPOSE,
                            minutes=intake.CLAIM_MINUTES)
        return url_for("customer.public_claim", tenant_slug=tenant.slug, token=token,
                       _external=True)


def product_name(complaint: Complaint, locale: str) -> str:
    if complaint.product_model is not None:
        return f"{complaint.product_model.code} {complaint.product_model.display_name(locale)}"
    return complaint.specification or "—"


def send_customer_mail(delivery, notification, tenant, locale: str, subject: str,
                       lines: list[str]) -> None:
    from ..mail import deliver
    from ..mailin.threading import reply_headers

    complaint = db.session.get(Complaint, notification.complaint_id)
    link = customer_link(complaint, notification.recipient, tenant)
    context = dict(subject=subject, lines=lines, tenant=tenant, complaint=complaint,
                   product=product_name(complaint, locale), link=link,
                   event=notification.event)
    with force_locale(locale):
        text = render_template("mail/customer_update.txt", **context)
        html = render_template("mail/customer_update.html", **context)
    deliver(delivery.target, subject, text.partition("\n")[2].strip() + "\n", html,
            reply_headers(complaint))
