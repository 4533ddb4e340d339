"""Forms of the tenant administration (people, customers, catalogue, imports, settings)."""

from __future__ import annotations

import re

from flask_babel import force_locale, get_locale
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from portal.accounts.passwords import MIN_PASSWORD_LENGTH, NotCommon
from portal.complaints.vocabulary import (
    APPROVER_ROLES,
    ROLE_LABELS,
    ROLES,
    WARRANTY_BASIS_LABELS,
)
from portal.i18n import LANGUAGE_NAMES
from portal.i18n import lazy_gettext as _l
from portal.models import DEPARTMENT_KINDS

REQUIRED = _l("This field is required.")



def role_names(role: str) -> set[str]:
    """What an admin may type for ``role``: its code, or its name in either language."""
    names = {role}
    for locale in LANGUAGE_NAMES:
        with force_locale(locale):
            names.add(str(ROLE_LABELS[role]))
    return {n.casefold() for n in names}


def role_named(text: str) -> str | None:
    """The approver role that ``text`` names (售后, After-sales, after_sales), or None."""
    wanted = text.strip().casefold()
    return next((r for r in APPROVER_ROLES if wanted in role_names(r)), None)


def chain_text(chain) -> str:
    """A return approval chain as the admin reads it: role names in the page's language."""
    separator = "、" if str(get_locale()).startswith("zh") else ", "
    return separator.join(str(ROLE_LABELS.get(r, r)) for r in chain)


DEPARTMENT_KIND_LABELS = {
    "after_sales": _l("After-sales"), "quality": _l("Quality"), "technical": _l("Technical"),
    "production": _l("Production"), "purchasing": _l("Purchasing"),
    "engineering": _l("Engineering"), "equipment": _l("Equipment"),
    "metrology": _l("Metrology"), "logistics": _l("Logistics"), "finance": _l("Finance"),
    "management": _l("Management"),
}
LOCALE_PAIRS = [("", _l("The company's default"))] + list(LANGUAGE_NAMES.items())


def opts(pairs) -> list[SelectChoice]:
    """Choices as SelectChoice (WTForms 3.3 deprecates tuples)."""
    return [SelectChoice(value, label) for value, label in pairs]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _roles_field():
    return MultiCheckboxField(_l("Roles"), choices=opts((r, ROLE_LABELS[r]) for r in ROLES),
                              validators=[DataRequired(_l("Give at least one role."))])


class InviteForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=120)])
    email = EmailField(_l("E-mail"), validators=[
        DataRequired(REQUIRED), Email(_l("Enter a valid e-mail address.")), Length(max=254)])
    department_id = SelectField(_l("Department"), coerce=int, choices=[])
    roles = _roles_field()
    locale = SelectField(_l("Language"), choices=opts(LOCALE_PAIRS), default="")


class PersonForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=120)])
    department_id = SelectField(_l("Department"), coerce=int, choices=[])
    roles = _roles_field()
    locale = SelectField(_l("Language"), choices=opts(LOCALE_PAIRS), default="")


class AcceptInvitationForm(FlaskForm):
    password = PasswordField(_l("Choose a password"), validators=[
        DataRequired(_l("Choose a password.")),
        Length(min=MIN_PASSWORD_LENGTH, max=200,
               message=_l("Use at least %(min)d characters.", min=MIN_PASSWORD_LENGTH)),
        NotCommon()])
    confirm = PasswordField(_l("Repeat the password"), validators=[
        EqualTo("password", _l("The two passwords differ."))])


class DepartmentForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=120)])
    kind = SelectField(_l("Kind"), choices=opts((k, DEPARTMENT_KIND_LABELS[k])
                                                 for k in DEPARTMENT_KINDS))
    manager_id = SelectField(_l("Manager"), coerce=int, choices=[])


class StandardDepartmentsForm(FlaskForm):
    kinds = MultiCheckboxField(_l("Departments"), choices=opts(
        (k, DEPARTMENT_KIND_LABELS[k]) for k in DEPARTMENT_KINDS),
        validators=[DataRequired(_l("Choose at least one department."))])


class CompanyForm(FlaskForm):
    name = StringField(_l("Company name"), validators=[DataRequired(REQUIRED), Length(max=200)])
    code = StringField(_l("Customer code"), validators=[Optional(), Length(max=40)])
    key_account = BooleanField(_l("Key account (its complaints count as class A)"))


class ContactForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=120)])
    email = EmailField(_l("E-mail"), validators=[
        DataRequired(REQUIRED), Email(_l("Enter a valid e-mail address.")), Length(max=254)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    locale = SelectField(_l("Language"), choices=opts(LOCALE_PAIRS), default="")
    invite = BooleanField(_l("Send an invitation to the portal now"), default=True)


# A pattern longer than this, or one that nests quantifiers, is refused: serial numbers are
# checked against it on every complaint and import row, and a pattern like (a+)+ can make a
# regular expression engine run for minutes on a 40-character input.
MAX_PATTERN_LENGTH = 120
_NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)\s*[+*{?]")
_BACKREFERENCE = re.compile(r"\\[1-9]|\(\?P=")


def serial_pattern_problem(pattern: str) -> str | None:
    """Why a serial-number pattern cannot be used, or None."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        return str(_l("Keep the pattern under %(max)d characters.", max=MAX_PATTERN_LENGTH))
    try:
        re.compile(pattern)
    except re.error as exc:
        return str(_l("This is not a valid regular expression: %(error)s", error=str(exc)))
    if _NESTED_QUANTIFIER.search(pattern) or _BACKREFERENCE.search(pattern):
        return str(_l("Nested repetition such as (A+)+ or back-references are not allowed: "
                      "they can make checking a serial number take minutes."))
    return None


class ProductForm(FlaskForm):
    code = StringField(_l("Model code"), validators=[
        DataRequired(REQUIRED), Length(max=60),
        Regexp(r"^[^\s].*$", message=_l("The code may not start with a space."))])
    name_zh = StringField(_l("Name (Chinese)"), validators=[DataRequired(REQUIRED),
                                                            Length(max=200)])
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(REQUIRED),
                                                            Length(max=200)])
    specification = StringField(_l("Specification"), validators=[Optional(), Length(max=300)])
    product_line = StringField(_l("Product line"), validators=[Optional(), Length(max=120)])
    serial_pattern = StringField(_l("Serial number format (regular expression)"),
                                 validators=[Optional()])
    warranty_months = IntegerField(_l("Warranty (months)"), validators=[
        Optional(), NumberRange(min=1, max=240, message=_l("Between 1 and 240 months."))])
    warranty_basis = SelectField(_l("Warranty counts from"), default="shipment",
                                 choices=opts(WARRANTY_BASIS_LABELS.items()))
    active = BooleanField(_l("Active"), default=True)

    def validate_serial_pattern(self, field):
        if field.data:
            problem = serial_pattern_problem(field.data)
            if problem:
                raise ValidationError(problem)


class ShipmentForm(FlaskForm):
    product_model_id = SelectField(_l("Product model"), coerce=int, choices=[],
                                   validators=[InputRequired(REQUIRED)])
    lot = StringField(_l("Lot"), validators=[DataRequired(REQUIRED), Length(max=60)])
    quantity = IntegerField(_l("Quantity"), validators=[
        InputRequired(_l("Enter a whole number.")),
        NumberRange(min=1, max=10**9, message=_l("The quantity must be at least 1."))])
    shipped_on = DateField(_l("Ship date"), validators=[InputRequired(_l("Enter a date."))])
    customer_company_id = SelectField(_l("Customer"), coerce=int, choices=[])
    serial_first = StringField(_l("First serial"), validators=[Optional(), Length(max=60)])
    serial_last = StringField(_l("Last serial"), validators=[Optional(), Length(max=60)])
    serials = TextAreaField(_l("Serial numbers (list)"), validators=[Optional(),
                                                                     Length(max=20000)])
    installed_on = DateField(_l("Installation date"), validators=[Optional()])


class ImportForm(FlaskForm):
    file = FileField(_l("Spreadsheet (.xlsx or .csv)"))


class SettingsForm(FlaskForm):
    brand_color = StringField(_l("Brand colour"), validators=[
        DataRequired(REQUIRED),
        Regexp(r"^#[0-9a-fA-F]{6}$", message=_l("Use the form #1a2b3c."))])
    logo = FileField(_l("Logo (PNG, JPEG, GIF or WebP, at most 2 MB)"))
    remove_logo = BooleanField(_l("Remove the logo"))
    default_locale = SelectField(_l("Default language"), choices=opts(LANGUAGE_NAMES.items()))
    languages = MultiCheckboxField(_l("Languages offered"), choices=opts(LANGUAGE_NAMES.items()),
                                   validators=[DataRequired(_l("Offer at least one language."))])
    timezone = StringField(_l("Time zone"), validators=[DataRequired(REQUIRED),
                                                        Length(max=64)])
    complaint_prefix = StringField(_l("Complaint number prefix"), validators=[
        DataRequired(REQUIRED),
        Regexp(r"^[A-Z]{1,6}$", message=_l("Use 1 to 6 capital letters."))])
    return_approval_chain = StringField(
        _l("Return approval chain, in order"),
        validators=[DataRequired(_l("Give at least one approver.")), Length(max=200)])
    defect_ratio_exception = IntegerField(
        _l("Market quality exception report above (‰ of shipped)"),
        validators=[InputRequired(REQUIRED), NumberRange(min=1, max=999)])
    defect_ratio_special = IntegerField(
        _l("Quality special report above (‰ of shipped)"),
        validators=[InputRequired(REQUIRED), NumberRange(min=1, max=999)])
    ratio_window_months = IntegerField(_l("Ratio window (months)"), validators=[
        InputRequired(REQUIRED), NumberRange(min=1, max=60)])
    weight_overall = IntegerField(_l("Survey weight: overall"), validators=[
        InputRequired(REQUIRED), NumberRange(min=0, max=100)])
    weight_service = IntegerField(_l("Survey weight: service"), validators=[
        InputRequired(REQUIRED), NumberRange(min=0, max=100)])
    weight_quality = IntegerField(_l("Survey weight: product quality"), validators=[
        InputRequired(REQUIRED), NumberRange(min=0, max=100)])
    survey_low_score = IntegerField(_l("Low survey score (leads to corrective action) below"),
                                    validators=[InputRequired(REQUIRED),
                                                NumberRange(min=1, max=100)])
    survey_delay_hours = IntegerField(_l("Send the survey this many hours after closing"),
                                      validators=[InputRequired(REQUIRED),
                                                  NumberRange(min=0, max=24 * 30)])
    max_photos = IntegerField(_l("Photos per complaint, at most"), validators=[
        InputRequired(REQUIRED), NumberRange(min=1, max=30)])
    max_photo_mb = IntegerField(_l("Size of one photo, at most (MB)"), validators=[
        InputRequired(REQUIRED), NumberRange(min=1, max=50)])
    notification_channels = MultiCheckboxField(
        _l("Notification channels"),
        choices=opts([("email", _l("E-mail")), ("in_app", _l("In the workspace"))]),
        validators=[DataRequired(_l("Choose at least one channel."))])
    deadline_digest_hour = IntegerField(
        _l("Missed deadlines of others as one daily digest at (hour 0–23; empty: at once)"),
        validators=[Optional(), NumberRange(min=0, max=23)])
    tell_customer_containment = BooleanField(_l("E-mail the customer when containment starts"))

    def validate_return_approval_chain(self, field):
        chain = []
        for part in re.split(r"[,;，；、>→\n]+", field.data or ""):
            part = part.strip()
            if not part:
                continue
            # A name may hold a space ("Responsible department"); else spaces separate names.
            for word in [part] if role_named(part) else part.split():
                role = role_named(word)
                if role is None:
                    raise ValidationError(_l("Unknown role: %(role)s.", role=word[:40]))
                chain.append(role)
        if not chain:
            raise ValidationError(_l("Give at least one approver."))
        if len(set(chain)) != len(chain):
            raise ValidationError(_l("Each role may appear once."))
        field.chain = chain

    def validate_timezone(self, field):
        import zoneinfo

        if field.data not in zoneinfo.available_timezones():
            raise ValidationError(_l("Use a time zone name such as Asia/Shanghai."))

    def validate_default_locale(self, field):
        if self.languages.data and field.data not in self.languages.data:
            raise ValidationError(_l("The default language must be one of those offered."))

    def validate_defect_ratio_special(self, field):
        low = self.defect_ratio_exception.data
        if field.data is not None and low is not None and field.data <= low:
            raise ValidationError(_l("The special report threshold must be above the "
                                     "exception report threshold."))

    def validate_weight_quality(self, field):
        weights = (self.weight_overall.data, self.weight_service.data, field.data)
        if None not in weights and sum(weights) == 0:
            raise ValidationError(_l("At least one weight must be above 0."))


class FailureModeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[
        DataRequired(REQUIRED), Length(max=40),
        Regexp(r"^[A-Za-z0-9_\-]+$", message=_l("Letters, digits, - and _ only."))])
    name_zh = StringField(_l("Name (Chinese)"), validators=[DataRequired(REQUIRED),
                                                            Length(max=120)])
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(REQUIRED),
                                                            Length(max=120)])
    severe = BooleanField(_l("Severe (sparking, burning: escalate at once)"))
