"""Sign-in flows shared by the customer portal and the staff workspace."""

from __future__ import annotations

from flask import flash
from flask_babel import gettext as _

from .. import uow
from . import Throttled, authenticate, change_password, start_session, verify_password
from .forms import PasswordChangeForm, SignInForm


def password_sign_in(model, form: SignInForm):
    """Validate the form and sign the user in. Returns the user, or None with the error
    attached to the form (the failure is committed so throttling counts it)."""
    if not form.validate_on_submit():
        return None
    try:
        user = authenticate(model, form.email.data, form.password.data)
    except Throttled as exc:
        form.email.errors.append(_("Too many failed attempts. Wait %(minutes)d minutes and try "
                                   "again, or ask for a sign-in link.", minutes=exc.minutes))
        return None
    if user is None:
        uow.commit()  # keep the failure for throttling
        form.password.errors.append(_("The e-mail or password is not right."))
        return None
    start_session(user)
    uow.commit()
    return user


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
