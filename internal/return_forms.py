"""Forms of a returned part's steps on the complaint page (internal/complaint/returns.py):
receipt, first analysis, appraisal, good parts issued, closing. They parse and check what was
typed; the rules of each step are portal/returns/'s."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, MultipleFileField, SelectField
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional

from portal.complaints.vocabulary import (
    PART_ORIGIN_LABELS,
    RETURN_CONDITION_LABELS,
    RETURN_GRADE_LABELS,
    RETURN_VERDICT_LABELS,
)
from portal.i18n import lazy_gettext as _l

from .forms import CHOOSE, REQUIRED, line, opts, text

WHOLE = _l("Enter a whole number from 1.")


def _count(label, required=True, minimum=1):
    first = InputRequired(REQUIRED) if required else Optional()
    return IntegerField(label, validators=[first, NumberRange(
        min=minimum, max=1_000_000, message=WHOLE if minimum else _l("Enter a whole number."))])


def _choice(label, labels):
    return SelectField(label, choices=opts([("", "—"), *labels.items()]),
                       validators=[DataRequired(CHOOSE)])


class ReceiveForm(FlaskForm):
    quantity_received = _count(_l("Quantity received"))
    received_on = DateField(_l("Received on"), validators=[InputRequired(REQUIRED)])
    condition = _choice(_l("Condition on arrival"), RETURN_CONDITION_LABELS)
    warehouse_location = line(_l("Warehouse location (quarantine area)"), max_length=80)
    quarantine_tag = line(_l("Quarantine tag number"), max_length=40)
    note = text(_l("Note (internal)"), required=False, max_length=4000)


class AnalyseForm(FlaskForm):
    grade = _choice(_l("Grade"), RETURN_GRADE_LABELS)
    analysis = text(_l("First analysis"), max_length=4000)


class AppraiseForm(FlaskForm):
    verdict = _choice(_l("Verdict"), RETURN_VERDICT_LABELS)
    defective_quantity = _count(_l("Defective quantity"), required=False, minimum=0)
    origin = _choice(_l("Origin of the part"), PART_ORIGIN_LABELS)
    supplier_id = SelectField(_l("Supplier (purchased part)"), choices=[],
                              validate_choice=False)
    part_number = line(_l("Part number"), required=False, max_length=60)
    appraisal = text(_l("Appraisal opinion"), max_length=4000)
    photos = MultipleFileField(_l("Evidence photos (JPEG or PNG, up to 10 MB each)"))


class IssueForm(FlaskForm):
    issued_quantity = _count(_l("Good parts issued"))
    note = text(_l("Note (internal)"), required=False, max_length=4000)


class CloseReturnForm(FlaskForm):
    pass
