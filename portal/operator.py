"""The platform operator area at /operator/: outside every tenant, its own sign-in.

This is the only web code that uses ``tenancy.unscoped()``: it counts each tenant's users
and complaints and finds its last complaint, and it suspends or resumes tenants (a
suspended tenant's pages show errors/suspended.html; nothing is deleted).

Operator sessions follow the same server-side pattern as ``portal.accounts`` (the cookie
holds a random token, the database its sha256, revoking the row ends the session) but
live in ``operator_sessions`` — see ``portal.models.platform`` for why not
``login_sessions``. The token rides under its own cookie key (``op_sid``); Flask-Login's
``current_user`` is never an operator, so a tenant user's sign-in grants nothing here and
an operator's grants nothing in any tenant.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import click
from flask import Blueprint, abort, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from . import uow
from .accounts import MIN_PASSWORD_LENGTH, hash_password, is_common
from .accounts.forms import ConfirmForm
from .accounts.views import sign_in_page, sign_in_rate
from .accounts.views import sign_out as shared_sign_out
from .client import client_ip
from .extensions import db, limiter
from .models import (
    Complaint,
    Contact,
    OperatorSession,
    OperatorSignInFailure,
    PlatformOperator,
    StaffUser,
    Tenant,
    utcnow,
)
from .observability import security_event
from .tenancy import unscoped
from .web import render

blueprint = Blueprint("operator", __name__, url_prefix="/operator", cli_group=None)

_COOKIE_KEY = "op_sid"
_LAST_SEEN_EVERY = timedelta(minutes=5)
PUBLIC_ENDPOINTS = {"operator.sign_in"}


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# -- sessions ------------------------------------------------------------------------------

def start_operator_session(operator: PlatformOperator) -> None:
    token = secrets.token_urlsafe(32)
    db.session.add(OperatorSession(id=_digest(token), operator_id=operator.id,
                                   ip_address=client_ip(),
                                   user_agent=(request.user_agent.string or "")[:300]))
    locale = session.get("locale")
    session.clear()  # no tenant sign-in rides along with an operator's (session fixation too)
    if locale:
        session["locale"] = locale
    session[_COOKIE_KEY] = token
    session.permanent = True
    security_event("sign_in", user=f"operator:{operator.id}")


def end_operator_session() -> None:
    token = session.pop(_COOKIE_KEY, None)
    if token:
        db.session.execute(update(OperatorSession).where(
            OperatorSession.id == _digest(token), OperatorSession.revoked_at.is_(None))
            .values(revoked_at=utcnow()))


def current_operator() -> PlatformOperator | None:
    """The operator this browser is signed in as, checked against a live session row."""
    token = session.get(_COOKIE_KEY)
    if not token:
        return None
    row = db.session.get(OperatorSession, _digest(token))
    now = utcnow()
    if row is None or row.revoked_at is not None \
            or now - row.created_at > current_app.permanent_session_lifetime:
        return None
    if now - row.last_seen_at > _LAST_SEEN_EVERY:
        row.last_seen_at = now
    return db.session.get(PlatformOperator, row.operator_id)


@blueprint.before_request
def require_operator():
    g.operator = current_operator()
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if g.operator is None:
        return redirect(url_for("operator.sign_in", next=request.full_path.rstrip("?")))
    return None


@blueprint.after_request
def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


# -- tenant overview and actions (the unscoped part) ----------------------------------------

def tenant_overview() -> list[dict]:
    """Every tenant with its size and activity. Platform tooling: reads across tenants."""
    with unscoped():
        staff = dict(db.session.execute(
            select(StaffUser.tenant_id, func.count()).group_by(StaffUser.tenant_id)).all())
        contacts = dict(db.session.execute(
            select(Contact.tenant_id, func.count()).group_by(Contact.tenant_id)).all())
        complaints = {tid: (n, last) for tid, n, last in db.session.execute(
            select(Complaint.tenant_id, func.count(), func.max(Complaint.created_at))
            .group_by(Complaint.tenant_id)).all()}
    tenants = db.session.scalars(select(Tenant).order_by(Tenant.created_at.desc())).all()
    return [{"tenant": t, "staff": staff.get(t.id, 0), "contacts": contacts.get(t.id, 0),
             "complaints": complaints.get(t.id, (0, None))[0],
             "last_complaint": complaints.get(t.id, (0, None))[1]} for t in tenants]


def set_tenant_status(tenant: Tenant, status: str) -> None:
    """Suspend or resume a tenant. A suspended tenant's sessions are ended too."""
    if status not in ("active", "suspended"):
        raise ValueError(status)
    if tenant.status == "pending":
        raise ValueError("a pending tenant is put live by its own e-mail confirmation")
    tenant.status = status
    if status == "suspended":
        from .models import LoginSession

        with unscoped():
            db.session.execute(update(LoginSession).where(
                LoginSession.tenant_id == tenant.id, LoginSession.revoked_at.is_(None))
                .values(revoked_at=utcnow()), execution_options={"synchronize_session": False})


# -- pages ---------------------------------------------------------------------------------

@blueprint.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(sign_in_rate, methods=["POST"])
def sign_in():
    """The same sign-in flow and throttle as the tenants' areas (portal.accounts.views), with
    the operator's own accounts, failure table and session; no e-mail link is offered."""
    return sign_in_page(PlatformOperator, "operator/sign_in.html", url_for("operator.index"),
                        failures=OperatorSignInFailure, start=start_operator_session,
                        offer_link=False)


@blueprint.post("/sign-out")
def sign_out():
    return shared_sign_out(end_operator_session, url_for("operator.sign_in"))


@blueprint.get("/")
def index():
    return render("operator/index.html", rows=tenant_overview(), form=ConfirmForm(),
                  operator=g.operator)


@blueprint.post("/tenants/<int:tenant_id>/<any(suspend, resume):action>")
def change_status(tenant_id: int, action: str):
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    tenant = db.get_or_404(Tenant, tenant_id)
    try:
        set_tenant_status(tenant, "suspended" if action == "suspend" else "active")
    except ValueError:
        flash(_("%(name)s has not confirmed its sign-up yet.", name=tenant.name), "error")
        return redirect(url_for("operator.index"), code=303)
    uow.commit()
    message = (_("%(name)s is suspended. Nothing was deleted.", name=tenant.name)
               if action == "suspend" else _("%(name)s is live again.", name=tenant.name))
    flash(message, "success")
    return redirect(url_for("operator.index"), code=303)


# -- command line --------------------------------------------------------------------------

@blueprint.cli.command("create-operator")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True)
@click.password_option(confirmation_prompt=True)
def create_operator(email: str, name: str, password: str) -> None:
    """Create a platform operator (or set a new password for an existing one)."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise click.BadParameter("enter a valid e-mail address", param_hint="--email")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.BadParameter(f"use at least {MIN_PASSWORD_LENGTH} characters",
                                 param_hint="--password")
    if is_common(password):
        raise click.BadParameter("this is one of the most common passwords; choose another",
                                 param_hint="--password")
    operator = db.session.scalar(select(PlatformOperator).where(PlatformOperator.email == email))
    if operator is None:
        db.session.add(PlatformOperator(email=email, name=name.strip() or email,
                                        password_hash=hash_password(password)))
        verb = "created"
    else:
        operator.password_hash = hash_password(password)
        operator.name = name.strip() or operator.name
        verb = "updated"
    uow.commit()
    click.echo(f"Operator {email} {verb}. Sign in at /operator/sign-in.")
