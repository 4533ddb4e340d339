"""Filing a complaint from the portal: the form (signed in or not), the catalogue type-ahead,
the serial number check, the confirmation, and the one-time link that lets a visitor follow
their complaint as a contact."""

from __future__ import annotations

from http import HTTPStatus

from flask import abort, flash, redirect, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal import photos, uow
from portal.accounts import consume_token, issue_token, start_session
from portal.client import client_ip
from portal.complaints import intake
from portal.complaints.operations import submit_complaint
from portal.complaints.timeline import Visitor
from portal.complaints.vocabulary import CUSTOMER_DEMAND_LABELS
from portal.extensions import db
from portal.mail import queue_mail
from portal.models import Complaint
from portal.tenancy import current_tenant
from portal.web import render

from . import blueprint, uploads
from .forms import ClaimForm, ComplaintForm, new_key, require_reporter
from .views import signed_in_contact

FILED_IN_SESSION = 20  # complaints a browser remembers having filed (confirmation pages)


def _tenant():
    return current_tenant._get_current_object()


@blueprint.get("/complaints/products")
def public_products():
    """The type-ahead's options (an htmx fragment replacing the datalist)."""
    products = intake.suggest_products(request.args.get("product") or request.args.get("q"))
    return render("customer/_product_options.html", products=products)


@blueprint.post("/complaints/new/serials")
def public_check_serials():
    """Check the typed serial numbers while the form is being filled (htmx); never a wall."""
    form = ComplaintForm()
    form.validate()  # only to parse the fields below; errors are not shown here
    contact = signed_in_contact()
    report = None
    if form.serials.data and not form.serials.errors:
        report = intake.check_serials(
            _tenant(), form.serials.data, product=intake.resolve_product(form.product.data),
            shipped_on=form.shipped_on.data if not form.shipped_on.errors else None,
            lot=form.lot.data, company_id=contact.company_id if contact else None)
    return render("customer/_serial_report.html", report=report, live=True)


@blueprint.route("/complaints/new", methods=["GET", "POST"])
def public_new_complaint():
    tenant = _tenant()
    contact = signed_in_contact()
    form = ComplaintForm()
    if request.method == "GET":
        form.submission_key.data = new_key()
        if contact is not None:
            form.reporter_phone.data = contact.phone
        return _form_page(form, contact)

    key = uploads.valid_key(form.submission_key.data)
    if key is None:
        key = form.submission_key.data = new_key()
    earlier = db.session.scalar(select(Complaint).where(Complaint.submission_key == key))
    if earlier is not None:  # a double tap or a resend: the first one counts
        return _to_confirmation(earlier)

    staged, photo_errors = uploads.gather(tenant, key)
    valid = form.validate()
    if contact is None:
        valid = require_reporter(form) and valid
    product, report, checked = _check_product_and_serials(tenant, form, contact)
    valid = valid and checked
    needs_confirmation = bool(report and report.needs_confirmation
                              and not form.confirm_serials.data)
    if not (form.shipped_on.data or form.lot.data or form.shipped_on.errors
            or (report and report.matched)):
        form.shipped_on.errors.append(_("Give the shipping date or the lot number (both are on "
                                        "the delivery note)."))
        valid = False
    if not staged and not photo_errors:
        photo_errors.append(_("Add at least one photo of the problem."))
    limit_error = None
    email = contact.email if contact else form.reporter_email.data
    try:
        intake.check_filing_limit(tenant, email=email, ip_address=client_ip(),
                                  signed_in=contact is not None)
    except intake.FilingLimitReached as reached:
        limit_error = _("You have filed %(limit)d complaints within the last hour, the most we "
                        "take. Try again in %(minutes)d minutes, or call us if it is urgent.",
                        limit=reached.limit, minutes=reached.minutes)
    if not valid or photo_errors or needs_confirmation or limit_error:
        return _form_page(form, contact, status=422, staged=uploads.tokens(staged, tenant, key),
                          photo_errors=photo_errors, report=report, limit_error=limit_error,
                          ask_confirmation=needs_confirmation)

    complaint = _record(tenant, contact, form, product, report, key, staged)
    try:  # a clash on the key while writing is settled in submit_complaint (a savepoint)
        uow.commit()
    except IntegrityError:  # the same key raced in from another tap at commit time
        uow.rollback()  # before anything reads an attribute the failed commit expired
        complaint = db.session.scalar(select(Complaint).where(Complaint.submission_key == key))
        if complaint is None:
            raise
    return _to_confirmation(complaint)


def _check_product_and_serials(tenant, form: ComplaintForm, contact):
    """The model picked by code or name, and the serial numbers checked against the catalogue
    (errors beside the fields). Returns ``(product, serial report, valid)``."""
    valid = True
    product = None
    if form.product.data and not form.product.errors:
        product = intake.resolve_product(form.product.data)
        if product is None:
            form.product.errors.append(_("We do not know this model. Pick one from the list "
                                         "(type part of its code or name)."))
            valid = False
    report = None
    if form.serials.data and not form.serials.errors:
        report = intake.check_serials(
            tenant, form.serials.data, product=product,
            shipped_on=form.shipped_on.data, lot=form.lot.data,
            company_id=contact.company_id if contact else None)
        form.serials.errors.extend(str(e) for e in report.errors)
        if report.too_many:
            form.serials.errors.append(_("At most %(max)d serial numbers per complaint; file "
                                         "the rest separately.", max=intake.MAX_SERIALS))
        valid = valid and not report.errors and not report.too_many
    return product, report, valid


def _record(tenant, contact, form: ComplaintForm, product, report, key, staged):
    """Write the complaint, its serials and photos, and queue the confirmation e-mail."""
    description = form.description.data
    first_line = description.splitlines()[0].strip() if description else ""
    title = first_line if len(first_line) <= 80 else first_line[:79].rstrip() + "…"
    revealed = [c for c in (report.matched if report else ()) if c.revealed]
    matched = revealed[0].shipment if revealed else None
    data = {
        "source": "customer", "channel": "portal",
        "reporter_name": contact.name if contact else form.reporter_name.data,
        "reporter_company": contact.company.name if contact else form.reporter_company.data,
        "reporter_email": contact.email if contact else form.reporter_email.data,
        "reporter_phone": form.reporter_phone.data or (contact.phone if contact else None),
        "reporter_locale": None if contact else str(get_locale()),
        "product_model_id": product.id,
        "specification": form.specification.data or product.specification,
        "shipped_on": form.shipped_on.data or (matched.shipped_on if matched else None),
        "lot": form.lot.data or (matched.lot if matched else None),
        "defect_quantity": form.defect_quantity.data,
        "quantity_received": form.quantity_received.data,
        "quantity_used": form.quantity_used.data,
        "found_at_place": form.found_at_place.data or None,
        "found_on": form.found_on.data,
        "order_number": form.order_number.data or None,
        "title": title or product.code,
        "description": description,
        "demands": list(form.demands.data),
        "claim_amount": form.claim_amount.data if "claim" in form.demands.data else None,
    }
    actor = contact or Visitor(data["reporter_name"])
    complaint, created = submit_complaint(
        tenant, actor, data=data, serials=report.as_rows(bool(form.confirm_serials.data)),
        submission_key=key)
    if not created:
        return complaint
    intake.record_origin(complaint, client_ip())
    for upload in staged:
        photos.attach(complaint, upload, actor.get_id() if contact else "visitor")
    locale = str(get_locale())
    if contact is not None:
        link = url_for("customer.complaint", number=complaint.number, _external=True)
    else:
        token = issue_token(intake.ComplaintClaim(complaint.id), purpose=intake.CLAIM_PURPOSE,
                            minutes=intake.CLAIM_MINUTES)
        link = url_for("customer.public_claim", token=token, _external=True)
    queue_mail(data["reporter_email"], "complaint_received", locale, complaint=complaint,
               tenant=tenant, link=link, visitor=contact is None,
               promises=promise_lines(complaint))
    return complaint


def _form_page(form, contact, status=200, staged=(), photo_errors=(), report=None,
               limit_error=None, ask_confirmation=False):
    tenant = _tenant()
    return render("customer/complaint_form.html", None, HTTPStatus(status), form=form,
                  contact=contact,
                  products=intake.suggest_products(None, limit=50), staged=staged,
                  photo_errors=photo_errors, report=report, limit_error=limit_error,
                  ask_confirmation=ask_confirmation, demand_labels=CUSTOMER_DEMAND_LABELS,
                  max_photos=tenant.setting("max_photos"),
                  max_photo_mb=tenant.setting("max_photo_mb"))


def _to_confirmation(complaint: Complaint):
    """The confirmation of the complaint filed with this form's key. The browser remembers it
    whichever of its taps won: a tap that lost the race answers with a session cookie too,
    and that cookie must not forget what the winning tap's cookie held."""
    filed = [i for i in session.get("filed", []) if i != complaint.id][-(FILED_IN_SESSION - 1):]
    session["filed"] = [*filed, complaint.id]
    return redirect(url_for("customer.public_filed", number=complaint.number), code=303)


def promise_lines(complaint: Complaint) -> list[tuple[str, object]]:
    """What happens next and by when: the running customer-visible deadlines if the deadline
    engine has started them, else the promises of our procedure (DOMAIN.md)."""
    from portal.deadlines import promises_for

    promises = [p for p in promises_for(complaint) if p.state in ("running", "paused")]
    if promises:
        return [(p.label, p.due_at) for p in promises]
    return [(_("We contact you within 24 hours to confirm what we need."), None),
            (_("If it is a defect of our product, you get our answer with a handling opinion "
               "within 48 hours."), None)]


@blueprint.get("/complaints/<number>/filed")
def public_filed(number: str):
    """The confirmation: for the browser that filed it, or a colleague of the same company."""
    complaint = db.session.scalar(select(Complaint).where(Complaint.number == number))
    contact = signed_in_contact()
    if complaint is None or not (
            complaint.id in session.get("filed", ())
            or (contact is not None and complaint.customer_company_id == contact.company_id)):
        abort(404)
    return render("customer/filed.html", complaint=complaint, contact=contact,
                  promises=promise_lines(complaint), demand_labels=CUSTOMER_DEMAND_LABELS)


@blueprint.route("/follow/<token>", methods=["GET", "POST"])
def public_claim(token: str):
    """The visitor's one-time link. GET only shows a button (mail scanners follow links); the
    POST makes the visitor a contact, links the complaint and signs them in."""
    form = ClaimForm()
    if request.method == "GET":
        return render("customer/claim.html", form=form)
    if not form.validate_on_submit():
        abort(400)
    row = consume_token(token, purpose=intake.CLAIM_PURPOSE)
    complaint = intake.claimed_complaint(row.principal) if row else None
    contact = intake.adopt_complaint(complaint, str(get_locale())) if complaint else None
    if contact is None:
        uow.commit()
        flash(_("This link has expired or was already used. Sign in with your e-mail address "
                "to follow your complaints."), "error")
        return redirect(url_for("customer.sign_in"), code=303)
    start_session(contact)
    uow.commit()
    flash(_("Welcome, %(name)s. You can follow your complaint here from now on.",
            name=contact.name), "success")
    return redirect(url_for("customer.complaint", number=complaint.number), code=303)
