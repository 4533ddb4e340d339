"""The 8D panel's team and hand-over routes: D1 members with their roles, D8 sign-offs, D3's
verified effect of a containment measure, sending the customer's 8D to the portal, and the
sections' evidence files. Each POST answers with the 8D panel (base.run)."""

from __future__ import annotations

from flask import abort, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.complaints import eight_d, eight_d_team
from portal.extensions import db
from portal.models import Action, EightDMember, EightDReport, StaffUser

from .. import blueprint
from ..eight_d_forms import ConfirmForm, ContainmentCheckForm, TeamMemberForm
from .base import as_id, checked, load, reference, run


def _member_of(complaint_id: int, member_id: int) -> EightDMember:
    member = db.session.scalar(
        select(EightDMember).join(EightDReport, EightDMember.report_id == EightDReport.id)
        .where(EightDMember.id == member_id, EightDReport.complaint_id == complaint_id))
    if member is None:
        abort(404)
    return member


@blueprint.post("/complaints/<int:complaint_id>/8d/team")
def add_team_member(complaint_id: int):
    form = TeamMemberForm()
    form.staff_user.choices = checked(
        request.form.get("staff_user"), reference()["staff"],
        lambda: db.session.execute(select(StaffUser.id, StaffUser.name)).all(), with_blank=False)
    return run(complaint_id, "eight_d", "team", form,
               lambda c: eight_d_team.add_member(
                   c, current_user, staff_user_id=as_id(form.staff_user.data),
                   role=form.role.data, responsibility=form.responsibility.data),
               _("Team updated."))


@blueprint.post("/complaints/<int:complaint_id>/8d/team/<int:member_id>/remove")
def remove_team_member(complaint_id: int, member_id: int):
    member = _member_of(complaint_id, member_id)
    return run(complaint_id, "eight_d", "remove", ConfirmForm(),
               lambda c: eight_d_team.remove_member(c, current_user, member),
               _("Team updated."))


@blueprint.post("/complaints/<int:complaint_id>/8d/team/<int:member_id>/sign-off")
def sign_off_eight_d(complaint_id: int, member_id: int):
    member = _member_of(complaint_id, member_id)
    return run(complaint_id, "eight_d", "sign_off", ConfirmForm(),
               lambda c: eight_d_team.sign_off(c, current_user, member),
               _("Signed off."))


@blueprint.post("/complaints/<int:complaint_id>/8d/send")
def send_eight_d(complaint_id: int):
    return run(complaint_id, "eight_d", "send", ConfirmForm(),
               lambda c: eight_d_team.send_to_customer(c, current_user),
               _("The 8D report is on the customer's complaint page."))


@blueprint.post("/complaints/<int:complaint_id>/8d/containment/<int:action_id>")
def check_containment(complaint_id: int, action_id: int):
    action = db.session.scalar(select(Action).where(Action.id == action_id,
                                                    Action.complaint_id == complaint_id))
    if action is None:
        abort(404)
    form = ContainmentCheckForm()
    return run(complaint_id, "eight_d", "check", form,
               lambda c: eight_d.check_containment(c, current_user, action,
                                                   effect=form.effect.data),
               _("Verified effect recorded."))


@blueprint.get("/complaints/<int:complaint_id>/8d/evidence/<int:discipline>/<int:index>")
def eight_d_evidence(complaint_id: int, discipline: int, index: int):
    from portal.storage import attachment_response

    report = eight_d.report_of(load(complaint_id, joined=False))
    section = eight_d.section_of(report, discipline) if report is not None else None
    if section is None or not (0 <= index < len(section.evidence or [])):
        abort(404)
    item = section.evidence[index]
    return attachment_response(item["key"], item["name"])
