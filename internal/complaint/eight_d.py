"""The 8D report: started on request; D1 the team (eight_d_team.py), D2–D8 written by the
team with their structured content and evidence files, each marked for the customer's 8D or
not; D3, D5 and D7 list the actions, D4 shows the root-cause chain; the customer summary;
sending the customer's PDF and the D8 sign-offs. Drawn when opened. The PDFs are in
exports.py."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from flask_login import current_user

from portal.complaints import eight_d
from portal.complaints.eight_d_team import leader_of, members_of
from portal.complaints.permissions import may_sign_off
from portal.complaints.vocabulary import (
    EIGHT_D_ROLE_LABELS,
    EIGHT_D_ROLES,
    VALIDATION_RESULT_LABELS,
)

from .. import blueprint
from ..eight_d_forms import (
    ContainmentCheckForm,
    TeamMemberForm,
    W,
    section_form_class,
)
from ..forms import CAUSE_LABELS, EightDStartForm, SummaryForm
from .base import Case, blank, panel, run


def _section_data(section) -> dict:
    if section is None:
        return {}
    return {"text": section.text or "", "customer_visible": section.customer_visible,
            **(section.content or {})}


def _section_forms(case: Case, sections: dict, forms: dict) -> dict:
    return {d: case.form(section_form_class(d), f"section{d}", forms,
                         _section_data(sections.get(d)))
            for d in eight_d.DISCIPLINES}


def _team(case: Case, report, forms: dict, editable: bool) -> dict:
    members = members_of(report)
    mine = next((m for m in members if may_sign_off(case.user, m)), None)
    context = {"members": members, "leader": leader_of(report), "mine": mine,
               "roles": EIGHT_D_ROLE_LABELS, "role_order": EIGHT_D_ROLES}
    if editable:
        context["team_form"] = case.form(
            TeamMemberForm, "team", forms, {"role": "member" if members else "leader"},
            {"staff_user": blank(case.ref["staff"])})
        context["check_form"] = case.form(ContainmentCheckForm, "check", forms)
        context["check_id"] = getattr(forms.get("check"), "action_id", None)
        context["check_id"] = context["check_id"].data if context["check_id"] else None
    return context


def _opened() -> int | None:
    """The discipline a POST just saved, kept open in the panel that answers it."""
    if request.method != "POST":
        return None
    if request.endpoint in ("internal.add_team_member", "internal.remove_team_member"):
        return 1
    if request.endpoint == "internal.check_containment":
        return 3
    posted = request.form.get("discipline", "")
    return int(posted) if posted in {str(d) for d in eight_d.DISCIPLINES} else None


@panel("eight_d", "#eight-d", deferred="opened")
def context(case: Case, forms: dict) -> dict | None:
    report = case.report
    editable = case.may("eight_d")
    if report is None and not editable:
        return None
    sections = {s.discipline: s for s in (report.sections if report else [])}
    context = {"report": report, "sections": sections, "disciplines": eight_d.DISCIPLINES,
               "editable": editable, "staff_names": case.ref["staff_names"],
               "causes": CAUSE_LABELS, "results": VALIDATION_RESULT_LABELS,
               "five_w_two_h": eight_d.FIVE_W_TWO_H, "is_is_not": eight_d.IS_IS_NOT,
               "action_kinds_of": eight_d.ACTION_KINDS_OF, "opened": _opened(), "w_labels": W}
    if report is not None:
        context["actions"] = case.actions
        context.update(_team(case, report, forms, editable))
    if editable and report is None:
        context["start"] = case.form(EightDStartForm, "eight_d_start", forms)
    elif editable:
        context["section_forms"] = _section_forms(case, sections, forms)
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
    posted = request.form.get("discipline")
    form = section_form_class(posted)()
    key = f"section{posted}" if posted in [str(i) for i in range(1, 9)] else "section1"
    return run(complaint_id, "eight_d", key, form,
               lambda c: eight_d.save_section(
                   c, current_user, int(form.discipline.data), text=form.text.data,
                   content=form.content(), customer_visible=form.customer_visible.data,
                   files=request.files.getlist("evidence")),
               _("Section saved."))


@blueprint.post("/complaints/<int:complaint_id>/8d/summary")
def save_summary(complaint_id: int):
    form = SummaryForm()
    return run(complaint_id, "eight_d", "summary", form,
               lambda c: eight_d.save_summary(c, current_user, summary=form.summary.data),
               _("Summary saved."))
