"""Tenant sign-up from the public site: a manufacturer registers, confirms its e-mail, goes live.

The tenant is created ``pending`` with its first administrator; a one-time link (a
``SignInToken`` with purpose ``confirm_tenant``, issued inside the new tenant) is e-mailed.
Following it shows a button (mail scanners only GET); the POST makes the tenant ``active``,
signs the administrator in, and opens the guided first run in the staff workspace.
"""

from __future__ import annotations

import math
import re
import zoneinfo
from datetime import datetime, timedelta
from http import HTTPStatus

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from . import uow
from .accounts import MIN_PASSWORD_LENGTH, consume_token, hash_password, issue_token, start_session
from .accounts.forms import ConfirmForm
from .accounts.passwords import NotCommon
from .client import client_ip
from .extensions import db
from .i18n import LANGUAGE_NAMES
from .i18n import lazy_gettext as _l
from .mail import queue_mail
from .models import SignInToken, StaffUser, Tenant, utcnow
from .tenancy import activate
from .web import render

blueprint = Blueprint("signup", __name__)

CONFIRM_PURPOSE = "confirm_tenant"
CONFIRM_MINUTES = 48 * 60

# Sign-up limits (counted from the tenants table, so they hold across processes and restarts):
# per client address, per administrator e-mail, and confirmation links per sign-up.
SIGNUPS_PER_ADDRESS = (5, timedelta(hours=1))
SIGNUPS_PER_EMAIL = (3, timedelta(days=1))
RESEND_INTERVAL = timedelta(minutes=2)
RESENDS_PER_DAY = 10

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,38})[a-z0-9]$")
# Slugs that name parts of the platform, or could be mistaken for it.
RESERVED_SLUGS = frozenset({
    "admin", "api", "app", "assets", "auth", "closeloop", "demo-admin", "docs", "help",
    "healthz", "lang", "login", "logout", "mail", "operator", "operators", "platform",
    "readyz", "root", "signup", "sign-in", "sign-up", "staff", "static", "status",
    "support", "system", "t", "tenant", "tenants", "www",
})

TIMEZONES = [
    "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "Asia/Kuala_Lumpur",
    "Asia/Bangkok", "Asia/Ho_Chi_Minh", "Asia/Jakarta", "Asia/Kolkata", "Asia/Dubai",
    "Asia/Seoul", "Asia/Tokyo", "Australia/Sydney", "Europe/London", "Europe/Berlin",
    "Europe/Paris", "Europe/Moscow", "Africa/Johannesburg", "America/Sao_Paulo",
    "America/New_York", "America/Chicago", "America/Los_Angeles", "UTC",
]


def slug_problem(slug: str) -> str | None:
    """Why ``slug`` cannot be used (a translated message), or None when it can."""
    if not SLUG_PATTERN.match(slug or ""):
        return _("Use 3 to 40 lower-case letters, digits and hyphens, starting and ending "
                 "with a letter or digit.")
    if slug in RESERVED_SLUGS or "--" in slug:
        return _("This address is reserved. Choose another.")
    if db.session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
        return _("This address is already taken. Choose another.")
    return None


class SignUpForm(FlaskForm):
    company_name = StringField(_l("Company name"), validators=[
        DataRequired(_l("Enter your company's name.")), Length(max=200)])
    slug = StringField(_l("Web address"), validators=[DataRequired(_l("Choose a web address."))])
    admin_name = StringField(_l("Your name"), validators=[
        DataRequired(_l("Enter your name.")), Length(max=120)])
    email = EmailField(_l("Your e-mail"), validators=[
        DataRequired(_l("Enter your e-mail address.")),
        Email(_l("Enter a valid e-mail address.")), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[
        DataRequired(_l("Choose a password.")),
        Length(min=MIN_PASSWORD_LENGTH, max=200,
               message=_l("Use at least %(min)d characters.", min=MIN_PASSWORD_LENGTH)),
        NotCommon()])
    confirm = PasswordField(_l("Repeat the password"), validators=[
        EqualTo("password", _l("The two passwords differ."))])
    default_locale = SelectField(_l("Default language"), default="zh_CN",
                                 choices=[SelectChoice(c, n) for c, n in LANGUAGE_NAMES.items()])
    timezone = SelectField(_l("Time zone"), choices=[SelectChoice(z, z) for z in TIMEZONES],
                           default="Asia/Shanghai")

    def validate_slug(self, field):
        field.data = (field.data or "").strip().lower()
        problem = slug_problem(field.data)
        if problem:
            raise ValidationError(problem)

    def validate_timezone(self, field):
        if field.data not in zoneinfo.available_timezones() and field.data != "UTC":
            raise ValidationError(_("Choose a time zone from the list."))


def create_tenant(*, name: str, slug: str, admin_name: str, email: str, password: str,
                  locale: str, timezone: str, address: str | None = None
                  ) -> tuple[Tenant, StaffUser, str]:
    """Create a pending tenant with its administrator and a confirmation token.

    Flushes, never commits. Raises IntegrityError when the slug was taken meanwhile.
    Returns (tenant, administrator, the confirmation token in clear).
    """
    tenant = Tenant(slug=slug, name=name.strip(), default_locale=locale, timezone=timezone,
                    status="pending", signup_address=address,
                    signup_email=email.strip().lower(),
                    settings={"first_run_done": False,
                              "languages": [locale] + [c for c in LANGUAGE_NAMES if c != locale]})
    db.session.add(tenant)
    db.session.flush()
    with activate(tenant):
        admin = StaffUser(email=email.strip().lower(), name=admin_name.strip(), roles=["admin"],
                          password_hash=hash_password(password), locale=locale)
        db.session.add(admin)
        db.session.flush()
        token = issue_token(admin, purpose=CONFIRM_PURPOSE, minutes=CONFIRM_MINUTES)
        db.session.flush()
    return tenant, admin, token


def _wait_text(wait: timedelta) -> str:
    """A wait as the user reads it ("42 minutes", "3 hours"), never less than a minute."""
    seconds = max(60, math.ceil(wait.total_seconds() / 60) * 60)
    return format_timedelta(timedelta(seconds=seconds), threshold=1.0, add_direction=False)


def _wait_for(times: list[datetime], limit: int, window: timedelta, now: datetime):
    """How long until fewer than ``limit`` of ``times`` fall inside ``window``, or None when
    one more is allowed now."""
    recent = sorted(t for t in times if t > now - window)
    if len(recent) < limit:
        return None
    return recent[-limit] + window - now


def signup_limit(address: str, email: str) -> tuple[str, str] | None:
    """Whether one more sign-up from ``address`` for ``email`` is over a limit: (which
    limit, "address" or "email"; a translated message saying how long to wait) or None."""
    now = utcnow()
    for column, value, (limit, window), kind in (
            (Tenant.signup_address, address, SIGNUPS_PER_ADDRESS, "address"),
            (Tenant.signup_email, email, SIGNUPS_PER_EMAIL, "email")):
        times = db.session.scalars(select(Tenant.created_at).where(
            column == value, Tenant.created_at > now - window)).all()
        wait = _wait_for(times, limit, window, now)
        if wait is not None:
            if kind == "address":
                return kind, _("Too many sign-ups from your network. Please try again in "
                               "%(wait)s.", wait=_wait_text(wait))
            return kind, _("Too many sign-ups with this e-mail address. Please try again in "
                           "%(wait)s.", wait=_wait_text(wait))
    return None


def resend_limit(tenant: Tenant, admin: StaffUser) -> str | None:
    """A translated message saying how long to wait when a confirmation link was sent too
    recently (or too often today) for this sign-up; None when one may go now."""
    now = utcnow()
    with activate(tenant):
        times = db.session.scalars(select(SignInToken.created_at).where(
            SignInToken.principal == admin.get_id(), SignInToken.purpose == CONFIRM_PURPOSE,
            SignInToken.created_at > now - timedelta(days=1))).all()
    wait = _wait_for(times, 1, RESEND_INTERVAL, now) or _wait_for(
        times, RESENDS_PER_DAY, timedelta(days=1), now)
    if wait is None:
        return None
    return _("A link was sent a moment ago. Check your inbox (and spam folder), or ask for "
             "another in %(wait)s.", wait=_wait_text(wait))


def send_confirmation(tenant: Tenant, admin: StaffUser, token: str) -> None:
    with activate(tenant):
        queue_mail(admin.email, "tenant_confirm", tenant.default_locale, tenant=tenant,
                   admin=admin, link=url_for("signup.confirm", slug=tenant.slug, token=token,
                                             _external=True))


def confirm_tenant(tenant: Tenant, token: str) -> StaffUser | None:
    """Use the confirmation token: the tenant goes live. Returns its administrator, or None
    when the token is unknown, used or expired. The tenant must be active (activate())."""
    row = consume_token(token, CONFIRM_PURPOSE)
    if row is None:
        return None
    kind, _sep, raw_id = row.principal.partition(":")
    admin = db.session.get(StaffUser, int(raw_id)) if kind == "staff" else None
    if admin is None:
        return None
    if tenant.status == "pending":
        tenant.status = "active"
    return admin


@blueprint.route("/signup", methods=["GET", "POST"])
def start():
    form = SignUpForm()
    # Tells whether the address is free while it is typed (htmx; without it, on submit).
    form.slug.render_kw = {"hx-get": url_for("signup.check_slug"), "hx-include": "this",
                           "hx-trigger": "input changed delay:400ms", "hx-target": "#slug-check"}
    limit_message = None
    if form.validate_on_submit():
        over = signup_limit(client_ip(), form.email.data.strip().lower())
        if over is not None:
            kind, message = over
            if kind == "email":
                form.email.errors.append(message)
            else:
                limit_message = message
            return render("signup/start.html", None, HTTPStatus.UNPROCESSABLE_ENTITY, form=form,
                          limit_message=limit_message)
        try:
            tenant, admin, token = create_tenant(
                name=form.company_name.data, slug=form.slug.data,
                admin_name=form.admin_name.data, email=form.email.data,
                password=form.password.data, locale=form.default_locale.data,
                timezone=form.timezone.data, address=client_ip())
            send_confirmation(tenant, admin, token)
            uow.commit()
        except IntegrityError:
            uow.rollback()
            form.slug.errors.append(_("This address is already taken. Choose another."))
        else:
            return redirect(url_for("signup.sent", slug=tenant.slug), code=303)
    status = HTTPStatus.UNPROCESSABLE_ENTITY if request.method == "POST" else HTTPStatus.OK
    return render("signup/start.html", None, status, form=form)


def _pending_or_404(slug: str) -> Tenant:
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        abort(404)
    return tenant


@blueprint.get("/signup/<slug>/sent")
def sent(slug: str):
    tenant = _pending_or_404(slug)
    return render("signup/sent.html", pending=tenant, form=ConfirmForm())


@blueprint.route("/signup/<slug>/confirm/<token>", methods=["GET", "POST"])
def confirm(slug: str, token: str):
    """GET shows a button (mail scanners follow links); the POST confirms."""
    tenant = _pending_or_404(slug)
    form = ConfirmForm()
    if request.method == "GET":
        return render("signup/confirm.html", pending=tenant, form=form,
                      valid=_token_is_live(tenant, token))
    if not form.validate_on_submit():
        abort(400)
    with activate(tenant):
        admin = confirm_tenant(tenant, token)
        if admin is None:
            uow.commit()
            flash(_("This confirmation link has expired or was already used."), "error")
            return redirect(url_for("signup.sent", slug=slug), code=303)
        start_session(admin)
        uow.commit()
        # Still inside the tenant: the locale lookup reads the signed-in administrator.
        flash(_("Your e-mail is confirmed and %(name)s is live.", name=tenant.name), "success")
        return redirect(url_for("internal.admin_welcome", tenant_slug=tenant.slug), code=303)


@blueprint.post("/signup/<slug>/resend")
def resend(slug: str):
    """Send a fresh confirmation link to the administrator of a still pending sign-up."""
    tenant = _pending_or_404(slug)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    if tenant.status == "pending":
        with activate(tenant):
            admin = db.session.scalar(select(StaffUser).order_by(StaffUser.id).limit(1))
            wait = resend_limit(tenant, admin) if admin is not None else None
            if wait is not None:
                flash(wait, "error")
                return render("signup/sent.html", None, HTTPStatus.TOO_MANY_REQUESTS, pending=tenant,
                              form=form)
            if admin is not None:
                _expire_tokens(admin)
                send_confirmation(tenant, admin, issue_token(admin, purpose=CONFIRM_PURPOSE,
                                                             minutes=CONFIRM_MINUTES))
                uow.commit()
    flash(_("If this sign-up is still waiting for confirmation, a new link is on its way."),
          "success")
    return redirect(url_for("signup.sent", slug=slug), code=303)


def _expire_tokens(admin: StaffUser) -> None:
    for row in db.session.scalars(select(SignInToken).where(
            SignInToken.principal == admin.get_id(), SignInToken.purpose == CONFIRM_PURPOSE,
            SignInToken.used_at.is_(None))):
        row.used_at = utcnow()


def _token_is_live(tenant: Tenant, token: str) -> bool:
    from .accounts import _digest

    if not token or len(token) > 100:
        return False
    with activate(tenant):
        row = db.session.scalar(select(SignInToken).where(
            SignInToken.token_hash == _digest(token), SignInToken.purpose == CONFIRM_PURPOSE))
        return bool(row and row.used_at is None and row.expires_at > utcnow())


@blueprint.get("/signup/check-slug")
def check_slug():
    """htmx: say at once whether the typed address is free."""
    slug = (request.args.get("slug") or "").strip().lower()
    problem = slug_problem(slug) if slug else None
    return render("signup/_slug_check.html", slug=slug, problem=problem)


