"""When surveys go out: the survey a closed complaint's customer receives (the workflow
listener ``on_transition``), who receives a survey, its e-mail, and when it or its reminder
is due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import render_template
from flask_babel import force_locale
from sqlalchemy import select

from ..complaints.timeline import SYSTEM, record
from ..extensions import db
from ..models import (
    Complaint,
    Contact,
    Survey,
    Tenant,
    utcnow,
)
from ..queueing import enqueue
from .links import COMPLAINT_LINK_DAYS, link_for, survey_token, token_hash


def schedule_for_complaint(complaint: Complaint) -> Survey | None:
    """Queue the survey a closed complaint's customer receives after the tenant's delay.

    One survey per complaint: closing again after a reopen sends nothing new. Returns None
    when a survey exists already or there is nobody to ask. Flushes; the send job is in the
    outbox (``run_at`` = now + ``survey_delay_hours``).
    """
    if complaint.contact_id is None and not complaint.reporter_email:
        return None
    existing = db.session.scalar(select(Survey.id).where(Survey.complaint_id == complaint.id))
    if existing:
        return None
    tenant = db.session.get(Tenant, complaint.tenant_id)
    due = utcnow() + timedelta(hours=float(tenant.setting("survey_delay_hours")))
    survey = Survey(
        token_hash=token_hash(survey_token(tenant.id, f"complaint:{complaint.id}")),
        contact_id=complaint.contact_id, complaint_id=complaint.id,
        due_to_send_at=due, expires_at=due + timedelta(days=COMPLAINT_LINK_DAYS), answers={},
    )
    db.session.add(survey)
    db.session.flush()
    enqueue("jobs.surveys.send_survey", survey.id, queue="mail", run_at=due,
            job_id=f"survey-{tenant.id}-{survey.id}")
    record(complaint, SYSTEM, "survey.scheduled", data={"survey_id": survey.id,
                                                        "due": due.isoformat()})
    return survey


def on_transition(complaint, transition, actor, from_status) -> None:
    """The workflow listener (registered by the application factory): a complaint that
    closes queues its satisfaction survey."""
    if transition.target == "closed":
        schedule_for_complaint(complaint)


@dataclass
class Recipient:
    email: str
    name: str
    locale: str


def recipient_of(survey: Survey, tenant: Tenant) -> Recipient | None:
    contact = db.session.get(Contact, survey.contact_id) if survey.contact_id else None
    if contact is not None and contact.active and contact.email:
        return Recipient(contact.email, contact.name, contact.locale or tenant.default_locale)
    if survey.complaint_id:
        complaint = db.session.get(Complaint, survey.complaint_id)
        if complaint is not None and complaint.reporter_email:
            return Recipient(complaint.reporter_email, complaint.reporter_name,
                             complaint.reporter_locale or tenant.default_locale)
    return None


def compose(survey: Survey, tenant: Tenant, person: Recipient, reminder: bool = False):
    """(subject, text, html) of the survey e-mail in the recipient's language."""
    from ..notifications.customer_mail import product_name

    complaint = db.session.get(Complaint, survey.complaint_id) if survey.complaint_id else None
    context = dict(tenant=tenant, name=person.name, link=link_for(survey, tenant),
                   complaint=complaint, reminder=reminder, expires_at=survey.expires_at,
                   product=product_name(complaint, person.locale) if complaint else None)
    with force_locale(person.locale):
        text = render_template("mail/survey.txt", **context)
        html = render_template("mail/survey.html", **context)
    subject, _, body = text.partition("\n")
    return subject.strip(), body.strip() + "\n", html


def open_survey_of(complaint: Complaint) -> Survey | None:
    """The closed complaint's survey while it can be answered (or its answer changed), for
    the customer's complaint page; None otherwise (one statement, only for a closed one)."""
    from .answers import state

    if complaint.status != "closed":
        return None
    survey = db.session.scalar(select(Survey).where(Survey.complaint_id == complaint.id))
    return survey if survey is not None and state(survey) in ("open", "editable") else None


def due_for_sending(survey: Survey, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return survey.sent_at is None and survey.answered_at is None and survey.expires_at > now


def due_for_reminder(survey: Survey, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return (survey.sent_at is not None and survey.answered_at is None
            and survey.reminded_at is None and survey.expires_at > now)
