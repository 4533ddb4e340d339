"""Customer portal forms. Every field is checked on the server with a message beside it."""

from __future__ import annotations

import re
import secrets
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    HiddenField,
    IntegerField,
    MultipleFileField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
    widgets,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    StopValidation,
    ValidationError,
)

from portal.complaints.vocabulary import CUSTOMER_DEMAND_LABELS, DEMANDS
from portal.i18n import lazy_gettext as _l

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def new_key() -> str:
    return secrets.token_urlsafe(24)


def strip(value):
    return value.strip() if isinstance(value, str) else value


def plain_text(form, field):
    """No control characters (a NUL byte, say): they are never typed, only injected."""
    if isinstance(field.data, str) and _CONTROL.search(field.data):
        raise StopValidation(_l("Remove the invisible control characters from this text."))


class _FriendlyParse:
    """Replace WTForms' English-only parse errors with our translatable message."""

    parse_message = _l("Enter a valid value.")

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(self.parse_message) from exc


class DayField(_FriendlyParse, DateField):
    parse_message = _l("Enter a date like 2026-03-31.")


class WholeNumberField(_FriendlyParse, IntegerField):
    parse_message = _l("Enter a whole number.")


class AmountField(_FriendlyParse, DecimalField):
    parse_message = _l("Enter an amount like 1200 or 1200.50.")

    def process_formdata(self, valuelist):
        if valuelist and isinstance(valuelist[0], str):
            valuelist = [valuelist[0].replace(",", "").replace("，", "").strip()]
            try:
                if valuelist[0] and not Decimal(valuelist[0]).is_finite():
                    raise ValueError(self.parse_message)
            except InvalidOperation:
                pass  # the parent's parse reports it
        super().process_formdata(valuelist)


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def pre_validate(self, form):
        values = dict(self.choices)
        for value in self.data or ():
            if value not in values:
                raise ValidationError(_l("Choose from the list."))


def not_in_future(form, field):
    if field.data and field.data > date.today():
        raise ValidationError(_l("This date is in the future."))


def not_ancient(form, field):
    if field.data and field.data.year < 1990:
        raise ValidationError(_l("This date is too far in the past."))


class ComplaintForm(FlaskForm):
    """The intake form. Reporter fields are required only from visitors (set in the view)."""

    reporter_name = StringField(_l("Your name"), filters=[strip], validators=[
        Optional(), Length(max=120), plain_text])
    reporter_company = StringField(_l("Company"), filters=[strip], validators=[
        Optional(), Length(max=200), plain_text])
    reporter_email = EmailField(_l("E-mail"), filters=[strip], validators=[
        Optional(), Length(max=254), Email(_l("Enter a valid e-mail address."))])
    reporter_phone = TelField(_l("Phone"), filters=[strip], validators=[
        Optional(), Length(max=40),
        Regexp(r"^\+?[0-9][0-9 ()\-]{4,38}$",
               message=_l("Enter a phone number with digits, spaces, +, - or brackets."))])

    product = StringField(_l("Product model"), filters=[strip], validators=[
        DataRequired(_l("Choose the product model.")), Length(max=200), plain_text])
    specification = StringField(_l("Specification"), filters=[strip], validators=[
        Optional(), Length(max=300), plain_text])
    shipped_on = DayField(_l("Shipping date"), validators=[Optional(), not_in_future, not_ancient])
    lot = StringField(_l("Lot or batch number"), filters=[strip], validators=[
        Optional(), Length(max=60), plain_text])
    serials = TextAreaField(_l("Serial numbers"), validators=[
        DataRequired(_l("Enter at least one serial number from the nameplate.")),
        Length(max=20_000), plain_text])
    confirm_serials = BooleanField(_l("I have checked these serial numbers; they are right."))

    defect_quantity = WholeNumberField(_l("How many units are defective?"), validators=[
        InputRequired(_l("Enter how many units are defective.")),
        NumberRange(min=1, max=1_000_000, message=_l("Enter a number from 1 to 1,000,000."))])
    found_at_place = StringField(_l("Where was it found?"), filters=[strip], validators=[
        Optional(), Length(max=200), plain_text])
    found_on = DayField(_l("When was it found?"), validators=[
        Optional(), not_in_future, not_ancient])
    description = TextAreaField(_l("What is wrong?"), filters=[strip], validators=[
        DataRequired(_l("Describe the problem.")),
        Length(min=10, max=5000, message=_l("Write between %(min)d and %(max)d characters.")),
        plain_text])

    demands = CheckboxesField(_l("What do you need from us?"),
                              choices=[(d, CUSTOMER_DEMAND_LABELS[d]) for d in DEMANDS],
                              validators=[DataRequired(_l("Choose at least one."))])
    claim_amount = AmountField(_l("Claim amount (CNY)"), places=2, validators=[
        Optional(), NumberRange(min=Decimal("0.01"), max=Decimal("999999999999.99"),
                                message=_l("Enter an amount above 0."))])

    order_number = StringField(_l("Order or delivery note number"), filters=[strip],
                               validators=[Optional(), Length(max=60), plain_text])
    quantity_received = WholeNumberField(_l("Quantity received"), validators=[
        Optional(), NumberRange(min=0, max=100_000_000, message=_l("Enter 0 or more."))])
    quantity_used = WholeNumberField(_l("Quantity used"), validators=[
        Optional(), NumberRange(min=0, max=100_000_000, message=_l("Enter 0 or more."))])

    photos = MultipleFileField(_l("Photos"))
    submission_key = HiddenField()

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        # Checked after the fields: Optional() ends a field's own chain when it is empty.
        field = self.claim_amount
        if "claim" in (self.demands.data or ()) and field.data is None and not field.errors:
            field.errors.append(_l("Enter the amount you claim."))
            valid = False
        return valid

    def validate_claim_amount(self, field):
        if field.data is not None and "claim" not in (self.demands.data or ()):
            raise ValidationError(_l("Tick “Compensation (claim)” or clear the amount."))

    def validate_quantity_used(self, field):
        received = self.quantity_received.data
        if field.data is not None and received is not None and field.data > received:
            raise ValidationError(_l("More used than received? Check both numbers."))

    def validate_found_on(self, field):
        if field.data and self.shipped_on.data and field.data < self.shipped_on.data:
            raise ValidationError(_l("Found before it was shipped? Check both dates."))


def require_reporter(form: ComplaintForm) -> bool:
    """Visitors must say who they are: name, company, e-mail and phone."""
    ok = True
    for f, message in (
        (form.reporter_name, _l("Enter your name.")),
        (form.reporter_company, _l("Enter your company.")),
        (form.reporter_email, _l("Enter your e-mail address: we send the confirmation there.")),
        (form.reporter_phone, _l("Enter a phone number we can call you on.")),
    ):
        if not f.data and not f.errors:
            f.errors = [message]
            ok = False
    return ok


class MessageForm(FlaskForm):
    """Answering a question from staff: text, and photos if useful."""

    message = TextAreaField(_l("Your answer"), filters=[strip], validators=[
        DataRequired(_l("Write your answer.")),
        Length(max=5000, message=_l("Write at most %(max)d characters.")), plain_text])
    photos = MultipleFileField(_l("Photos"))
    form_key = HiddenField()


class DisputeForm(FlaskForm):
    reason = TextAreaField(_l("Why does the answer not solve it?"), filters=[strip], validators=[
        DataRequired(_l("Tell us why, so we can look again.")),
        Length(min=5, max=5000, message=_l("Write between %(min)d and %(max)d characters.")),
        plain_text])


class AcceptForm(FlaskForm):
    """Accepting the answer: a POST with a CSRF token."""


class ClaimForm(FlaskForm):
    """Following a complaint filed without an account: a POST with a CSRF token."""
