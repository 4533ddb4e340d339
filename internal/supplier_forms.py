"""Forms of the supplier pages: supplier records (admin) and corrective action requests."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from portal.i18n import LANGUAGE_NAMES
from portal.i18n import lazy_gettext as _l
from portal.models import SUPPLIER_ASKS
from portal.suppliers.codes import CODE, MAX_CODES, split_codes  # noqa: F401 (re-exported)
from portal.suppliers.requests import ASK_LABELS, TEXT_LIMIT

from .admin_forms import LOCALE_PAIRS, REQUIRED, opts

WHOLE = _l("Enter a whole number of at least 1.")


def _codes(form, field):
    codes = split_codes(field.data)
    bad = [c for c in codes if not CODE.match(c)]
    if bad:
        raise ValidationError(_l("Not a valid code: %(code)s", code=bad[0][:60]))
    if len(codes) > MAX_CODES:
        raise ValidationError(_l("At most %(max)d entries.", max=MAX_CODES))


class SupplierForm(FlaskForm):
    name = StringField(_l("Supplier name"), validators=[DataRequired(REQUIRED), Length(max=200)])
    code = StringField(_l("Supplier code"), validators=[
        DataRequired(REQUIRED), Length(max=40),
        Regexp(CODE, message=_l("Use letters, digits, dots, dashes or slashes."))])
    locale = SelectField(_l("Language of its e-mails"), choices=opts(LANGUAGE_NAMES.items()))
    product_codes = TextAreaField(_l("Product models it supplies (codes, one per line)"),
                                  validators=[Optional(), Length(max=8000), _codes])
    part_numbers = TextAreaField(_l("Part numbers it supplies (one per line)"),
                                 validators=[Optional(), Length(max=8000), _codes])


class SupplierContactForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=120)])
    email = EmailField(_l("E-mail"), validators=[
        DataRequired(REQUIRED), Email(_l("Enter a valid e-mail address.")), Length(max=254)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    locale = SelectField(_l("Language"), choices=opts(LOCALE_PAIRS), default="")


class MultiCheckbox(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RequestForm(FlaskForm):
    complaint_number = StringField(_l("Complaint number"), validators=[
        DataRequired(REQUIRED), Length(max=30)])
    supplier_id = SelectField(_l("Supplier"), coerce=int, validators=[InputRequired(REQUIRED)])
    part_number = StringField(_l("Part number"), validators=[
        DataRequired(REQUIRED), Length(max=60),
        Regexp(CODE, message=_l("Use letters, digits, dots, dashes or slashes."))])
    defect = TextAreaField(_l("Defect"), validators=[DataRequired(REQUIRED),
                                                     Length(max=TEXT_LIMIT)])
    defective_quantity = IntegerField(_l("Defective quantity"), validators=[
        InputRequired(WHOLE), NumberRange(min=1, max=1_000_000, message=WHOLE)])
    replacement_quantity = IntegerField(_l("Replacement parts asked for"), default=0, validators=[
        Optional(), NumberRange(min=0, max=1_000_000, message=WHOLE)])
    asks = MultiCheckbox(_l("What is asked of the supplier"),
                         choices=opts((k, ASK_LABELS[k]) for k in SUPPLIER_ASKS),
                         validators=[DataRequired(_l("Choose at least one thing to ask for."))])


class DecisionForm(FlaskForm):
    accept = BooleanField(_l("Accept the answer"))
    reason = TextAreaField(_l("Reason (required to reject)"), validators=[
        Optional(), Length(max=TEXT_LIMIT)])


class DeliveryForm(FlaskForm):
    quantity = IntegerField(_l("Replacement parts delivered"), validators=[
        InputRequired(WHOLE), NumberRange(min=1, max=1_000_000, message=WHOLE)])


class ChargeForm(FlaskForm):
    category = SelectField(_l("Category"))
    amount = DecimalField(_l("Amount"), places=2, validators=[
        InputRequired(_l("Enter an amount above zero.")),
        NumberRange(min=0.01, max=100_000_000, message=_l("Enter an amount above zero."))])
    currency = SelectField(_l("Currency"), choices=[("CNY", "CNY"), ("USD", "USD"),
                                                    ("EUR", "EUR")])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


class PeriodForm(FlaskForm):
    class Meta:
        csrf = False

    start = DateField(_l("Opened from"), validators=[Optional()])
    end = DateField(_l("Opened until"), validators=[Optional()])
