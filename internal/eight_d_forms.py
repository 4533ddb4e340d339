"""Forms of the 8D panel beyond a discipline's text: D2's 5W2H and is/is-not table, D4's
occurrence and escape points, D6's validation, the D1 team, D3's verified effect, and the
effectiveness verdict's evidence and recurrence check."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, MultipleFileField, RadioField, SelectField
from wtforms.validators import DataRequired, InputRequired, Optional

from portal.complaints.eight_d import CONTENT_FIELDS
from portal.complaints.vocabulary import (
    EIGHT_D_ROLE_LABELS,
    RECURRENCE_RESULT_LABELS,
    VALIDATION_RESULT_LABELS,
)
from portal.i18n import lazy_gettext as _l

from .forms import CHOOSE, REQUIRED, EffectivenessForm, SectionForm, line, opts, text

W = {"what": _l("What (the problem, the part, the defect)"),
     "where": _l("Where (place, line, station)"),
     "when": _l("When (date, shift, lot, running hours)"),
     "who": _l("Who (found it, is affected)"),
     "why": _l("Why it matters (the requirement not met)"),
     "how": _l("How it was found"),
     "how_many": _l("How many (quantity, rate)")}


def _content(form) -> dict:
    return {key: getattr(form, key).data or "" for key in CONTENT_FIELDS[int(form.discipline.data)]}


class ProblemForm(SectionForm):
    """D2: the problem statement, 5W2H and the is/is-not table."""

    what = line(W["what"], max_length=500)
    where = line(W["where"], max_length=500)
    when = line(W["when"], max_length=500)
    who = line(W["who"], required=False, max_length=500)
    why = line(W["why"], required=False, max_length=500)
    how = line(W["how"], required=False, max_length=500)
    how_many = line(W["how_many"], max_length=500)
    is_what = line(_l("Is: what"), required=False, max_length=500)
    is_not_what = line(_l("Is not: what"), required=False, max_length=500)
    is_where = line(_l("Is: where"), required=False, max_length=500)
    is_not_where = line(_l("Is not: where"), required=False, max_length=500)
    is_when = line(_l("Is: when"), required=False, max_length=500)
    is_not_when = line(_l("Is not: when"), required=False, max_length=500)
    is_extent = line(_l("Is: how big"), required=False, max_length=500)
    is_not_extent = line(_l("Is not: how big"), required=False, max_length=500)
    content = _content


class RootCausePointsForm(SectionForm):
    """D4: beside the 5-Why chain and 5M1E (the root cause form), where the cause arose and
    where the defect should have been caught."""

    occurrence_point = line(_l("Occurrence point: where the cause arose"), max_length=500)
    escape_point = line(_l("Escape point: where it should have been caught"), max_length=500)
    content = _content


class ValidationForm(SectionForm):
    """D6: how the implemented actions were validated, and the result."""

    validation = text(_l("Validation: method, sample, data"), max_length=5000)
    result = SelectField(_l("Validation result"), choices=opts(
        [("", "—"), *VALIDATION_RESULT_LABELS.items()]), validators=[DataRequired(CHOOSE)])
    content = _content


SECTION_FORMS = {2: ProblemForm, 4: RootCausePointsForm, 6: ValidationForm}


def section_form_class(discipline) -> type[SectionForm]:
    try:
        return SECTION_FORMS.get(int(discipline), SectionForm)
    except (TypeError, ValueError):
        return SectionForm


class TeamMemberForm(FlaskForm):
    staff_user = SelectField(_l("Staff member"), choices=[], validators=[DataRequired(REQUIRED)])
    role = SelectField(_l("Role in the team"), choices=opts(EIGHT_D_ROLE_LABELS.items()),
                       validators=[DataRequired(CHOOSE)])
    responsibility = line(_l("Responsibility"), required=False)


class ContainmentCheckForm(FlaskForm):
    action_id = HiddenField()
    effect = text(_l("Verified effect"), max_length=2000)


class ConfirmForm(FlaskForm):
    """A button that only needs the CSRF token (send, sign off, remove)."""


class VerdictForm(EffectivenessForm):
    """The effectiveness verdict with evidence files and the recurrence check's date."""

    evidence = MultipleFileField(_l("Evidence files"))
    follow_up_on = DateField(_l("Recurrence check on"), validators=[Optional()])


class RecurrenceForm(FlaskForm):
    result = RadioField(_l("Recurrence check"), choices=opts(RECURRENCE_RESULT_LABELS.items()),
                        validators=[InputRequired(CHOOSE)])
    note = text(_l("What was checked"), required=False)
    evidence = MultipleFileField(_l("Evidence files"))
