"""The public survey page behind a personal e-mail link (no sign-in). Opening it only shows
the questions (mail scanners follow links and must not vote); only the POST records."""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus

from flask import abort, redirect, request, url_for
from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from portal import surveys, uow
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import Survey
from portal.tenancy import current_tenant
from portal.web import render

from . import blueprint


def _form_class():
    fields = {}
    for names in surveys.MODULES.values():
        for name in names:
            fields[name] = RadioField(
                surveys.QUESTION_LABELS[name], coerce=int,
                choices=[(value, label) for value, label in surveys.SCALE],
                validators=[InputRequired(message=_l("Choose one answer."))])
    fields["suggestions"] = TextAreaField(
        _l("Your suggestions"),
        validators=[Optional(), Length(max=surveys.TEXT_LIMIT,
                                       message=_l("At most %(max)d characters.",
                                                  max=surveys.TEXT_LIMIT))])
    fields["comments"] = TextAreaField(
        _l("Anything else you want to tell us"),
        validators=[Optional(), Length(max=surveys.TEXT_LIMIT,
                                       message=_l("At most %(max)d characters.",
                                                  max=surveys.TEXT_LIMIT))])
    return type("SurveyForm", (FlaskForm,), fields)


SurveyForm = _form_class()


def _private(response):
    # The token is in the URL: keep it out of caches, referrers and search engines.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _survey_or_404(token: str, lock: bool = False) -> Survey:
    survey = surveys.find_by_token(token)
    if survey is None:
        abort(404)
    if lock:  # one answer per link, even for two taps at once
        db.session.refresh(survey, with_for_update=True)
    return survey


def _page(survey, form, status=200):
    return _private(render("customer/surveys/survey.html", None, HTTPStatus(status), survey=survey, form=form,
                           modules=surveys.MODULES, module_labels=surveys.MODULE_LABELS,
                           state=surveys.state(survey), edit_hours=surveys.EDIT_HOURS))


@blueprint.route("/survey/<token>", methods=["GET", "POST"], endpoint="public_survey")
def public_survey(token: str):
    survey = _survey_or_404(token, lock=request.method == "POST")
    state = surveys.state(survey)
    if state in ("expired", "answered"):
        return _private(render("customer/surveys/closed.html", None, HTTPStatus(410 if state == "expired" else 200), survey=survey, state=state))
    if request.method == "GET":
        surveys.mark_opened(survey)
        uow.commit()
        previous = (survey.answers or {})
        data = dict(previous.get("questions") or {})
        data.update(suggestions=previous.get("suggestions"), comments=survey.comments)
        return _page(survey, SurveyForm(formdata=None, data=data))
    form = SurveyForm()
    if not form.validate_on_submit():
        return _page(survey, form, status=422)
    questions = {name: form[name].data for names in surveys.MODULES.values() for name in names}
    try:
        surveys.submit(survey, current_tenant, questions, form.suggestions.data,
                       form.comments.data)
    except surveys.SurveyClosed:
        uow.rollback()
        return redirect(url_for("customer.public_survey", token=token), code=303)
    uow.commit()
    return redirect(url_for("customer.public_survey_thanks", token=token), code=303)


@blueprint.get("/survey/<token>/thanks", endpoint="public_survey_thanks")
def public_survey_thanks(token: str):
    survey = _survey_or_404(token)
    if survey.answered_at is None:
        return redirect(url_for("customer.public_survey", token=token), code=303)
    return _private(render("customer/surveys/closed.html", survey=survey,
                           state=surveys.state(survey), thanks=True,
                           edit_until=survey.answered_at + timedelta(hours=surveys.EDIT_HOURS)))
