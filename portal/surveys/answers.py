"""Answering a survey: the questions and their scale, the link's state, scoring with the
tenant's weights, and the follow-up action a low score opens."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from ..complaints.timeline import SYSTEM, record
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models import (
    Action,
    Complaint,
    Contact,
    CustomerCompany,
    Department,
    StaffUser,
    Survey,
    Tenant,
    utcnow,
)

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


TEXT_LIMIT = 4000


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
