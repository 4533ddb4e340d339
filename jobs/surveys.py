"""Survey jobs: send one survey, launch a campaign, send a campaign's batches and reminders.

E-mail is at least once: a survey is marked sent (and committed) right after its message is
handed to the SMTP server, so a crash can repeat at most the message in flight; the link in
a repeated message is the same link (tokens are derived, not random).
"""

from __future__ import annotations

from sqlalchemy import select

from portal import surveys, uow
from portal.extensions import db
from portal.mail import deliver
from portal.models import Survey, SurveyCampaign, Tenant, utcnow
from portal.queueing import enqueue
from portal.tenancy import active_tenant_id

from . import tenant_job


def _tenant() -> Tenant:
    return db.session.get(Tenant, active_tenant_id())


def _send_one(survey: Survey, tenant: Tenant, reminder: bool) -> bool:
    person = surveys.recipient_of(survey, tenant)
    if person is None:
        return False
    subject, text, html = surveys.compose(survey, tenant, person, reminder=reminder)
    deliver(person.email, subject, text, html)  # raises on SMTP failure: the job retries
    if reminder:
        survey.reminded_at = utcnow()
    else:
        survey.sent_at = utcnow()
    uow.commit()
    return True


@tenant_job
def send_survey(survey_id: int) -> str:
    """Send a complaint's survey (queued with a delay when the complaint closed)."""
    survey = db.session.scalar(select(Survey).where(Survey.id == survey_id).with_for_update())
    if survey is None or not surveys.due_for_sending(survey):
        return "nothing to send"
    return "sent" if _send_one(survey, _tenant(), reminder=False) else "no recipient"


@tenant_job
def launch_campaign(campaign_id: int) -> int:
    """Create a running campaign's surveys and queue their sending in batches. Idempotent
    (surveys already created or sent are not repeated). Returns the number of batches."""
    campaign = db.session.scalar(select(SurveyCampaign).where(SurveyCampaign.id == campaign_id)
                                 .with_for_update())
    if campaign is None or campaign.status != "running":
        return 0
    surveys.populate(campaign)
    ranges = surveys.batches(campaign)
    for first, last in ranges:
        enqueue("jobs.surveys.send_campaign_batch", campaign.id, first, last, queue="mail",
                job_id=f"campaign-{campaign.tenant_id}-{campaign.id}-send-{first}")
    return len(ranges)


def _send_range(campaign_id: int, first: int, last: int, reminder: bool) -> int:
    tenant = _tenant()
    ids = list(db.session.scalars(
        select(Survey.id).where(Survey.campaign_id == campaign_id, Survey.id >= first,
                                Survey.id <= last).order_by(Survey.id)))
    sent = 0
    now = utcnow()
    for survey_id in ids:
        # Lock skipping: a duplicate of this batch running at the same time takes others.
        survey = db.session.scalar(select(Survey).where(Survey.id == survey_id)
                                   .with_for_update(skip_locked=True))
        due = survey is not None and (surveys.due_for_reminder(survey, now) if reminder
                                      else surveys.due_for_sending(survey, now))
        if due and _send_one(survey, tenant, reminder):
            sent += 1
        else:
            db.session.commit()  # release the lock
    return sent


@tenant_job
def send_campaign_batch(campaign_id: int, first: int, last: int) -> int:
    """Send the campaign surveys with ids in [first, last] that are not sent yet."""
    return _send_range(campaign_id, first, last, reminder=False)


@tenant_job
def send_reminders(campaign_id: int) -> int:
    """Queue reminder batches for everyone who was sent the survey and has not answered."""
    campaign = db.session.get(SurveyCampaign, campaign_id)
    if campaign is None or campaign.status != "running":
        return 0
    ranges = surveys.batches(campaign, reminders=True)
    stamp = utcnow().strftime("%Y%m%d%H%M")
    for first, last in ranges:
        enqueue("jobs.surveys.send_reminder_batch", campaign.id, first, last, queue="mail",
                job_id=f"campaign-{campaign.tenant_id}-{campaign.id}-remind-{stamp}-{first}")
    return len(ranges)


@tenant_job
def send_reminder_batch(campaign_id: int, first: int, last: int) -> int:
    return _send_range(campaign_id, first, last, reminder=True)
