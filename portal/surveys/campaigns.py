"""Yearly survey campaigns to every contact: created, launched, populated, sent in batches,
and their progress."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models import (
    Contact,
    Survey,
    SurveyCampaign,
    utcnow,
)
from ..queueing import enqueue
from .links import CAMPAIGN_LINK_DAYS, survey_token, token_hash

BATCH_SIZE = 500  # campaign surveys sent per job


def create_campaign(name: str, year: int, reminder_after_days: int) -> SurveyCampaign:
    campaign = SurveyCampaign(name=name.strip(), year=year,
                              reminder_after_days=reminder_after_days, status="draft")
    db.session.add(campaign)
    db.session.flush()
    return campaign


class CampaignError(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def launch(campaign: SurveyCampaign) -> None:
    """Start a draft campaign: a job creates a survey per active contact and sends them in
    batches; a reminder pass is queued for ``reminder_after_days`` later. Flushes."""
    if campaign.status != "draft":
        raise CampaignError(_l("This campaign has already been launched."))
    campaign.status = "running"
    enqueue("jobs.surveys.launch_campaign", campaign.id, queue="mail",
            job_id=f"campaign-{campaign.tenant_id}-{campaign.id}-launch")
    enqueue("jobs.surveys.send_reminders", campaign.id, queue="mail",
            run_at=utcnow() + timedelta(days=campaign.reminder_after_days),
            job_id=f"campaign-{campaign.tenant_id}-{campaign.id}-remind")
    db.session.flush()


def populate(campaign: SurveyCampaign) -> int:
    """Create the campaign's surveys (one per active contact that has none in it yet) with
    bulk inserts. Idempotent. Returns how many were created."""
    have = set(db.session.scalars(select(Survey.contact_id)
                                  .where(Survey.campaign_id == campaign.id)))
    contact_ids = [cid for cid in db.session.scalars(
        select(Contact.id).where(Contact.active.is_(True)).order_by(Contact.id))
        if cid not in have]
    expires = utcnow() + timedelta(days=CAMPAIGN_LINK_DAYS)
    now = utcnow()
    created = 0
    for start in range(0, len(contact_ids), 2000):
        rows = [{
            "tenant_id": campaign.tenant_id, "campaign_id": campaign.id, "contact_id": cid,
            "token_hash": token_hash(survey_token(campaign.tenant_id,
                                                  f"campaign:{campaign.id}:contact:{cid}")),
            "due_to_send_at": now, "expires_at": expires, "answers": {},
        } for cid in contact_ids[start:start + 2000]]
        db.session.execute(Survey.__table__.insert(), rows)
        created += len(rows)
    return created


def batches(campaign: SurveyCampaign, *, reminders: bool = False) -> list[tuple[int, int]]:
    """(first id, last id) ranges of at most BATCH_SIZE of the campaign's surveys still to
    send (or remind)."""
    query = select(Survey.id).where(Survey.campaign_id == campaign.id,
                                    Survey.answered_at.is_(None))
    if reminders:
        query = query.where(Survey.sent_at.is_not(None), Survey.reminded_at.is_(None))
    else:
        query = query.where(Survey.sent_at.is_(None))
    ids = list(db.session.scalars(query.order_by(Survey.id)))
    return [(ids[i], ids[min(i + BATCH_SIZE, len(ids)) - 1])
            for i in range(0, len(ids), BATCH_SIZE)]


def progress(campaign: SurveyCampaign) -> dict:
    row = db.session.execute(
        select(func.count(Survey.id), func.count(Survey.sent_at), func.count(Survey.opened_at),
               func.count(Survey.answered_at), func.count(Survey.reminded_at))
        .where(Survey.campaign_id == campaign.id)
    ).one()
    targeted, sent, opened, answered, reminded = row
    return {"targeted": targeted, "sent": sent, "opened": opened, "answered": answered,
            "reminded": reminded, "rate": _rate(answered, sent)}


def _rate(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None
