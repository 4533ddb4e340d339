"""Following complaints: "My complaints", a complaint's page, its photos, answering a question
from staff, and accepting or disputing the answer. Every status change goes through the
workflow; every complaint is looked up within the contact's company (others are a 404)."""

from __future__ import annotations

from http import HTTPStatus

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from portal import photos, uow
from portal.complaints import audience, workflow
from portal.complaints.permissions import Refused
from portal.complaints.vocabulary import (
    CUSTOMER_DEMAND_LABELS,
    CUSTOMER_RETURN_STATE_LABELS,
    CUSTOMER_RETURN_VERDICT_LABELS,
    CUSTOMER_STATE_LABELS,
    REQUEST_LABELS,
    REQUEST_STATE_LABELS,
    STATUSES,
)
from portal.returns.records import for_customer as returns_for_customer
from portal.surveys.links import token_for
from portal.surveys.scheduling import open_survey_of
from portal.web import render

from . import blueprint, uploads
from .forms import AcceptForm, DisputeForm, MessageForm, new_key
from .queries import (
    STATUS_GROUP_LABELS,
    STATUS_GROUPS,
    containment_actions,
    customer_photos,
    customer_timeline,
    event_label,
    latest_question,
    next_promises,
    search_complaints,
    sent_eight_d,
    service_requests,
    visible_complaint_or_404,
    visible_photo_or_404,
)


@blueprint.get("/complaints")
def complaints():
    q = request.args.get("q", "")[:100]
    status = request.args.get("status", "")
    if status not in STATUS_GROUPS and status not in STATUSES:
        status = ""
    try:
        page = max(1, min(int(request.args.get("page", 1)), 10_000))
    except ValueError:
        page = 1
    rows, has_more = search_complaints(current_user, q, status, page)
    return render("customer/complaints.html", "customer/_complaint_list.html",
                  complaints=rows, has_more=has_more, page=page, q=q, status_filter=status,
                  promises=next_promises(rows), state_labels=CUSTOMER_STATE_LABELS,
                  group_labels=STATUS_GROUP_LABELS, states=STATUSES)


def _detail(complaint, status=200, message_form=None, dispute_form=None, staged=(),
            photo_errors=(), step_error=None):
    actor = current_user
    if message_form is None:
        message_form = MessageForm(formdata=None)
        message_form.form_key.data = new_key()
    events = customer_timeline(complaint)
    survey = open_survey_of(complaint)
    all_photos = customer_photos(complaint)
    return render(
        "customer/complaint.html", None, HTTPStatus(status), complaint=complaint, events=events, event_label=event_label,
        customer_text=audience.customer_text,
        photos=[p for p in all_photos if p.event_id is None],
        event_photos={e.id: [p for p in all_photos if p.event_id == e.id] for e in events},
        containment=containment_actions(complaint), question=latest_question(complaint),
        requests=service_requests(complaint), request_labels=REQUEST_LABELS,
        request_state_labels=REQUEST_STATE_LABELS,
        can_answer=workflow.can(complaint, actor, "provide_information"),
        can_accept=workflow.can(complaint, actor, "customer_accept"),
        can_dispute=workflow.can(complaint, actor, "dispute"),
        message_form=message_form, dispute_form=dispute_form or DisputeForm(formdata=None),
        accept_form=AcceptForm(formdata=None), staged=staged, photo_errors=photo_errors,
        step_error=step_error, eight_d=sent_eight_d(complaint), state_labels=CUSTOMER_STATE_LABELS, demand_labels=CUSTOMER_DEMAND_LABELS,
        survey_token=token_for(survey) if survey is not None else None,
        max_photos=int(_tenant().setting("max_photos")),
        max_photo_mb=int(_tenant().setting("max_photo_mb")),
        returns=returns_for_customer(complaint.id), return_states=CUSTOMER_RETURN_STATE_LABELS,
        return_verdicts=CUSTOMER_RETURN_VERDICT_LABELS)


def _tenant():
    from portal.tenancy import current_tenant

    return current_tenant._get_current_object()


@blueprint.get("/complaints/<number>")
def complaint(number: str):
    return _detail(visible_complaint_or_404(current_user, number))


@blueprint.get("/complaints/<number>/photos/<int:photo_id>")
def photo_tile(number: str, photo_id: int):
    """One photo's tile (polled by htmx while the photo is being processed)."""
    complaint = visible_complaint_or_404(current_user, number)
    photo = visible_photo_or_404(complaint, photo_id)
    return render("customer/_photo.html", complaint=complaint, photo=photo)


@blueprint.get("/complaints/<number>/photos/<int:photo_id>/<variant>")
def photo_file(number: str, photo_id: int, variant: str):
    complaint = visible_complaint_or_404(current_user, number)
    photo = visible_photo_or_404(complaint, photo_id)
    if variant not in photos.VARIANTS:
        from flask import abort

        abort(404)
    return photos.photo_response(photo, variant)


@blueprint.get("/complaints/<number>/8d.pdf")
def eight_d_pdf(number: str):
    """The 8D report sent to the customer (the PDF as it was sent)."""
    from flask import abort

    from portal.storage import attachment_response

    complaint = visible_complaint_or_404(current_user, number)
    report = sent_eight_d(complaint)
    if report is None:
        abort(404)
    return attachment_response(report.customer_pdf_key, f"8D-{complaint.number}.pdf")


def _step(complaint, name: str, message: str | None = None):
    """Run a workflow step; returns an error message for the page, or None."""
    try:
        return workflow.transition(complaint, current_user, name, message), None
    except Refused as refused:  # raised before anything changed
        return None, str(refused.message)


@blueprint.post("/complaints/<number>/information")
def provide_information(number: str):
    complaint = visible_complaint_or_404(current_user, number)
    tenant = _tenant()
    form = MessageForm()
    key = uploads.valid_key(form.form_key.data) or new_key()
    form.form_key.data = key
    staged, photo_errors = uploads.gather(tenant, key, existing=photos.photo_count(complaint))
    if not form.validate() or photo_errors:
        return _detail(complaint, 422, message_form=form,
                       staged=uploads.tokens(staged, tenant, key), photo_errors=photo_errors)
    done, error = _step(complaint, "provide_information", form.message.data)
    if error:
        return _detail(complaint, 409, message_form=form, step_error=error,
                       staged=uploads.tokens(staged, tenant, key))
    # Listeners may add events after the transition's own; take the transition's.
    event = next(e for e in reversed(complaint.events)
                 if e.kind == "transition.provide_information")
    for upload in staged:
        photos.attach(complaint, upload, current_user.get_id(), event=event)
    if not _commit():
        return redirect(url_for("customer.complaint", number=number), code=303)
    flash(_("Thank you. Your answer was sent; we continue with your complaint."), "success")
    return redirect(url_for("customer.complaint", number=number), code=303)


@blueprint.post("/complaints/<number>/accept")
def accept_answer(number: str):
    complaint = visible_complaint_or_404(current_user, number)
    if not AcceptForm().validate_on_submit():
        from flask import abort

        abort(400)
    done, error = _step(complaint, "customer_accept")
    if error:
        flash(error, "error")
    elif _commit():
        flash(_("Thank you. The complaint is closed."), "success")
    return redirect(url_for("customer.complaint", number=number), code=303)


@blueprint.post("/complaints/<number>/dispute")
def dispute_answer(number: str):
    complaint = visible_complaint_or_404(current_user, number)
    form = DisputeForm()
    if not form.validate():
        return _detail(complaint, 422, dispute_form=form)
    done, error = _step(complaint, "dispute", form.reason.data)
    if error:
        return _detail(complaint, 409, dispute_form=form, step_error=error)
    if _commit():
        flash(_("We received your reasons and look at the problem again."), "success")
    return redirect(url_for("customer.complaint", number=number), code=303)


def _commit() -> bool:
    """Commit; if someone changed the complaint meanwhile, say so instead of failing."""
    try:
        uow.commit()
        return True
    except StaleDataError:
        uow.rollback()
        flash(_("The complaint changed while you were writing. Check the latest state and try "
                "again."), "error")
        return False
