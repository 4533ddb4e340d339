"""Escalation report pages: the list, one report with the figures behind its trigger and its
history, assigning an owner, issuing it, and its PDF (WeasyPrint)."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal import uow
from portal.accounts.forms import ConfirmForm
from portal.complaints.permissions import may, permitted
from portal.complaints.vocabulary import (
    REPORT_KIND_LABELS,
    REPORT_STATE_LABELS,
    REPORT_TRIGGER_LABELS,
)
from portal.deadlines.escalation import issue
from portal.extensions import db
from portal.models import (
    Complaint,
    DeadlineClock,
    EscalationReport,
    FailureMode,
    ProductModel,
    StaffUser,
)
from portal.models.actions import EscalationReportEvent
from portal.web import render

from . import blueprint


def _context(report: EscalationReport) -> dict:
    from portal.deadlines.clocks import context_for, view
    from portal.tenancy import current_tenant

    clock = db.session.scalar(select(DeadlineClock).where(DeadlineClock.report_id == report.id))
    ids = (report.evidence or {}).get("related_complaints", [])
    return dict(
        report=report, kind_label=REPORT_KIND_LABELS.get(report.kind, report.kind),
        trigger_label=REPORT_TRIGGER_LABELS.get(report.trigger, report.trigger),
        state_label=REPORT_STATE_LABELS.get(report.status, report.status),
        figures=(report.evidence or {}).get("figures", {}),
        thresholds=(report.evidence or {}).get("thresholds", {}),
        product=db.session.get(ProductModel, report.product_model_id)
        if report.product_model_id else None,
        failure_mode=db.session.get(FailureMode, report.failure_mode_id)
        if report.failure_mode_id else None,
        owner=db.session.get(StaffUser, report.owner_id) if report.owner_id else None,
        complaints=db.session.scalars(select(Complaint).where(Complaint.id.in_(ids))).all()
        if ids else [],
        events=db.session.scalars(select(EscalationReportEvent).where(
            EscalationReportEvent.report_id == report.id).order_by(EscalationReportEvent.id)).all(),
        clock=view(context_for(current_tenant._get_current_object()), clock) if clock else None,
    )


@blueprint.get("/reports")
def reports():
    rows = db.session.scalars(select(EscalationReport).order_by(EscalationReport.id.desc())
                              .limit(200)).all()
    return render("internal/reports/list.html", rows=rows, kinds=REPORT_KIND_LABELS, states=REPORT_STATE_LABELS,
                  triggers=REPORT_TRIGGER_LABELS)


@blueprint.get("/reports/<int:report_id>")
def report_detail(report_id: int):
    report = db.get_or_404(EscalationReport, report_id)
    staff = db.session.scalars(select(StaffUser).where(StaffUser.active.is_(True))
                               .order_by(StaffUser.name)).all()
    return render("internal/reports/detail.html", staff=staff, form=ConfirmForm(),
                  can_edit=may(current_user, "edit_reports"), **_context(report))


@blueprint.post("/reports/<int:report_id>")
def report_update(report_id: int):
    report = db.get_or_404(EscalationReport, report_id)
    permitted("edit_reports")
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    action = request.form.get("action")
    if action == "owner":
        raw = request.form.get("owner_id", "")
        owner = db.session.get(StaffUser, int(raw)) if raw.isdigit() else None
        if owner is None:
            abort(404)
        report.owner_id = owner.id
        db.session.add(EscalationReportEvent(report_id=report.id, actor=current_user.get_id(),
                                             actor_name=current_user.name, kind="owner",
                                             data={"owner_id": owner.id, "name": owner.name}))
    elif action == "issue":
        body = (request.form.get("body") or "").strip()
        if not body:
            flash(_("Write the report before issuing it."), "error")
            return redirect(url_for("internal.report_detail", report_id=report.id), code=303)
        issue(report, current_user, body[:20000])
    else:
        abort(400)
    uow.commit()
    return redirect(url_for("internal.report_detail", report_id=report.id), code=303)


@blueprint.get("/reports/<int:report_id>.pdf")
def report_pdf(report_id: int):
    from weasyprint import HTML

    report = db.get_or_404(EscalationReport, report_id)
    html = render_template("internal/reports/pdf.html", **_context(report))
    pdf = HTML(string=html, base_url=request.host_url).write_pdf()
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{report.number}.pdf"'})
