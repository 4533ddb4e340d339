"""The 8D report: started on request, eight disciplines written by the team (D3, D5 and D7
list the actions, D4 shows the root-cause chain), and a summary for the customer. Drawn when
opened. The PDF is in exports.py."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_login import current_user

from portal.complaints import eight_d

from .. import blueprint
from ..forms import CAUSE_LABELS, EightDStartForm, SectionForm, SummaryForm
from .base import Case, panel, run


@panel("eight_d", "#eight-d", deferred="opened")
def context(case: Case, forms: dict) -> dict | None:
    report = case.report
    editable = case.may("eight_d")
    if report is None and not editable:
        return None
    sections = {s.discipline: s for s in (report.sections if report else [])}
    context = {"report": report, "sections": sections, "disciplines": eight_d.DISCIPLINES,
               "editable": editable, "staff_names": case.ref["staff_names"],
               "causes": CAUSE_LABELS}
    if report is not None:
        context["actions"] = case.actions
    if editable and report is None:
        context["start"] = case.form(EightDStartForm, "eight_d_start", forms)
    elif editable:
        context["section_forms"] = {
            d: case.form(SectionForm, f"section{d}", forms,
                         {"text": sections[d].text if d in sections else ""})
            for d in eight_d.DISCIPLINES}
        context["summary"] = case.form(SummaryForm, "summary", forms,
                                       {"summary": report.customer_summary or ""})
    return context


@blueprint.post("/complaints/<int:complaint_id>/8d")
def start_eight_d(complaint_id: int):
    form = EightDStartForm()
    return run(complaint_id, "eight_d", "eight_d_start", form,
               lambda c: eight_d.start_report(
                   c, current_user, requested_by_customer=form.requested_by_customer.data),
               _("8D report started."))


@blueprint.post("/complaints/<int:complaint_id>/8d/sections")
def save_section(complaint_id: int):
    form = SectionForm()
    key = f"section{form.discipline.data}" if form.discipline.data in \
        [str(i) for i in range(1, 9)] else "section1"
    return run(complaint_id, "eight_d", key, form,
               lambda c: eight_d.save_section(c, current_user, int(form.discipline.data),
                                              text=form.text.data),
               _("Section saved."))


@blueprint.post("/complaints/<int:complaint_id>/8d/summary")
def save_summary(complaint_id: int):
    form = SummaryForm()
    return run(complaint_id, "eight_d", "summary", form,
               lambda c: eight_d.save_summary(c, current_user, summary=form.summary.data),
               _("Summary saved."))
