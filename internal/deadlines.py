"""Staff pages for deadlines: the tenant's deadline policy and business calendar (admin),
and the template helpers the complaint, queue and customer pages use."""

from __future__ import annotations

from datetime import date
from http import HTTPStatus

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal import deadlines, uow
from portal.accounts.forms import ConfirmForm
from portal.complaints.permissions import permitted
from portal.deadlines.clocks import forget_context, humanize_minutes
from portal.deadlines.policy import (
    DEFAULTS,
    LABELS,
    OWN_DUE_DATE,
    UNITS,
    PolicyError,
    policy_for,
    validate_rule,
)
from portal.extensions import db
from portal.models import CalendarException, SettingChange
from portal.tenancy import current_tenant
from portal.web import render

from . import blueprint


@blueprint.app_template_global("deadline_clocks")
def _deadline_clocks(complaint):
    return deadlines.clocks_for(complaint)


@blueprint.app_template_global("deadline_badge")
def _deadline_badge(complaint):
    return deadlines.badge_for(complaint)


@blueprint.app_template_global("customer_promises")
def _customer_promises(complaint):
    return deadlines.promises_for(complaint)


@blueprint.app_template_global("deadline_humanize")
def _deadline_humanize(minutes):
    return humanize_minutes(minutes)


# -- the tenant admin's policy and calendar page ----------------------------------------------

@blueprint.route("/admin/deadlines", methods=["GET", "POST"])
def deadline_policy():
    permitted("administer")
    tenant = current_tenant._get_current_object()
    form = ConfirmForm()
    errors: dict[tuple[str, str], str] = {}
    values = policy_for(tenant)
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        what = request.form.get("what", "policy")
        if what == "policy":
            done = _save_policy(tenant, values, errors)
        elif what == "exception":
            done = _add_exception(tenant, errors)
        elif what == "remove":
            raw = request.form.get("id", "")
            exception = db.get_or_404(CalendarException, int(raw)) if raw.isdigit() else abort(404)
            db.session.delete(exception)
            uow.commit()
            forget_context(tenant.id)
            done = True
        else:
            abort(400)
        if done:
            return redirect(url_for("internal.deadline_policy"), code=303)
        status = 422
    exceptions = db.session.scalars(select(CalendarException).order_by(CalendarException.day)).all()
    return render("internal/deadlines/policy.html", None, HTTPStatus(status), form=form,
                  values=values, errors=errors, labels=LABELS, units=UNITS, own_due_date=OWN_DUE_DATE,
                  exceptions=exceptions, typed=request.form)


def _save_policy(tenant, values: dict, errors: dict) -> bool:
    """The policy's rules from the form: saved with their history, or the errors noted (and
    what was typed kept in ``values``). True when saved."""
    cleaned = {}
    for kind in DEFAULTS:
        raw = {key: request.form.get(f"{kind}-{key}") for key in
               ("amount", "misuse_amount", "unit")}
        raw["enabled"] = request.form.get(f"{kind}-enabled") == "on"
        values[kind] = {**values[kind], **{k: v for k, v in raw.items() if v is not None}}
        try:
            cleaned[kind] = validate_rule(kind, raw)
        except PolicyError as exc:
            errors[(kind, exc.field)] = str(exc.message)
    if errors:
        return False
    old = tenant.setting("deadline_policy")
    tenant.settings = {**(tenant.settings or {}), "deadline_policy": cleaned}
    db.session.add(SettingChange(staff_id=current_user.id, key="deadline_policy",
                                 old_value=old, new_value=cleaned))
    uow.commit()
    forget_context(tenant.id)
    flash(_("The deadline policy is saved. It applies to clocks started from now."), "success")
    return True


def _add_exception(tenant, errors: dict) -> bool:
    """A day off or an extra working day of the tenant's calendar. True when added."""
    raw_day = (request.form.get("day") or "").strip()
    note = (request.form.get("note") or "").strip()[:200] or None
    try:
        day = date.fromisoformat(raw_day)
    except ValueError:
        errors[("exception", "day")] = _("Enter a date like 2026-10-01.")
        day = None
    if day and db.session.scalar(select(CalendarException).where(CalendarException.day == day)):
        errors[("exception", "day")] = _("This day already has an exception.")
    if errors:
        return False
    db.session.add(CalendarException(day=day, note=note,
                                     working=request.form.get("working") == "1"))
    uow.commit()
    forget_context(tenant.id)
    return True
