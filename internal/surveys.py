"""Staff pages for satisfaction surveys: yearly campaigns (admin) with their progress, and
the results by module, customer, product line and month, with CSV and Excel exports."""

from __future__ import annotations

from datetime import date
from http import HTTPStatus

from flask import Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from portal import surveys, uow
from portal.accounts.forms import ConfirmForm
from portal.complaints.permissions import permitted
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import SurveyCampaign
from portal.web import render

from . import blueprint


class CampaignForm(FlaskForm):
    name = StringField(_l("Name"), validators=[
        DataRequired(message=_l("Give the campaign a name.")),
        Length(max=200, message=_l("At most %(max)d characters.", max=200))])
    year = IntegerField(_l("Year"), validators=[
        InputRequired(message=_l("Enter the year surveyed.")),
        NumberRange(min=2000, max=2100, message=_l("Enter a year between 2000 and 2100."))])
    reminder_after_days = IntegerField(_l("Reminder after (days)"), default=7, validators=[
        InputRequired(message=_l("Enter after how many days non-responders are reminded.")),
        NumberRange(min=1, max=60, message=_l("Between 1 and 60 days."))])


def _campaigns():
    return db.session.scalars(select(SurveyCampaign).order_by(SurveyCampaign.id.desc())).all()


@blueprint.route("/surveys/", methods=["GET", "POST"])
def survey_campaigns():
    permitted("survey_results")
    form = CampaignForm(data={"year": date.today().year} if request.method == "GET" else None)
    status = 200
    if request.method == "POST":
        permitted("survey_campaigns")
        if form.validate_on_submit():
            campaign = surveys.create_campaign(form.name.data, form.year.data,
                                               form.reminder_after_days.data)
            uow.commit()
            return redirect(url_for("internal.survey_campaign", campaign_id=campaign.id),
                            code=303)
        status = 422
    campaigns = _campaigns()
    return render("internal/surveys/campaigns.html", None, HTTPStatus(status), form=form, campaigns=campaigns,
                  progress={c.id: surveys.progress(c) for c in campaigns})


@blueprint.get("/surveys/campaigns/<int:campaign_id>")
def survey_campaign(campaign_id: int):
    permitted("survey_results")
    campaign = db.get_or_404(SurveyCampaign, campaign_id)
    return render("internal/surveys/campaign.html", "internal/surveys/_progress.html",
                  campaign=campaign, progress=surveys.progress(campaign), form=ConfirmForm())


@blueprint.post("/surveys/campaigns/<int:campaign_id>/launch")
def survey_campaign_launch(campaign_id: int):
    permitted("survey_campaigns")
    campaign = db.get_or_404(SurveyCampaign, campaign_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        surveys.launch(campaign)
    except surveys.CampaignError as exc:
        flash(str(exc.message), "error")
    else:
        uow.commit()
        flash(_("The campaign is launched: the surveys are being sent."), "success")
    return redirect(url_for("internal.survey_campaign", campaign_id=campaign_id), code=303)


@blueprint.post("/surveys/campaigns/<int:campaign_id>/remind")
def survey_campaign_remind(campaign_id: int):
    permitted("survey_campaigns")
    campaign = db.get_or_404(SurveyCampaign, campaign_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if campaign.status != "running":
        abort(409)
    from portal.queueing import enqueue

    enqueue("jobs.surveys.send_reminders", campaign.id, queue="mail")
    uow.commit()
    flash(_("Reminders are being sent to those who have not answered."), "success")
    return redirect(url_for("internal.survey_campaign", campaign_id=campaign_id), code=303)


def _filters():
    campaign_id = request.args.get("campaign", type=int)
    if campaign_id:
        db.get_or_404(SurveyCampaign, campaign_id)
    year = request.args.get("year", type=int)
    if year is not None and not 2000 <= year <= 2100:
        year = None
    return campaign_id, year


@blueprint.get("/surveys/results")
def survey_results():
    permitted("survey_results")
    campaign_id, year = _filters()
    return render("internal/surveys/results.html", results=surveys.results(campaign_id, year),
                  campaigns=_campaigns(), campaign_id=campaign_id, year=year,
                  modules=surveys.MODULES, module_labels=surveys.MODULE_LABELS)


@blueprint.get("/surveys/results.csv")
def survey_results_csv():
    permitted("survey_results")
    campaign_id, year = _filters()
    return Response(surveys.export_csv(campaign_id, year), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="surveys.csv"'})


@blueprint.get("/surveys/results.xlsx")
def survey_results_xlsx():
    permitted("survey_results")
    campaign_id, year = _filters()
    return Response(
        surveys.export_xlsx(campaign_id, year),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": 'attachment; filename="surveys.xlsx"'})
