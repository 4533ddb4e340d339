"""Sign-in, sign-out and password pages shared by the three areas: the customer portal, the
staff workspace and the platform operator area. Each area's view names its account model,
template and landing page; the flow, the throttle and the messages are these."""

from __future__ import annotations

from http import HTTPStatus

from flask import current_app, flash, redirect, request
from flask_babel import gettext as _

from .. import uow
from ..models import SignInFailure
from ..web import render, safe_next
from . import Throttled, authenticate, change_password, start_session, verify_password
from .forms import PasswordChangeForm, SignInForm


def sign_in_rate() -> str:
    """Flask-Limiter's request-rate limit on sign-in POSTs per address (each costs an argon2
    check); the per-account throttle is the real guard, this bounds the work."""
    return current_app.config["SIGNIN_RATE_LIMIT"]


def throttled_message(exc: Throttled, offer_link: bool = True) -> str:
    if exc.seconds < 90:
        wait = _("Too many failed attempts. Wait %(seconds)d seconds and try again.",
                 seconds=exc.seconds)
    else:
        wait = _("Too many failed attempts. Wait %(minutes)d minutes and try again.",
                 minutes=exc.minutes)
    if offer_link:
        wait += " " + _("Or ask for a sign-in link by e-mail.")
    return wait


def password_sign_in(model, form: SignInForm, *, failures=SignInFailure, start=start_session,
                     offer_link: bool = True):
    """Validate the form and sign the user in. Returns the user, or None with the error
    attached to the form (a failure is committed so throttling counts it)."""
    if not form.validate_on_submit():
        return None
    try:
        user = authenticate(model, form.email.data, form.password.data, failures=failures)
    except Throttled as exc:
        form.email.errors.append(throttled_message(exc, offer_link))
        return None
    if user is None:
        uow.commit()  # keep the failure for throttling
        form.password.errors.append(_("The e-mail or password is not right."))
        return None
    start(user)
    uow.commit()
    return user


def sign_in_page(model, template: str, home: str, *, failures=SignInFailure,
                 start=start_session, offer_link: bool = True, **context):
    """The whole sign-in page: GET shows the form (keeping ``?next=``), a right POST signs in
    and goes on to ``next`` (same-site only) or ``home``, a wrong one answers 422 with what
    was typed and why."""
    form = SignInForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if password_sign_in(model, form, failures=failures, start=start, offer_link=offer_link):
        return redirect(safe_next(form.next.data, home), code=303)
    status = HTTPStatus.UNPROCESSABLE_ENTITY if request.method == "POST" else HTTPStatus.OK
    return render(template, None, status, form=form, **context)


def sign_out(end, target: str):
    """End this browser's session with ``end`` (tenant or operator), commit, go to ``target``."""
    end()
    uow.commit()
    return redirect(target, code=303)


def password_form(user) -> PasswordChangeForm:
    """The password form; someone who signs in only by e-mail link has no current password
    to give, so that field is dropped for them (the signed-in session is the proof)."""
    form = PasswordChangeForm()
    if not user.password_hash:
        del form.current_password
    return form


def password_change(user, form: PasswordChangeForm) -> bool:
    if not form.validate_on_submit():
        return False
    if user.password_hash and not verify_password(user, form.current_password.data):
        form.current_password.errors.append(_("The current password is not right."))
        return False
    change_password(user, form.new_password.data)
    uow.commit()
    flash(_("Password changed. You were signed out everywhere else."), "success")
    return True


def password_page(user, template: str, home: str):
    """The change-password page of the customer and staff areas."""
    form = password_form(user)
    if password_change(user, form):
        return redirect(home, code=303)
    status = HTTPStatus.UNPROCESSABLE_ENTITY if request.method == "POST" else HTTPStatus.OK
    return render(template, None, status, form=form)
