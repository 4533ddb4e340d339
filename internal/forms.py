"""Forms of the staff workspace. Each validates on the server and keeps what was typed."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    DecimalField,
    HiddenField,
    IntegerField,
    MultipleFileField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
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

from portal.complaints.vocabulary import (  # noqa: F401 - the panels read the labels here
    ACTION_LABELS,
    CARRIER_LABELS,
    CAUSE_LABELS,
    CHANNEL_LABELS,
    COST_LABELS,
    DEMAND_LABELS,
    REQUEST_LABELS,
    SEVERITY_LABELS,
)
from portal.i18n import lazy_gettext as _l
from portal.models import CAUSE_CATEGORIES, COST_CATEGORIES, DEMANDS, INFO_CLASSES, SEVERITIES


def opts(pairs) -> list[SelectChoice]:
    """Choices in WTForms' current form (tuples are deprecated)."""
    return [SelectChoice(str(value), label) for value, label in pairs]


REQUIRED = _l("This field is required.")
TOO_LONG = _l("This is too long.")
CHOOSE = _l("Choose a value from the list.")



def _no_controls(form, field):
    """Refuse control characters (hostile or pasted binary), keep newlines and tabs."""
    value = field.data or ""
    if isinstance(value, str) and any(ord(ch) < 32 and ch not in "\n\r\t" for ch in value):
        raise ValidationError(_l("This contains characters that are not allowed."))


def text(label, required=True, max_length=5000, **kw):
    validators = [DataRequired(REQUIRED)] if required else [Optional()]
    return TextAreaField(label, validators=[*validators, Length(max=max_length, message=TOO_LONG),
                                            _no_controls], **kw)


def line(label, required=True, max_length=200, **kw):
    validators = [DataRequired(REQUIRED)] if required else [Optional()]
    return StringField(label, validators=[*validators, Length(max=max_length, message=TOO_LONG),
                                          _no_controls], **kw)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def customer_sees():
    """The "the customer sees this" box of a staff text (portal/complaints/audience.py): the
    text stays with staff unless it is ticked."""
    return BooleanField(_l("The customer sees this"), default=False)


class VersionedForm(FlaskForm):
    """A form editing the complaint: carries the version the editor saw."""

    version = HiddenField()


class TransitionForm(VersionedForm):
    message = text(_l("Message"), required=False)
    customer_sees = customer_sees()


class ChecklistForm(VersionedForm):
    confirmed = MultiCheckboxField(_l("Confirmed"), choices=[], validate_choice=True)
    note = text(_l("Note"), required=False)
    customer_sees = customer_sees()


class VisitForm(FlaskForm):
    visited_on = DateField(_l("Date of the visit"), validators=[InputRequired(REQUIRED)])
    visitor = line(_l("Who went"), max_length=120)
    notes = text(_l("What was found"))
    customer_sees = customer_sees()
    photos = MultipleFileField(_l("Photos"))


class ClassifyForm(VersionedForm):
    severity = SelectField(_l("Severity"), choices=opts([("", "—")] + [
        (s, SEVERITY_LABELS[s]) for s in SEVERITIES]), validators=[DataRequired(REQUIRED)])
    info_class = SelectField(_l("Information class"), choices=opts([("", "—")] + [
        (c, c) for c in INFO_CLASSES]), validators=[Optional()])
    cause_category = SelectField(_l("Cause category (5M1E)"), choices=opts([("", "—")] + [
        (c, CAUSE_LABELS[c]) for c in CAUSE_CATEGORIES]), validators=[DataRequired(REQUIRED)])
    failure_mode = SelectField(_l("Failure mode"), choices=[], validators=[Optional()])
    department = SelectField(_l("Responsible department"), choices=[], validators=[Optional()])
    owner = SelectField(_l("Owner"), choices=[], validators=[Optional()])


class FailureModeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[
        DataRequired(REQUIRED), Length(max=40, message=TOO_LONG),
        Regexp(r"^[A-Za-z0-9][A-Za-z0-9_-]*$",
               message=_l("Use letters, digits, - and _ only."))])
    name_zh = line(_l("Name (Chinese)"), max_length=120)
    name_en = line(_l("Name (English)"), max_length=120)
    severe = BooleanField(_l("Severe (sparking, burning: escalate at once)"))


class ProblemLinkForm(FlaskForm):
    problem = SelectField(_l("Problem"), choices=[], validators=[DataRequired(CHOOSE)])


class ProblemCreateForm(FlaskForm):
    title = line(_l("Problem title"))
    analysis = text(_l("Shared analysis"), required=False)


class ActionForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=opts(ACTION_LABELS.items()),
                       validators=[DataRequired(CHOOSE)])
    title = line(_l("Measure"))
    description = text(_l("Details"), required=False)
    customer_sees = customer_sees()
    owner = SelectField(_l("Owner"), choices=[], validators=[DataRequired(REQUIRED)])
    due_at = DateTimeLocalField(_l("Due"), format="%Y-%m-%dT%H:%M",
                                validators=[InputRequired(REQUIRED)])


class ActionDoneForm(FlaskForm):
    result = text(_l("Result"))
    evidence = MultipleFileField(_l("Evidence files"))


FIVE_M_ONE_E = ("man", "machine", "material", "method", "measurement", "environment")


class RootCauseForm(VersionedForm):
    root_cause = text(_l("Root cause"))
    why1 = line(_l("Why 1"), required=False, max_length=500)
    why2 = line(_l("Why 2"), required=False, max_length=500)
    why3 = line(_l("Why 3"), required=False, max_length=500)
    why4 = line(_l("Why 4"), required=False, max_length=500)
    why5 = line(_l("Why 5"), required=False, max_length=500)
    man = line(CAUSE_LABELS["man"], required=False, max_length=500)
    machine = line(CAUSE_LABELS["machine"], required=False, max_length=500)
    material = line(CAUSE_LABELS["material"], required=False, max_length=500)
    method = line(CAUSE_LABELS["method"], required=False, max_length=500)
    measurement = line(CAUSE_LABELS["measurement"], required=False, max_length=500)
    environment = line(CAUSE_LABELS["environment"], required=False, max_length=500)

    def whys(self) -> list[str]:
        return [getattr(self, f"why{i}").data or "" for i in range(1, 6)]

    def factors(self) -> list[dict]:
        return [{"category": c, "text": getattr(self, c).data or ""} for c in FIVE_M_ONE_E]

    def validate(self, extra_validators=None) -> bool:
        # The whys are optional fields (their checks stop when empty): the chain is checked here.
        valid = super().validate(extra_validators)
        if not any(w.strip() for w in self.whys()):
            self.why1.errors = [*self.why1.errors, _l("Write at least the first why.")]
            valid = False
        return valid


class EffectivenessForm(VersionedForm):
    verdict = RadioField(_l("Verdict"), choices=opts([
        ("effective", _l("Effective: the answer can go out")),
        ("not_effective", _l("Not effective: back to analysis"))]),
        validators=[InputRequired(CHOOSE)])
    note = text(_l("Evidence and reasoning"), required=False)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.verdict.data == "not_effective" and not (self.note.data or "").strip():
            self.note.errors = [*self.note.errors, _l("Say why the actions were not effective.")]
            valid = False
        return valid


class AnswerForm(VersionedForm):
    measures = text(_l("Measures taken"))
    changes = text(_l("What changes from now on"))


class RequestForm(FlaskForm):
    kind = SelectField(_l("Request"), choices=opts(REQUEST_LABELS.items()),
                       validators=[DataRequired(CHOOSE)])
    quantity = IntegerField(_l("Quantity"), validators=[
        Optional(), NumberRange(min=1, max=1_000_000, message=_l("Enter a whole number from 1."))])
    amount = DecimalField(_l("Amount claimed (CNY)"), places=2, validators=[
        Optional(), NumberRange(min=0.01, max=100_000_000, message=_l("Enter an amount above zero."))])
    note = text(_l("Note"), required=False)
    customer_sees = customer_sees()

    def validate(self, extra_validators=None) -> bool:
        # Optional fields skip their own checks when empty, so the either-or rules live here.
        valid = super().validate(extra_validators)
        if self.kind.data != "claim" and not self.quantity.data and not self.quantity.errors:
            self.quantity.errors = [*self.quantity.errors, _l("Enter the quantity.")]
            valid = False
        if self.kind.data == "claim" and not self.amount.data and not self.amount.errors:
            self.amount.errors = [*self.amount.errors, _l("Enter the amount claimed.")]
            valid = False
        return valid


class DecisionForm(FlaskForm):
    decision = HiddenField(validators=[DataRequired(CHOOSE)])
    note = text(_l("Note"), required=False, max_length=2000)
    customer_sees = customer_sees()

    def validate_decision(self, field):
        if field.data not in ("approve", "refuse"):
            raise ValidationError(CHOOSE)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.decision.data == "refuse" and not (self.note.data or "").strip():
            self.note.errors = [*self.note.errors, _l("Say why you refuse.")]
            valid = False
        return valid


class InstallationForm(FlaskForm):
    installed_on = DateField(_l("Installed on"), validators=[Optional()])


class ShipForm(FlaskForm):
    carrier = SelectField(_l("Carrier"), choices=opts([("", "—"), *CARRIER_LABELS.items()]),
                          validate_choice=False, validators=[DataRequired(CHOOSE)])
    carrier_name = line(_l("Carrier's name"), required=False, max_length=80)
    tracking_number = line(_l("Tracking number"), max_length=80)

    def validate_carrier(self, field):
        if field.data not in CARRIER_LABELS:
            raise ValidationError(CHOOSE)

    def validate_carrier_name(self, field):
        if self.carrier.data == "other" and not (field.data or "").strip():
            raise ValidationError(_l("Enter the carrier's name."))


class FinishForm(FlaskForm):
    note = text(_l("Note"), required=False, max_length=2000)
    customer_sees = customer_sees()


class CostForm(FlaskForm):
    category = SelectField(_l("Category"), choices=opts((c, COST_LABELS[c]) for c in COST_CATEGORIES),
                           validators=[DataRequired(CHOOSE)])
    amount = DecimalField(_l("Amount"), places=2, validators=[
        InputRequired(REQUIRED),
        NumberRange(min=0.01, max=100_000_000, message=_l("Enter an amount above zero."))])
    currency = SelectField(_l("Currency"), choices=opts([("CNY", "CNY"), ("USD", "USD"),
                                                          ("EUR", "EUR")]))
    department = SelectField(_l("Responsible department"), choices=[],
                             validators=[DataRequired(REQUIRED)])
    note = text(_l("Note"), required=False, max_length=2000)


class CostCorrectForm(CostForm):
    """A cost entry's corrected values (a new entry replaces it) and why."""

    reason = text(_l("Reason for the correction"), max_length=2000)


class CostVoidForm(FlaskForm):
    reason = text(_l("Reason for voiding"), max_length=2000)


class EightDStartForm(FlaskForm):
    requested_by_customer = BooleanField(_l("The customer asked for an 8D report"))


class SectionForm(FlaskForm):
    """One 8D discipline; D2, D4 and D6 add their structured fields (eight_d_forms.py)."""

    discipline = HiddenField()
    text = text(_l("Content"), max_length=20000)
    evidence = MultipleFileField(_l("Evidence files"))
    customer_visible = BooleanField(_l("Show this discipline in the customer's 8D"))

    def validate_discipline(self, field):
        if field.data not in [str(i) for i in range(1, 9)]:
            raise ValidationError(CHOOSE)

    def content(self) -> dict | None:
        return None


class SummaryForm(FlaskForm):
    summary = text(_l("Summary for the customer"), max_length=10000)


class FilingForm(FlaskForm):
    """A complaint recorded by staff: on a customer's behalf, or a production exception."""

    submission_key = HiddenField()
    channel = SelectField(_l("Received by"), choices=[], validators=[DataRequired(CHOOSE)])
    company = SelectField(_l("Customer"), choices=[], validators=[Optional()])
    reporter_name = line(_l("Reported by"), max_length=120)
    reporter_phone = line(_l("Phone"), required=False, max_length=40)
    reporter_email = StringField(_l("E-mail"), validators=[
        Optional(), Email(_l("Enter a valid e-mail address.")), Length(max=254)])
    product_model = SelectField(_l("Product model"), choices=[], validators=[DataRequired(REQUIRED)])
    specification = line(_l("Specification"), required=False, max_length=300)
    shipped_on = DateField(_l("Shipping date"), validators=[Optional()])
    lot = line(_l("Lot"), required=False, max_length=60)
    defect_quantity = IntegerField(_l("Defective units"), validators=[
        InputRequired(REQUIRED), NumberRange(min=1, max=1_000_000,
                                             message=_l("Enter a whole number from 1."))])
    title = line(_l("Short title"))
    description = text(_l("Description of the problem"), max_length=10000)
    serials = text(_l("Serial numbers (one a line)"), required=False, max_length=3000)
    demands = MultiCheckboxField(_l("The customer asks for"),
                                 choices=opts((d, DEMAND_LABELS[d]) for d in DEMANDS))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not (self.lot.data or "").strip() and not self.shipped_on.data \
                and not self.shipped_on.errors:
            self.lot.errors = [*self.lot.errors, _l("Give the shipping date or the lot.")]
            valid = False
        return valid

    def serial_list(self) -> list[str]:
        values = []
        for raw in (self.serials.data or "").replace(",", "\n").splitlines():
            value = raw.strip().upper()
            if value and value not in values:
                values.append(value)
        return values

    def validate_serials(self, field):
        import re

        values = self.serial_list()
        if len(values) > 50:
            raise ValidationError(_l("At most 50 serial numbers."))
        for value in values:
            if not re.match(r"^[A-Z0-9][A-Z0-9\-]{2,59}$", value):
                raise ValidationError(_l("%(value)s is not a serial number.", value=value))
