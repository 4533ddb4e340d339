"""Forms for signing in and managing one's password."""

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from ..i18n import lazy_gettext as _l
from .passwords import MIN_PASSWORD_LENGTH, NotCommon


class SignInForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[
        DataRequired(_l("Enter your e-mail address.")),
        Email(_l("Enter a valid e-mail address.")), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[
        DataRequired(_l("Enter your password.")), Length(max=200)])
    next = HiddenField()


class EmailLinkForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[
        DataRequired(_l("Enter your e-mail address.")),
        Email(_l("Enter a valid e-mail address.")), Length(max=254)])


class ConfirmForm(FlaskForm):
    """An empty form: a POST with a CSRF token, so that link scanners (GET) change nothing."""


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[
        DataRequired(_l("Enter your current password."))])
    new_password = PasswordField(_l("New password"), validators=[
        DataRequired(_l("Choose a new password.")),
        Length(min=MIN_PASSWORD_LENGTH, max=200,
               message=_l("Use at least %(min)d characters.", min=MIN_PASSWORD_LENGTH)),
        NotCommon()])
    confirm = PasswordField(_l("Repeat the new password"), validators=[
        EqualTo("new_password", _l("The two passwords differ."))])
