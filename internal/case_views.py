"""A complaint in the workspace: its page (intake, photos, serials, casework, timeline) and one
POST route per piece of casework. Each route parses its form, calls one operation from
portal/complaints/, commits, and redirects back; a refused or invalid form re-renders the page
with the form as typed (422), a stale one with the newer version (409), a role the workflow
does not allow gets 403."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from http import HTTPStatus

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from portal import uow
from portal.complaints import casework, costs, eight_d, requests, workflow
from portal.complaints.abilities import STALE_MESSAGE, may
from portal.complaints.operations import classify, money, suggested_department
from portal.complaints.workflow import STAFF_STATE_LABELS, TransitionError
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import (
    Action,
    Complaint,
    CostEntry,
    CustomerCompany,
    Department,
    EightDReport,
    FailureMode,
    Photo,
    Problem,
    ProductModel,
    SerialNumber,
    ServiceRequest,
    StaffUser,
)
from portal.tenancy import current_tenant
from portal.web import render

from . import blueprint
from .forms import (
    ACTION_LABELS,
    CAUSE_LABELS,
    CHANNEL_LABELS,
    COST_LABELS,
    DEMAND_LABELS,
    REQUEST_LABELS,
    SEVERITY_LABELS,
    ActionDoneForm,
    ActionForm,
    AnswerForm,
    ChecklistForm,
    ClassifyForm,
    CostForm,
    DecisionForm,
    EffectivenessForm,
    EightDStartForm,
    FailureModeForm,
    FilingForm,
    FinishForm,
    ProblemCreateForm,
    ProblemLinkForm,
    RequestForm,
    RootCauseForm,
    SectionForm,
    ShipForm,
    SummaryForm,
    TransitionForm,
    VisitForm,
    opts,
)

# Transitions the page offers as plain buttons; "answer" and "not_effective" have their own
# forms (the answer composer, the effectiveness verdict).
COMPOSED = {"answer", "not_effective"}


EVENT_LABELS = {
    "submitted": _l("Complaint received"),
    "filed_by_staff": _l("Recorded by staff"),
    "classified": _l("Classified"),
    "verification.checklist": _l("Verification checklist saved"),
    "onsite.visit": _l("On-site visit recorded"),
    "problem.linked": _l("Linked to a problem"),
    "action.added": _l("Action added"),
    "action.done": _l("Action done"),
    "root_cause.recorded": _l("Root cause recorded"),
    "effectiveness.verified": _l("Actions verified effective"),
    "request.created": _l("Request created"),
    "request.approval": _l("Approval signed"),
    "request.shipped": _l("Goods shipped"),
    "request.received": _l("Returned goods received"),
    "request.paid": _l("Claim paid"),
    "cost.added": _l("Cost recorded"),
    "eight_d.started": _l("8D report started"),
    "eight_d.section": _l("8D section written"),
    "eight_d.summary": _l("8D summary for the customer"),
    "contact_linked": _l("Linked to the customer's account"),
    "email.reply": _l("Customer replied by e-mail"),
    "email.files": _l("Files received by e-mail"),
    "photo.rejected": _l("Photo refused"),
    "report.opened": _l("Escalation report opened"),
    "survey.scheduled": _l("Satisfaction survey scheduled"),
    "survey.answered": _l("Satisfaction survey answered"),
    "survey.low_score": _l("Low satisfaction score: follow-up opened"),
    "deadline.warning": _l("Deadline near: owner warned"),
    "deadline.breached": _l("Deadline missed: escalated"),
    "deadline.escalated": _l("Deadline missed: escalated again"),
}


# What a transition's button says (the workflow's labels are written for the timeline).
BUTTON_LABELS = {
    "start_verification": _l("Start verification"),
    "request_information": _l("Ask the customer"),
    "resume_verification": _l("Resume verification"),
    "accept": _l("Confirm as a quality case"),
    "reject": _l("Not our product's problem: close with this explanation"),
    "start_containment": _l("Start containment"),
    "start_analysis": _l("Start root-cause analysis"),
    "start_corrective_action": _l("Start corrective actions"),
    "submit_for_verification": _l("Actions done: verify effectiveness"),
    "close": _l("Close"),
    "reopen": _l("Reopen"),
}


@blueprint.app_template_global("button_label")
def _button_label(transition) -> str:
    return str(BUTTON_LABELS.get(transition.name, transition.label))


@blueprint.app_template_global("event_label")
def _event_label(kind: str) -> str:
    if kind.startswith("transition."):
        name = kind.split(".", 1)[1]
        found = next((t for t in workflow.TRANSITIONS if t.name == name), None)
        if found is not None:
            return str(found.label)
    label = EVENT_LABELS.get(kind)
    return str(label) if label else kind.replace("_", " ").replace(".", ": ")


@blueprint.app_template_global("may")
def _may(ability: str, complaint=None) -> bool:
    return may(current_user, ability, complaint)


def load(complaint_id: int) -> Complaint:
    """The complaint with its collections in a fixed number of queries (404 if not ours)."""
    complaint = db.session.scalar(
        select(Complaint).where(Complaint.id == complaint_id).options(
            selectinload(Complaint.serial_numbers).selectinload(SerialNumber.shipment),
            selectinload(Complaint.photos),
            selectinload(Complaint.events),
        )
    )
    if complaint is None:
        abort(404)
    return complaint


def _choices(rows, blank=True):
    options = [(str(i), str(n)) for i, n in rows]
    return opts(([("", "—")] + options) if blank else options)


def unique_ids(form, key: str):
    """Prefix the form's element ids with its key: one page holds many forms with fields of
    the same name, and each label must point at its own field."""
    for item in form:
        item.id = f"{key}-{item.name}"
        item.label.field_id = item.id
    return form


def page_context(complaint: Complaint, forms: dict) -> dict:
    """Everything the complaint page shows, in a fixed number of queries."""
    staff = db.session.execute(select(StaffUser.id, StaffUser.name)
                               .order_by(StaffUser.name)).all()
    staff_names = dict(staff)
    departments = db.session.execute(select(Department.id, Department.name)
                                      .order_by(Department.name)).all()
    modes = db.session.scalars(select(FailureMode).order_by(FailureMode.code)).all()
    actions = db.session.scalars(select(Action).where(Action.complaint_id == complaint.id)
                                 .order_by(Action.id)).all()
    service_requests = db.session.scalars(
        select(ServiceRequest).where(ServiceRequest.complaint_id == complaint.id)
        .options(selectinload(ServiceRequest.approvals)).order_by(ServiceRequest.id)).all()
    cost_rows = db.session.scalars(select(CostEntry).where(CostEntry.complaint_id == complaint.id)
                                   .order_by(CostEntry.id)).all()
    report = db.session.scalar(select(EightDReport).where(EightDReport.complaint_id == complaint.id)
                               .options(selectinload(EightDReport.sections)))
    problems = db.session.execute(select(Problem.id, Problem.number, Problem.title)
                                  .order_by(Problem.id.desc()).limit(100)).all()
    problem = db.session.get(Problem, complaint.problem_id) if complaint.problem_id else None
    product = db.session.get(ProductModel, complaint.product_model_id) \
        if complaint.product_model_id else None
    company = db.session.get(CustomerCompany, complaint.customer_company_id) \
        if complaint.customer_company_id else None
    checklist_event = next((e for e in reversed(complaint.events)
                            if e.kind == "verification.checklist"), None)
    locale = str(_locale())
    mode_choices = opts([("", "—")] + [(str(m.id), m.display_name(locale)) for m in modes])

    f = dict(forms)
    version = complaint.version

    def make(name, cls, **kw):
        if name not in f:
            form = cls(formdata=None, **kw)
            if hasattr(form, "version"):
                form.version.data = version
            f[name] = form
        return f[name]

    classify_form = make("classify", ClassifyForm,
                         severity=complaint.severity or "", info_class=complaint.info_class or "",
                         cause_category=complaint.cause_category or "",
                         failure_mode=str(complaint.failure_mode_id or ""),
                         department=str(complaint.responsible_department_id or ""),
                         owner=str(complaint.owner_id or ""))
    classify_form.failure_mode.choices = mode_choices
    classify_form.department.choices = _choices(departments)
    classify_form.owner.choices = _choices(staff)
    suggestion = suggested_department(complaint.cause_category) \
        if complaint.cause_category else None
    make("transition", TransitionForm)
    checklist = make("checklist", ChecklistForm,
                     confirmed=[k for k, v in ((checklist_event.data or {}).get("items") or {})
                                .items() if v] if checklist_event else [])
    checklist.confirmed.choices = opts(casework.CHECKLIST.items())
    make("visit", VisitForm)
    make("failure_mode", FailureModeForm)
    link = make("problem_link", ProblemLinkForm)
    link.problem.choices = opts([("", "—")] + [(i, f"{n} {t}") for i, n, t in problems])
    make("problem_create", ProblemCreateForm, title=complaint.title)
    for name, kind in (("containment", "containment"), ("corrective", "corrective")):
        form = make(name, ActionForm, kind=kind)
        form.owner.choices = _choices(staff)
        form.kind.choices = opts([("containment", ACTION_LABELS["containment"])]
                                 if kind == "containment" else
                                 [(k, ACTION_LABELS[k]) for k in ("corrective", "preventive")])
    make("done", ActionDoneForm)
    d4 = next((s for s in report.sections if s.discipline == 4), None) if report else None
    whys = (d4.content or {}).get("whys", []) if d4 else []
    factors = {x["category"]: x["text"] for x in ((d4.content or {}).get("factors", []) if d4 else [])}
    root = make("root_cause", RootCauseForm, root_cause=complaint.root_cause or "",
                **{f"why{i + 1}": w for i, w in enumerate(whys[:5])}, **factors)
    del root
    make("effectiveness", EffectivenessForm)
    make("answer", AnswerForm)
    make("request", RequestForm)
    make("decision", DecisionForm)
    make("ship", ShipForm)
    make("finish", FinishForm)
    cost = make("cost", CostForm, department=str(complaint.responsible_department_id or ""))
    cost.department.choices = _choices(departments)
    make("eight_d_start", EightDStartForm)
    make("summary", SummaryForm, summary=report.customer_summary if report else "")
    sections = {s.discipline: s for s in (report.sections if report else [])}
    section_forms = {}
    for d in eight_d.DISCIPLINES:
        key = f"section{d}"
        if key in f:
            section_forms[d] = f[key]
        else:
            form = SectionForm(formdata=None, discipline=str(d),
                               text=sections[d].text if d in sections else "")
            section_forms[d] = form
        unique_ids(section_forms[d], key)

    for key, form in f.items():
        unique_ids(form, key)
    transitions = [t for t in workflow.available(complaint, current_user)
                   if t.name not in COMPOSED]
    return {
        "complaint": complaint, "forms": f, "section_forms": section_forms,
        "labels": STAFF_STATE_LABELS, "transitions": transitions,
        "can": lambda name: workflow.can(complaint, current_user, name),
        "staff_names": staff_names, "departments": dict(departments),
        "modes": {m.id: m for m in modes}, "locale": locale,
        "actions": actions, "service_requests": service_requests, "costs": cost_rows,
        "sheet": costs.summarize(cost_rows, dict(departments)),
        "report": report, "sections": sections, "disciplines": eight_d.DISCIPLINES,
        "problem": problem, "product": product, "company": company,
        "checklist": casework.checklist_state(complaint, (checklist_event.data or {}).get("items")
                                              if checklist_event else None),
        "checklist_event": checklist_event, "suggestion": suggestion,
        "photos": [p for p in complaint.photos if p.status != "rejected"],
        "severities": SEVERITY_LABELS, "causes": CAUSE_LABELS, "demand_labels": DEMAND_LABELS,
        "request_labels": REQUEST_LABELS, "action_labels": ACTION_LABELS,
        "cost_labels": COST_LABELS, "channel_labels": CHANNEL_LABELS,
        "request_ops": requests, "may_complete": lambda a: casework.may_complete(a, current_user),
        "photo_url": _photo_url,
    }


def _locale():
    from flask_babel import get_locale

    return get_locale()


def _photo_url(photo: Photo, variant: str) -> str | None:
    if photo.status != "stored":
        return None
    key = photo.thumb_key if variant == "thumb" else (photo.large_key or photo.thumb_key)
    if not key:
        return None
    return url_for("internal.photo", complaint_id=photo.complaint_id, photo_id=photo.id,
                   variant=variant)


def show(complaint: Complaint, status: int = 200, error=None, **forms):
    context = page_context(complaint, forms)
    context["error"] = error
    return render("internal/complaint.html", None, HTTPStatus(status), **context)


@blueprint.get("/complaints/<int:complaint_id>")
def complaint(complaint_id: int):
    return show(load(complaint_id))


@blueprint.get("/complaints/<int:complaint_id>/photos/<int:photo_id>/<variant>")
def photo(complaint_id: int, photo_id: int, variant: str):
    from portal.photos import VARIANTS, photo_response

    item = db.session.scalar(select(Photo).where(Photo.id == photo_id,
                                                 Photo.complaint_id == complaint_id))
    if item is None or variant not in VARIANTS:
        abort(404)
    return photo_response(item, variant)


@blueprint.get("/complaints/<int:complaint_id>/evidence/<int:action_id>/<int:index>")
def evidence(complaint_id: int, action_id: int, index: int):
    from flask import send_file

    from portal.storage import get_storage

    action = db.session.scalar(select(Action).where(Action.id == action_id,
                                                    Action.complaint_id == complaint_id))
    if action is None or not (0 <= index < len(action.evidence or [])):
        abort(404)
    item = action.evidence[index]
    storage = get_storage()
    url = storage.download_url(item["key"], filename=item["name"], expires=300)
    if url:
        return redirect(url, code=302)
    response = send_file(storage.open(item["key"]), mimetype="application/octet-stream",
                         as_attachment=True, download_name=item["name"])
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# -- the POST routes -------------------------------------------------------------------------

STATUS_OF = {"forbidden": 403, "stale": 409, "not_from_status": 409}


def done(complaint: Complaint, message: str, anchor: str = ""):
    uow.commit()
    flash(message, "success")
    return redirect(url_for("internal.complaint", complaint_id=complaint.id) + anchor, code=303)


def refused(complaint_id: int, error: TransitionError, name: str, form):
    """Roll back, reload the complaint as it now is, and show the form as typed."""
    uow.rollback()
    complaint = load(complaint_id)
    if error.code == "stale" and hasattr(form, "version"):
        form.version.data = complaint.version  # they have now seen the newer version
    return show(complaint, status=STATUS_OF.get(error.code, 422), error=error.message,
                **{name: form})


def invalid(complaint_id: int, name: str, form):
    uow.rollback()
    return show(load(complaint_id), status=422, **{name: form})


def run(complaint_id: int, name: str, form, operation, message: str, anchor: str = ""):
    """Validate ``form``, run ``operation(complaint)``, commit and redirect; or explain."""
    complaint = load(complaint_id)
    if not form.validate_on_submit():
        return show(complaint, status=422, **{name: form})
    try:
        operation(complaint)
        db.session.flush()
        return done(complaint, message, anchor)
    except TransitionError as error:
        return refused(complaint_id, error, name, form)
    except StaleDataError:  # saved by someone else between our read and our write
        return refused(complaint_id, TransitionError("stale", STALE_MESSAGE), name, form)


def _id(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


@blueprint.post("/complaints/<int:complaint_id>/transition/<name>")
def transition(complaint_id: int, name: str):
    form = TransitionForm()
    return run(complaint_id, "transition", form,
               lambda c: casework.transition(c, current_user, name, form.message.data,
                                             form.version.data),
               _("Done."), "#actions")


@blueprint.post("/complaints/<int:complaint_id>/checklist")
def checklist(complaint_id: int):
    form = ChecklistForm()
    form.confirmed.choices = opts(casework.CHECKLIST.items())
    return run(complaint_id, "checklist", form,
               lambda c: casework.save_checklist(c, current_user, confirmed=form.confirmed.data,
                                                 note=form.note.data,
                                                 expected_version=form.version.data),
               _("Checklist saved."), "#verify")


@blueprint.post("/complaints/<int:complaint_id>/visit")
def visit(complaint_id: int):
    form = VisitForm()
    return run(complaint_id, "visit", form,
               lambda c: casework.record_onsite_visit(
                   c, current_user, visited_on=form.visited_on.data, visitor=form.visitor.data,
                   notes=form.notes.data, files=request.files.getlist("photos")),
               _("Visit recorded."), "#verify")


@blueprint.post("/complaints/<int:complaint_id>/classify")
def classify_view(complaint_id: int):
    form = ClassifyForm()
    _fill_classify_choices(form)

    def operation(c):
        from portal.complaints.abilities import check_version, require

        require(current_user, "classify", c)
        check_version(c, form.version.data)
        classify(c, current_user, severity=form.severity.data or None,
                 info_class=form.info_class.data or None,
                 cause_category=form.cause_category.data or None,
                 failure_mode_id=_id(form.failure_mode.data),
                 responsible_department_id=_id(form.department.data),
                 owner_id=_id(form.owner.data))
        casework.touch(c)
    return run(complaint_id, "classify", form, operation, _("Classification saved."), "#classify")


def _fill_classify_choices(form):
    form.failure_mode.choices = _choices(db.session.execute(
        select(FailureMode.id, FailureMode.code)).all())
    form.department.choices = _choices(db.session.execute(
        select(Department.id, Department.name)).all())
    form.owner.choices = _choices(db.session.execute(
        select(StaffUser.id, StaffUser.name)).all())


@blueprint.post("/complaints/<int:complaint_id>/failure-modes")
def add_failure_mode(complaint_id: int):
    form = FailureModeForm()
    return run(complaint_id, "failure_mode", form,
               lambda c: casework.add_failure_mode(current_user, code=form.code.data,
                                                   name_zh=form.name_zh.data,
                                                   name_en=form.name_en.data,
                                                   severe=form.severe.data),
               _("Failure mode added."), "#classify")


@blueprint.post("/complaints/<int:complaint_id>/problem/link")
def link_problem(complaint_id: int):
    form = ProblemLinkForm()
    form.problem.choices = opts((i, i) for i in db.session.scalars(select(Problem.id)))

    def operation(c):
        casework.link_problem(c, current_user, db.get_or_404(Problem, int(form.problem.data)))
    return run(complaint_id, "problem_link", form, operation, _("Linked to the problem."),
               "#classify")


@blueprint.post("/complaints/<int:complaint_id>/problem/new")
def create_problem(complaint_id: int):
    form = ProblemCreateForm()
    return run(complaint_id, "problem_create", form,
               lambda c: casework.create_problem(c, current_user, title=form.title.data,
                                                 analysis=form.analysis.data),
               _("Problem started."), "#classify")


def _staff_choices():
    return _choices(db.session.execute(select(StaffUser.id, StaffUser.name)).all(), blank=False)


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    from zoneinfo import ZoneInfo

    return value.replace(tzinfo=ZoneInfo(current_tenant.timezone)).astimezone(UTC)


@blueprint.post("/complaints/<int:complaint_id>/actions/<group>")
def add_action(complaint_id: int, group: str):
    if group not in ("containment", "corrective"):
        abort(404)
    form = ActionForm()
    form.owner.choices = _staff_choices()
    form.kind.choices = opts((k, v) for k, v in ACTION_LABELS.items()
                             if (k == "containment") == (group == "containment"))
    return run(complaint_id, group, form,
               lambda c: casework.add_action(c, current_user, kind=form.kind.data,
                                             title=form.title.data,
                                             description=form.description.data,
                                             owner_id=_id(form.owner.data),
                                             due_at=_aware(form.due_at.data)),
               _("Action added."), f"#{group}")


@blueprint.post("/complaints/<int:complaint_id>/actions/<int:action_id>/done")
def action_done(complaint_id: int, action_id: int):
    form = ActionDoneForm()
    action = db.session.scalar(select(Action).where(Action.id == action_id,
                                                    Action.complaint_id == complaint_id))
    if action is None:
        abort(404)
    form.action_id = action_id
    return run(complaint_id, "done", form,
               lambda c: casework.complete_action(c, action, current_user,
                                                  result=form.result.data,
                                                  files=request.files.getlist("evidence")),
               _("Action marked done."), f"#action-{action_id}")


@blueprint.post("/complaints/<int:complaint_id>/root-cause")
def root_cause(complaint_id: int):
    form = RootCauseForm()
    return run(complaint_id, "root_cause", form,
               lambda c: casework.record_root_cause(c, current_user, text=form.root_cause.data,
                                                    whys=form.whys(), factors=form.factors(),
                                                    expected_version=form.version.data),
               _("Root cause recorded."), "#analysis")


@blueprint.post("/complaints/<int:complaint_id>/effectiveness")
def effectiveness(complaint_id: int):
    form = EffectivenessForm()
    return run(complaint_id, "effectiveness", form,
               lambda c: casework.verify_effectiveness(
                   c, current_user, effective=form.verdict.data == "effective",
                   note=form.note.data, expected_version=form.version.data),
               _("Verdict recorded."), "#effectiveness")


@blueprint.post("/complaints/<int:complaint_id>/answer")
def answer(complaint_id: int):
    form = AnswerForm()
    message = f"{(form.measures.data or '').strip()}\n\n{(form.changes.data or '').strip()}"
    return run(complaint_id, "answer", form,
               lambda c: casework.transition(c, current_user, "answer", message,
                                             form.version.data),
               _("Answer sent to the customer."), "#answer")


@blueprint.post("/complaints/<int:complaint_id>/requests")
def create_request(complaint_id: int):
    form = RequestForm()
    return run(complaint_id, "request", form,
               lambda c: requests.create_request(c, current_user, kind=form.kind.data,
                                                 quantity=form.quantity.data,
                                                 amount=money(form.amount.data),
                                                 note=form.note.data),
               _("Request created."), "#requests")


def _request_of(complaint_id: int, request_id: int) -> ServiceRequest:
    item = db.session.scalar(select(ServiceRequest).where(
        ServiceRequest.id == request_id, ServiceRequest.complaint_id == complaint_id))
    if item is None:
        abort(404)
    return item


@blueprint.post("/complaints/<int:complaint_id>/requests/<int:request_id>/decide")
def decide_request(complaint_id: int, request_id: int):
    item = _request_of(complaint_id, request_id)
    form = DecisionForm()
    return run(complaint_id, "decision", form,
               lambda c: requests.decide(c, item, current_user,
                                         approve=form.decision.data == "approve",
                                         note=form.note.data),
               _("Decision signed."), "#requests")


@blueprint.post("/complaints/<int:complaint_id>/requests/<int:request_id>/ship")
def ship_request(complaint_id: int, request_id: int):
    item = _request_of(complaint_id, request_id)
    form = ShipForm()
    return run(complaint_id, "ship", form,
               lambda c: requests.ship(c, item, current_user,
                                       tracking_number=form.tracking_number.data),
               _("Shipment recorded."), "#requests")


@blueprint.post("/complaints/<int:complaint_id>/requests/<int:request_id>/finish")
def finish_request(complaint_id: int, request_id: int):
    item = _request_of(complaint_id, request_id)
    form = FinishForm()
    return run(complaint_id, "finish", form,
               lambda c: requests.finish(c, item, current_user, note=form.note.data),
               _("Request completed."), "#requests")


@blueprint.post("/complaints/<int:complaint_id>/costs")
def add_cost(complaint_id: int):
    form = CostForm()
    form.department.choices = _choices(db.session.execute(
        select(Department.id, Department.name)).all(), blank=False)
    return run(complaint_id, "cost", form,
               lambda c: costs.add_cost(c, current_user, category=form.category.data,
                                        amount=money(form.amount.data),
                                        currency=form.currency.data,
                                        department_id=_id(form.department.data),
                                        note=form.note.data),
               _("Cost recorded."), "#costs")


@blueprint.post("/complaints/<int:complaint_id>/8d")
def start_eight_d(complaint_id: int):
    form = EightDStartForm()
    return run(complaint_id, "eight_d_start", form,
               lambda c: eight_d.start_report(
                   c, current_user, requested_by_customer=form.requested_by_customer.data),
               _("8D report started."), "#eight-d")


@blueprint.post("/complaints/<int:complaint_id>/8d/sections")
def save_section(complaint_id: int):
    form = SectionForm()
    name = f"section{form.discipline.data}" if form.discipline.data in \
        [str(i) for i in range(1, 9)] else "section1"
    return run(complaint_id, name, form,
               lambda c: eight_d.save_section(c, current_user, int(form.discipline.data),
                                              text=form.text.data),
               _("Section saved."), f"#d{form.discipline.data}")


@blueprint.post("/complaints/<int:complaint_id>/8d/summary")
def save_summary(complaint_id: int):
    form = SummaryForm()
    return run(complaint_id, "summary", form,
               lambda c: eight_d.save_summary(c, current_user, summary=form.summary.data),
               _("Summary saved."), "#eight-d")


# -- exports ----------------------------------------------------------------------------------

def _pdf_response(data: bytes, filename: str):
    from flask import make_response

    response = make_response(data)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blueprint.get("/complaints/<int:complaint_id>/8d.pdf")
def eight_d_pdf(complaint_id: int):
    from portal.complaints.exports import eight_d_pdf as build

    complaint = load(complaint_id)
    context = page_context(complaint, {})
    if context["report"] is None:
        abort(404)
    return _pdf_response(build(context), f"8D-{complaint.number}.pdf")


@blueprint.get("/complaints/<int:complaint_id>/improvement-sheet.pdf")
def improvement_pdf(complaint_id: int):
    from portal.complaints.exports import improvement_sheet_pdf as build

    complaint = load(complaint_id)
    return _pdf_response(build(page_context(complaint, {})), f"sheet-{complaint.number}.pdf")


@blueprint.get("/complaints/<int:complaint_id>/cost-transfer")
def cost_transfer(complaint_id: int):
    complaint = load(complaint_id)
    if not may(current_user, "cost_sheet"):
        abort(403)
    context = page_context(complaint, {})
    return render("internal/cost_transfer.html", **context)


# -- filing by staff -------------------------------------------------------------------------

@blueprint.route("/complaints/new", methods=["GET", "POST"])
def file_complaint():
    production = request.values.get("production") == "1"
    if not may(current_user, "production" if production else "file"):
        abort(403)
    form = FilingForm()
    form.channel.choices = opts((c, CHANNEL_LABELS[c]) for c in
                                (("incoming", "in_process", "outgoing") if production
                                 else ("phone", "email", "visit")))
    form.company.choices = _choices(db.session.execute(
        select(CustomerCompany.id, CustomerCompany.name).order_by(CustomerCompany.name)).all())
    form.product_model.choices = _choices(db.session.execute(
        select(ProductModel.id, ProductModel.code).order_by(ProductModel.code)).all())
    if request.method == "GET":
        form.submission_key.data = uuid.uuid4().hex
        if production:
            form.reporter_name.data = current_user.name
    if form.validate_on_submit():
        if not production and not form.company.data:
            form.company.errors = [_("Choose the customer.")]
        elif not production and not form.serial_list():
            form.serials.errors = [_("Give at least one serial number.")]
        else:
            company_id = _id(form.company.data)
            company = db.session.get(CustomerCompany, company_id) if company_id else None
            data = {
                "source": "production" if production else "staff",
                "channel": form.channel.data, "reporter_name": form.reporter_name.data.strip(),
                "reporter_phone": form.reporter_phone.data or None,
                "reporter_email": form.reporter_email.data or None,
                "reporter_company": company.name if company else None,
                "customer_company_id": company.id if company else None,
                "product_model_id": _id(form.product_model.data),
                "specification": form.specification.data or None,
                "shipped_on": form.shipped_on.data, "lot": form.lot.data or None,
                "defect_quantity": form.defect_quantity.data,
                "title": form.title.data.strip(), "description": form.description.data.strip(),
                "demands": form.demands.data or ["answer"],
            }
            try:
                complaint, _created = casework.file_complaint(
                    current_tenant, current_user, data=data, serials=form.serial_list(),
                    submission_key=(form.submission_key.data or None))
            except TransitionError as error:
                uow.rollback()
                abort(403 if error.code == "forbidden" else 422)
            return done(complaint, _("Complaint %(number)s recorded.", number=complaint.number))
    status = 422 if request.method == "POST" else 200
    return render("internal/file.html", None, HTTPStatus(status), form=form,
                  production=production)
