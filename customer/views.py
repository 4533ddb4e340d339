"""Customer portal pages: the landing page and signing in. Views stay thin: parse, call one
operation, render."""

from __future__ import annotations

from http import HTTPStatus

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from portal import uow
from portal.accounts import consume_token, end_session, issue_token, load_principal, start_session
from portal.accounts.forms import ConfirmForm, EmailLinkForm, SignInForm
from portal.accounts.views import password_page, sign_in_page, sign_in_rate
from portal.accounts.views import sign_out as shared_sign_out
from portal.extensions import db, limiter
from portal.mail import queue_mail
from portal.models import Complaint, Contact
from portal.tenancy import current_tenant
from portal.web import render, safe_next

from . import blueprint

# Pages a visitor may see without signing in; every other customer page needs a contact.
PUBLIC_ENDPOINTS = {"customer.index", "customer.sign_in", "customer.request_link",
                    "customer.use_link"}
PUBLIC_PREFIXES = ("customer.public_",)


@blueprint.before_request
def require_contact():
    endpoint = request.endpoint or ""
    if endpoint in PUBLIC_ENDPOINTS or endpoint.startswith(PUBLIC_PREFIXES):
        return None
    if not current_user.is_authenticated or getattr(current_user, "kind", None) != "contact":
        return redirect(url_for("customer.sign_in", next=request.full_path.rstrip("?")))
    return None


def signed_in_contact():
    return current_user if getattr(current_user, "kind", None) == "contact" else None


@blueprint.get("/")
def index():
    contact = signed_in_contact()
    recent = []
    if contact:
        recent = db.session.scalars(
            select(Complaint).where(Complaint.customer_company_id == contact.company_id)
            .order_by(Complaint.created_at.desc()).limit(5)
        ).all()
    return render("customer/index.html", contact=contact, recent=recent)


@blueprint.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(sign_in_rate, methods=["POST"])
def sign_in():
    return sign_in_page(Contact, "customer/sign_in.html", url_for("customer.index"),
                        link_form=EmailLinkForm(formdata=None))


def _link_email() -> str:
    """The e-mail a link is asked for, as counted by the per-e-mail limit (per tenant)."""
    return f"{current_tenant.id}:{(request.form.get('email') or '').strip().lower()[:254]}"


@blueprint.post("/sign-in/link")
@limiter.limit(lambda: current_app.config["SIGNIN_LINK_LIMIT_PER_ADDRESS"])
@limiter.limit(lambda: current_app.config["SIGNIN_LINK_LIMIT_PER_EMAIL"], key_func=_link_email)
def request_link():
    """E-mail a one-time sign-in link. Says the same whether or not the address is known.
    Limited per address and per e-mail (whether the account exists or not, so the limit
    tells nothing), so the form cannot be used to flood someone's mailbox."""
    form = EmailLinkForm()
    if not form.validate_on_submit():
        return render("customer/sign_in.html", None, HTTPStatus.UNPROCESSABLE_ENTITY,
                      form=SignInForm(formdata=None), link_form=form)
    email = form.email.data.strip().lower()
    contact = db.session.scalar(select(Contact).where(func.lower(Contact.email) == email))
    if contact is not None and contact.active:
        token = issue_token(contact, next_path=safe_next(request.args.get("next"), "") or None)
        queue_mail(contact.email, "sign_in_link", contact.locale or current_tenant.default_locale,
                   contact=contact, tenant=current_tenant,
                   link=url_for("customer.use_link", token=token, _external=True))
        uow.commit()
    flash(_("If that address belongs to an account, a sign-in link is on its way. "
            "It works once, within %(minutes)d minutes.", minutes=30), "success")
    return redirect(url_for("customer.sign_in"), code=303)


@blueprint.route("/sign-in/link/<token>", methods=["GET", "POST"])
def use_link(token: str):
    """GET only shows a button (mail scanners follow links); the POST signs in."""
    form = ConfirmForm()
    if request.method == "GET":
        return render("customer/use_link.html", form=form)
    if not form.validate_on_submit():
        abort(400)
    row = consume_token(token)
    user = load_principal(row.principal) if row else None
    if user is None or not user.is_active:
        uow.commit()
        flash(_("This sign-in link has expired or was already used. Ask for a new one."), "error")
        return redirect(url_for("customer.sign_in"), code=303)
    start_session(user)
    uow.commit()
    return redirect(safe_next(row.next_path, url_for("customer.index")), code=303)


@blueprint.post("/sign-out")
def sign_out():
    return shared_sign_out(end_session, url_for("customer.index"))


@blueprint.route("/account/password", methods=["GET", "POST"])
def password():
    return password_page(current_user, "customer/password.html", url_for("customer.index"))
