"""Satisfaction surveys: one after each closed complaint, yearly campaigns to every contact,
the personal links, answering and scoring, low-score follow-ups, and the results.

Nothing here commits except ``send`` callers in jobs/surveys.py. Every function assumes the
tenant is active. A link's token is derived (HMAC with SECRET_KEY) from what the survey is
for, so the database keeps only its hash, yet a reminder can repeat the same link.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from sqlalchemy import func, select

from .complaints import workflow
from .complaints.timeline import SYSTEM, record
from .extensions import db
from .i18n import lazy_gettext as _l
from .models import (
    Action,
    Complaint,
    Contact,
    CustomerCompany,
    Department,
    ProductModel,
    StaffUser,
    Survey,
    SurveyCampaign,
    Tenant,
    utcnow,
)
from .queueing import enqueue
from .spreadsheets import neutralise

MODULES: dict[str, tuple[str, ...]] = {
    "overall": ("price", "delivery", "use"),
    "service": ("response_time", "efficiency", "effectiveness"),
    "quality": ("quality", "safety"),
}
MODULE_LABELS = {
    "overall": _l("Overall"),
    "service": _l("Our service"),
    "quality": _l("Product quality"),
}
QUESTION_LABELS = {
    "price": _l("Price"),
    "delivery": _l("Delivery"),
    "use": _l("The product in use"),
    "response_time": _l("How fast we responded"),
    "efficiency": _l("How efficiently we handled it"),
    "effectiveness": _l("How well the problem was solved"),
    "quality": _l("Quality"),
    "safety": _l("Safety"),
}
# The answer scale: five steps mapped onto 0–100.
SCALE = (
    (100, _l("Very satisfied")),
    (75, _l("Satisfied")),
    (50, _l("Neutral")),
    (25, _l("Dissatisfied")),
    (0, _l("Very dissatisfied")),
)
SCALE_VALUES = frozenset(v for v, _ in SCALE)

EDIT_HOURS = 24  # an answer may be changed this long after it was first given
COMPLAINT_LINK_DAYS = 30  # a complaint survey's link works this long after it is due
CAMPAIGN_LINK_DAYS = 60
BATCH_SIZE = 500  # campaign surveys sent per job
TEXT_LIMIT = 4000


# -- links ---------------------------------------------------------------------------------

def survey_token(tenant_id: int, scope: str) -> str:
    """The link's secret for ``scope`` ("complaint:12", "campaign:3:contact:45")."""
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"survey:{tenant_id}:{scope}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def scope_of(survey: Survey) -> str:
    if survey.campaign_id:
        return f"campaign:{survey.campaign_id}:contact:{survey.contact_id}"
    return f"complaint:{survey.complaint_id}"


def token_for(survey: Survey) -> str:
    return survey_token(survey.tenant_id, scope_of(survey))


def find_by_token(token: str) -> Survey | None:
    if not token or len(token) > 100:
        return None
    return db.session.scalar(select(Survey).where(Survey.token_hash == token_hash(token)))


def link_for(survey: Survey, tenant: Tenant) -> str:
    """The absolute link for e-mails (built from PUBLIC_URL: jobs have no request)."""
    base = current_app.config.get("PUBLIC_URL") or "http://127.0.0.1:5000"
    with current_app.test_request_context(base_url=base):
        return url_for("customer.public_survey", tenant_slug=tenant.slug,
                       token=token_for(survey), _external=True)


# -- dispatch ------------------------------------------------------------------------------

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


@workflow.on_transition
def _survey_when_closed(complaint, transition, actor, from_status) -> None:
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
                             tenant.default_locale)
    return None


def compose(survey: Survey, tenant: Tenant, person: Recipient, reminder: bool = False):
    """(subject, text, html) of the survey e-mail in the recipient's language."""
    complaint = db.session.get(Complaint, survey.complaint_id) if survey.complaint_id else None
    context = dict(tenant=tenant, name=person.name, link=link_for(survey, tenant),
                   complaint=complaint, reminder=reminder, expires_at=survey.expires_at)
    with force_locale(person.locale):
        text = render_template("mail/survey.txt", **context)
        html = render_template("mail/survey.html", **context)
    subject, _, body = text.partition("\n")
    return subject.strip(), body.strip() + "\n", html


def due_for_sending(survey: Survey, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return survey.sent_at is None and survey.answered_at is None and survey.expires_at > now


def due_for_reminder(survey: Survey, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return (survey.sent_at is not None and survey.answered_at is None
            and survey.reminded_at is None and survey.expires_at > now)


# -- campaigns -----------------------------------------------------------------------------

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


# -- answering -----------------------------------------------------------------------------

def state(survey: Survey, now: datetime | None = None) -> str:
    """"open" (not answered, not expired), "editable" (answered, still inside the edit
    window), "answered" (final) or "expired"."""
    now = now or utcnow()
    if survey.answered_at is not None:
        if now < survey.answered_at + timedelta(hours=EDIT_HOURS) and survey.expires_at > now:
            return "editable"
        return "answered"
    if survey.expires_at <= now:
        return "expired"
    return "open"


def mark_opened(survey: Survey) -> None:
    """The only thing a GET records (mail scanners follow links; they must not vote)."""
    if survey.opened_at is None:
        survey.opened_at = utcnow()


class SurveyClosed(Exception):
    pass


def weights_of(tenant: Tenant) -> dict[str, Decimal]:
    raw = tenant.setting("survey_weights") or {}
    weights = {}
    for module in MODULES:
        try:
            weights[module] = max(Decimal(str(raw.get(module, 1))), Decimal(0))
        except Exception:  # noqa: BLE001 — a malformed setting counts as the default
            weights[module] = Decimal(1)
    if not any(weights.values()):
        weights = {m: Decimal(1) for m in MODULES}
    return weights


def score(questions: dict[str, int], weights: dict[str, Decimal]) -> tuple[dict, Decimal]:
    """Module scores (mean of their questions, 0–100) and the weighted total (0–100)."""
    modules = {}
    for module, names in MODULES.items():
        values = [Decimal(questions[n]) for n in names if n in questions]
        if values:
            modules[module] = (sum(values) / len(values)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    weight_sum = sum(weights[m] for m in modules)
    total = (sum(modules[m] * weights[m] for m in modules) / weight_sum) if weight_sum else Decimal(0)
    return modules, total.quantize(Decimal("0.01"), ROUND_HALF_UP)


def submit(survey: Survey, tenant: Tenant, questions: dict[str, int], suggestions: str | None,
           comments: str | None) -> Action | None:
    """Record (or, within the edit window, replace) the answer. ``questions`` maps every
    question name to a SCALE value (the form validated it). Opens a follow-up action when
    the total falls below the tenant's ``survey_low_score`` (once per survey). Raises
    SurveyClosed when the link expired or the answer is final. Flushes; returns the new
    follow-up, if any."""
    if state(survey) not in ("open", "editable"):
        raise SurveyClosed()
    unknown = set(questions) - {q for names in MODULES.values() for q in names}
    if unknown or any(v not in SCALE_VALUES for v in questions.values()):
        raise ValueError("answers outside the questionnaire")
    modules, total = score(questions, weights_of(tenant))
    now = utcnow()
    previous = dict(survey.answers or {})
    survey.answers = {
        "questions": dict(questions),
        "modules": {m: str(v) for m, v in modules.items()},
        "suggestions": (suggestions or "").strip()[:TEXT_LIMIT] or None,
        "follow_up_action_id": previous.get("follow_up_action_id"),
        "edited_at": now.isoformat() if survey.answered_at else None,
    }
    survey.total_score = total
    survey.comments = (comments or "").strip()[:TEXT_LIMIT] or None
    if survey.opened_at is None:
        survey.opened_at = now
    first_answer = survey.answered_at is None
    if first_answer:
        survey.answered_at = now
    action = None
    if total < Decimal(str(tenant.setting("survey_low_score"))) \
            and not survey.answers.get("follow_up_action_id"):
        action = open_follow_up(survey, total)
        survey.answers = {**survey.answers, "follow_up_action_id": action.id}
    if survey.complaint_id and first_answer:
        complaint = db.session.get(Complaint, survey.complaint_id)
        record(complaint, SYSTEM, "survey.answered", data={"survey_id": survey.id,
                                                           "total": str(total)})
    db.session.flush()
    return action


def service_lead() -> StaffUser | None:
    """Who follows up low scores: the after-sales department's manager, else the first
    active after-sales staff member."""
    manager = db.session.scalar(
        select(StaffUser).join(Department, Department.manager_id == StaffUser.id)
        .where(Department.kind == "after_sales", StaffUser.active.is_(True))
        .order_by(Department.id).limit(1))
    if manager is not None:
        return manager
    for user in db.session.scalars(select(StaffUser).where(StaffUser.active.is_(True))
                                   .order_by(StaffUser.id)):
        if "after_sales" in (user.roles or []):
            return user
    return None


def open_follow_up(survey: Survey, total: Decimal) -> Action:
    complaint = db.session.get(Complaint, survey.complaint_id) if survey.complaint_id else None
    contact = db.session.get(Contact, survey.contact_id) if survey.contact_id else None
    company = db.session.get(CustomerCompany, contact.company_id) if contact else None
    who = company.name if company else (complaint.reporter_name if complaint else "—")
    lead = service_lead()
    title = f"Low satisfaction score {total} — {who}"
    if complaint is not None:
        title = f"Low satisfaction score {total} — {complaint.number} ({who})"
    action = Action(
        kind="follow_up", complaint_id=survey.complaint_id, title=title[:200],
        description=_follow_up_text(survey), owner_id=lead.id if lead else None,
        due_at=utcnow() + timedelta(days=7), evidence=[],
    )
    db.session.add(action)
    db.session.flush()
    if complaint is not None:
        record(complaint, SYSTEM, "survey.low_score", message=None,
               data={"survey_id": survey.id, "total": str(total), "action_id": action.id})
    return action


def _follow_up_text(survey: Survey) -> str:
    answers = survey.answers or {}
    lines = [f"{m}: {v}" for m, v in (answers.get("modules") or {}).items()]
    if answers.get("suggestions"):
        lines.append(f"suggestions: {answers['suggestions']}")
    if survey.comments:
        lines.append(f"comments: {survey.comments}")
    return "\n".join(lines)


# -- results -------------------------------------------------------------------------------

@dataclass
class Bucket:
    count: int = 0
    totals: list = field(default_factory=list)
    modules: dict = field(default_factory=lambda: defaultdict(list))

    def add(self, survey: Survey) -> None:
        self.count += 1
        if survey.total_score is not None:
            self.totals.append(Decimal(survey.total_score))
        for module, value in ((survey.answers or {}).get("modules") or {}).items():
            self.modules[module].append(Decimal(value))

    @staticmethod
    def _mean(values):
        return (sum(values) / len(values)).quantize(Decimal("0.1")) if values else None

    @property
    def total(self):
        return self._mean(self.totals)

    def module(self, name):
        return self._mean(self.modules.get(name, []))


@dataclass
class Results:
    sent: int
    answered: int
    overall: Bucket
    by_customer: dict
    by_product_line: dict
    by_month: dict

    @property
    def rate(self):
        return _rate(self.answered, self.sent)


def _scope_query(query, campaign_id: int | None, year: int | None):
    if campaign_id:
        query = query.where(Survey.campaign_id == campaign_id)
    if year:
        start = datetime(year, 1, 1, tzinfo=utcnow().tzinfo)
        query = query.where(Survey.sent_at >= start,
                            Survey.sent_at < start.replace(year=year + 1))
    return query


def answered_rows(campaign_id: int | None = None, year: int | None = None):
    """Answered surveys with their customer and product line, newest first."""
    query = (
        select(Survey, CustomerCompany.name, ProductModel.product_line, Complaint.number,
               SurveyCampaign.name, Contact.name, Contact.email)
        .outerjoin(Contact, Contact.id == Survey.contact_id)
        .outerjoin(CustomerCompany, CustomerCompany.id == Contact.company_id)
        .outerjoin(Complaint, Complaint.id == Survey.complaint_id)
        .outerjoin(ProductModel, ProductModel.id == Complaint.product_model_id)
        .outerjoin(SurveyCampaign, SurveyCampaign.id == Survey.campaign_id)
        .where(Survey.answered_at.is_not(None))
        .order_by(Survey.answered_at.desc())
    )
    return db.session.execute(_scope_query(query, campaign_id, year)).all()


def results(campaign_id: int | None = None, year: int | None = None) -> Results:
    counts = db.session.execute(_scope_query(
        select(func.count(Survey.sent_at), func.count(Survey.answered_at)), campaign_id, year)
    ).one()
    overall = Bucket()
    by_customer: dict = defaultdict(Bucket)
    by_line: dict = defaultdict(Bucket)
    by_month: dict = defaultdict(Bucket)
    for survey, company, line, *_ in answered_rows(campaign_id, year):
        overall.add(survey)
        by_customer[company or "—"].add(survey)
        by_line[line or "—"].add(survey)
        by_month[survey.answered_at.strftime("%Y-%m")].add(survey)
    return Results(sent=counts[0], answered=counts[1], overall=overall,
                   by_customer=dict(sorted(by_customer.items())),
                   by_product_line=dict(sorted(by_line.items())),
                   by_month=dict(sorted(by_month.items())))


EXPORT_HEADER = ("survey", "kind", "campaign", "complaint", "customer", "contact", "email",
                 "product_line", "sent_at", "opened_at", "answered_at", "overall", "service",
                 "quality", "total", "suggestions", "comments")


def export_rows(campaign_id: int | None = None, year: int | None = None):
    for survey, company, line, number, campaign, contact, email in answered_rows(campaign_id,
                                                                                  year):
        modules = (survey.answers or {}).get("modules") or {}
        row = (
            survey.id, "campaign" if survey.campaign_id else "complaint", campaign, number,
            company, contact, email, line,
            _iso(survey.sent_at), _iso(survey.opened_at), _iso(survey.answered_at),
            _num(modules.get("overall")), _num(modules.get("service")),
            _num(modules.get("quality")), _num(survey.total_score),
            (survey.answers or {}).get("suggestions"), survey.comments,
        )
        yield tuple(neutralise(v) for v in row)


def _iso(value):
    return value.strftime("%Y-%m-%d %H:%M") if value else None


def _num(value):
    return float(value) if value is not None else None


def export_csv(campaign_id=None, year=None) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_HEADER)
    for row in export_rows(campaign_id, year):
        writer.writerow(["" if v is None else v for v in row])
    return "\ufeff" + buffer.getvalue()  # BOM: Excel opens UTF-8 (Chinese names) correctly


def export_xlsx(campaign_id=None, year=None) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("surveys")
    sheet.append(EXPORT_HEADER)
    for row in export_rows(campaign_id, year):
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
