"""Escalation report pages: the list, one report with the figures behind its trigger and its
history, assigning an owner, issuing it, and its PDF (WeasyPrint)."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import aliased

from portal import uow
from portal.accounts.forms import ConfirmForm
from portal.complaints.permissions import may, permitted
from portal.complaints.vocabulary import (
    REPORT_EVENT_LABELS,
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

LIST_LIMIT = 200


def figure_text(trigger: str, evidence: dict) -> str:
    """The figure that triggered a report against its threshold, e.g. "4.20‰ > 3‰ (21/5000)"."""
    figures, thresholds = evidence.get("figures") or {}, evidence.get("thresholds") or {}
    ratio = figures.get("ratio")
    if trigger in ("ratio_exception", "ratio_special") and ratio is not None:
        limit = thresholds.get("exception" if trigger == "ratio_exception" else "special")
        limit_text = f"{float(limit) * 1000:g}‰" if limit is not None else "—"
        return (f"{ratio * 1000:.2f}‰ > {limit_text} "
                f"({figures.get('defects', 0)}/{figures.get('shipped', 0)})")
    if trigger == "repeat":
        return _("%(count)s complaints ≥ %(limit)s in %(days)s days",
                 count=figures.get("repeat_count", 0), limit=thresholds.get("repeat_count", "—"),
                 days=figures.get("repeat_days", "—"))
    return str(REPORT_TRIGGER_LABELS.get(trigger, trigger))


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and 0 < int(value) < 2**31 else None


def _list_rows(kind: str, status: str, product: int | None, mode: int | None):
    owner = aliased(StaffUser)
    statement = (select(EscalationReport, ProductModel.code, FailureMode.name_zh,
                        FailureMode.name_en, owner.name)
                 .outerjoin(ProductModel, ProductModel.id == EscalationReport.product_model_id)
                 .outerjoin(FailureMode, FailureMode.id == EscalationReport.failure_mode_id)
                 .outerjoin(owner, owner.id == EscalationReport.owner_id))
    if kind:
        statement = statement.where(EscalationReport.kind == kind)
    if status:
        statement = statement.where(EscalationReport.status == status)
    if product:
        statement = statement.where(EscalationReport.product_model_id == product)
    if mode:
        statement = statement.where(EscalationReport.failure_mode_id == mode)
    english = str(get_locale() or "").startswith("en")
    return [{"report": r, "model": code, "mode": (en if english else zh),
             "owner": owner_name, "figure": figure_text(r.trigger, r.evidence or {})}
            for r, code, zh, en, owner_name in db.session.execute(
                statement.order_by(EscalationReport.id.desc()).limit(LIST_LIMIT))]


def _mode_name(mode_id: int | None) -> str | None:
    """The failure mode in the reader's language (the list shows the same name)."""
    mode = db.session.get(FailureMode, mode_id) if mode_id else None
    return mode.display_name(str(get_locale() or "zh_CN")) if mode else None


def _context(report: EscalationReport) -> dict:
    from portal.deadlines.clocks import context_for, view
    from portal.tenancy import current_tenant

    clock = db.session.scalar(select(DeadlineClock).where(DeadlineClock.report_id == report.id))
    ids = (report.evidence or {}).get("related_complaints", [])
    return dict(
        report=report, kind_label=REPORT_KIND_LABELS.get(report.kind, report.kind),
        status_label=REPORT_STATE_LABELS.get(report.status, report.status), event_labels=REPORT_EVENT_LABELS,
        figure=figure_text(report.trigger, report.evidence or {}),
        trigger_label=REPORT_TRIGGER_LABELS.get(report.trigger, report.trigger),
        figures=(report.evidence or {}).get("figures", {}),
        thresholds=(report.evidence or {}).get("thresholds", {}),
        product=db.session.get(ProductModel, report.product_model_id)
        if report.product_model_id else None,
        failure_mode_name=_mode_name(report.failure_mode_id),
        owner=db.session.get(StaffUser, report.owner_id) if report.owner_id else None,
        complaints=db.session.scalars(select(Complaint).where(Complaint.id.in_(ids))).all()
        if ids else [],
        events=db.session.scalars(select(EscalationReportEvent).where(
            EscalationReportEvent.report_id == report.id).order_by(EscalationReportEvent.id)).all(),
        clock=view(context_for(current_tenant._get_current_object()), clock) if clock else None,
    )


@blueprint.get("/reports")
def reports():
    kind = request.args.get("kind", "") if request.args.get("kind") in REPORT_KIND_LABELS else ""
    status = request.args.get("status", "") if request.args.get("status") in REPORT_STATE_LABELS \
        else ""
    product, mode = _int_arg("product"), _int_arg("mode")
    english = str(get_locale() or "").startswith("en")
    return render("internal/reports/list.html", rows=_list_rows(kind, status, product, mode),
                  kinds=REPORT_KIND_LABELS, triggers=REPORT_TRIGGER_LABELS, statuses=REPORT_STATE_LABELS,
                  filters={"kind": kind, "status": status, "product": product, "mode": mode},
                  products=db.session.execute(select(ProductModel.id, ProductModel.code)
                                              .order_by(ProductModel.code)).all(),
                  modes=[(m.id, m.name_en if english else m.name_zh) for m in db.session.scalars(
                      select(FailureMode).order_by(FailureMode.code))],
                  limit=LIST_LIMIT)


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
