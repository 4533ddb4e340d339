"""Tenant administration of people: the admin hub, the guided first run, staff invitations,
roles and departments, deactivation. Every ``internal.admin_*`` page needs the admin role
(one guard below, not one per view); the invitation page is public (its token is the key).
"""

from __future__ import annotations

from http import HTTPStatus

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from portal import uow
from portal.accounts import _digest, end_all_sessions, issue_token, load_principal, start_session
from portal.accounts import hash_password as _hash
from portal.accounts.forms import ConfirmForm
from portal.complaints.permissions import permitted
from portal.extensions import db
from portal.mail import queue_mail
from portal.models import (
    Department,
    ProductModel,
    Shipment,
    SignInToken,
    StaffUser,
    utcnow,
)
from portal.tenancy import current_tenant
from portal.web import render

from . import blueprint
from .admin_forms import (
    DEPARTMENT_KIND_LABELS,
    ROLE_LABELS,
    AcceptInvitationForm,
    DepartmentForm,
    InviteForm,
    PersonForm,
    StandardDepartmentsForm,
    opts,
)
from .views import PUBLIC_ENDPOINTS

INVITE_PURPOSE = "invite"
INVITE_MINUTES = 7 * 24 * 60

# The invitation page is opened by someone who has no password yet.
PUBLIC_ENDPOINTS.add("internal.invitation")


@blueprint.before_request
def _admins_only():
    """Every administration page needs the admin role (the staff guard has run before)."""
    if (request.endpoint or "").startswith("internal.admin_") \
            and getattr(current_user, "kind", None) == "staff":
        permitted("administer")


@blueprint.app_context_processor
def _admin_labels():
    return {"ROLE_LABELS": ROLE_LABELS, "DEPARTMENT_KIND_LABELS": DEPARTMENT_KIND_LABELS}


# -- operations (flush, never commit) ------------------------------------------------------

def expire_invitations(user: StaffUser) -> int:
    """Make every outstanding invitation link of ``user`` unusable."""
    rows = db.session.scalars(select(SignInToken).where(
        SignInToken.principal == user.get_id(), SignInToken.purpose == INVITE_PURPOSE,
        SignInToken.used_at.is_(None))).all()
    for row in rows:
        row.used_at = utcnow()
    return len(rows)


def send_invitation(user: StaffUser, inviter) -> None:
    """Expire earlier links and e-mail a new one (single use, valid for a week)."""
    expire_invitations(user)
    token = issue_token(user, purpose=INVITE_PURPOSE, minutes=INVITE_MINUTES)
    queue_mail(user.email, "staff_invitation", user.locale or current_tenant.default_locale,
               user=user, tenant=current_tenant, inviter=inviter,
               link=url_for("internal.invitation", token=token, _external=True))


def invite_staff(*, name: str, email: str, department_id: int | None, roles: list[str],
                 locale: str | None, inviter) -> StaffUser | None:
    """Create an invited staff user (no password yet) and send the link. Returns None when
    someone with this e-mail already has an account (a revoked invitee is invited again)."""
    email = email.strip().lower()
    user = db.session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == email))
    if user is not None:
        if user.password_hash is not None:
            return None
        user.active = True  # a revoked invitation, renewed
    else:
        user = StaffUser(email=email, password_hash=None)
        db.session.add(user)
    user.name, user.department_id, user.roles = name.strip(), department_id, list(roles)
    user.locale = locale or None
    db.session.flush()
    send_invitation(user, inviter)
    return user


def deactivate(user: StaffUser) -> int:
    """The user can no longer sign in; every session ends now. Their history stays."""
    user.active = False
    expire_invitations(user)
    return end_all_sessions(user)


def invitation_state(user: StaffUser) -> str:
    if user.password_hash is not None:
        return "active" if user.active else "deactivated"
    if not user.active:
        return "revoked"
    live = db.session.scalar(select(func.count()).select_from(SignInToken).where(
        SignInToken.principal == user.get_id(), SignInToken.purpose == INVITE_PURPOSE,
        SignInToken.used_at.is_(None), SignInToken.expires_at > utcnow()))
    return "invited" if live else "expired"


def _state_label(state: str) -> str:
    return {"active": _("Active"), "deactivated": _("Deactivated"), "invited": _("Invited"),
            "expired": _("Invitation expired"), "revoked": _("Invitation revoked")}[state]


def _department_choices():
    departments = db.session.scalars(select(Department).order_by(Department.name)).all()
    return opts([(0, _("— none —"))] + [(d.id, d.name) for d in departments])


def _staff_choices():
    staff = db.session.scalars(select(StaffUser).where(StaffUser.active.is_(True))
                               .order_by(StaffUser.name)).all()
    return opts([(0, _("— none —"))] + [(u.id, f"{u.name} <{u.email}>") for u in staff])


# -- the hub and the first run -------------------------------------------------------------

def _setup_counts() -> dict:
    count = lambda model: db.session.scalar(select(func.count()).select_from(model))  # noqa: E731
    return {"departments": count(Department), "staff": count(StaffUser),
            "products": count(ProductModel), "shipments": count(Shipment)}


@blueprint.get("/admin/")
def admin_home():
    return render("internal/admin/home.html", counts=_setup_counts())


@blueprint.get("/admin/welcome")
def admin_welcome():
    form = StandardDepartmentsForm(formdata=None)
    existing = {d.kind for d in db.session.scalars(select(Department))}
    form.kinds.data = [k for k in ("after_sales", "quality", "technical", "production",
                                   "logistics", "management") if k not in existing]
    return render("internal/admin/welcome.html", form=form, counts=_setup_counts(),
                  done_form=ConfirmForm(), existing=existing)


@blueprint.post("/admin/welcome/departments")
def admin_welcome_departments():
    form = StandardDepartmentsForm()
    if not form.validate_on_submit():
        return render("internal/admin/welcome.html", None, HTTPStatus(422), form=form, counts=_setup_counts(),
                      done_form=ConfirmForm(), existing=set())
    names = {d.name for d in db.session.scalars(select(Department))}
    created = 0
    for kind in form.kinds.data:
        name = str(DEPARTMENT_KIND_LABELS[kind])
        if name not in names:
            db.session.add(Department(name=name, kind=kind))
            created += 1
    # The administrator who signed up belongs somewhere: management, if it exists now.
    uow.commit()
    flash(_("%(count)d departments created.", count=created), "success")
    return redirect(url_for("internal.admin_welcome"), code=303)


@blueprint.post("/admin/welcome/done")
def admin_welcome_done():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    tenant = current_tenant._get_current_object()
    tenant.settings = {**(tenant.settings or {}), "first_run_done": True}
    uow.commit()
    return redirect(url_for("internal.index"), code=303)


# -- people --------------------------------------------------------------------------------

def _people_page(form: InviteForm, status: int = 200):
    staff = db.session.scalars(select(StaffUser).order_by(StaffUser.active.desc(),
                                                          StaffUser.name)).all()
    states = {u.id: invitation_state(u) for u in staff}
    return render("internal/admin/people.html", None, HTTPStatus(status), staff=staff, states=states,
                  state_label=_state_label, form=form, action_form=ConfirmForm())


@blueprint.route("/admin/people", methods=["GET", "POST"])
def admin_people():
    form = InviteForm()
    form.department_id.choices = _department_choices()
    if request.method == "POST":
        if form.validate_on_submit():
            user = invite_staff(name=form.name.data, email=form.email.data,
                                department_id=form.department_id.data or None,
                                roles=form.roles.data, locale=form.locale.data,
                                inviter=current_user)
            if user is None:
                form.email.errors.append(_("Someone with this e-mail already has an account."))
            else:
                uow.commit()
                flash(_("Invitation sent to %(email)s. The link works once, within 7 days.",
                        email=user.email), "success")
                return redirect(url_for("internal.admin_people"), code=303)
        return _people_page(form, status=422)
    return _people_page(form)


@blueprint.route("/admin/people/<int:user_id>", methods=["GET", "POST"])
def admin_person(user_id: int):
    user = db.get_or_404(StaffUser, user_id)
    form = PersonForm(obj=user if request.method == "GET" else None)
    form.department_id.choices = _department_choices()
    if request.method == "GET":
        form.department_id.data = user.department_id or 0
        form.locale.data = user.locale or ""
    if form.validate_on_submit():
        if user.id == current_user.id and "admin" not in form.roles.data:
            form.roles.errors.append(_("You cannot take the administrator role from yourself."))
        else:
            user.name = form.name.data.strip()
            user.department_id = form.department_id.data or None
            user.roles = list(form.roles.data)
            user.locale = form.locale.data or None
            uow.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("internal.admin_people"), code=303)
    return render("internal/admin/person.html", None, HTTPStatus(422 if request.method == "POST" else 200), person=user, form=form,
                  state=invitation_state(user), state_label=_state_label,
                  action_form=ConfirmForm())


@blueprint.post("/admin/people/<int:user_id>/deactivate")
def admin_person_deactivate(user_id: int):
    return _person_action(user_id, "deactivate")


@blueprint.post("/admin/people/<int:user_id>/reactivate")
def admin_person_reactivate(user_id: int):
    return _person_action(user_id, "reactivate")


@blueprint.post("/admin/people/<int:user_id>/resend")
def admin_person_resend(user_id: int):
    return _person_action(user_id, "resend")


@blueprint.post("/admin/people/<int:user_id>/revoke")
def admin_person_revoke(user_id: int):
    return _person_action(user_id, "revoke")


def _person_action(user_id: int, action: str):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    user = db.get_or_404(StaffUser, user_id)
    if user.id == current_user.id and action in ("deactivate", "revoke"):
        flash(_("You cannot deactivate yourself."), "error")
        return redirect(url_for("internal.admin_person", user_id=user.id), code=303)
    state = invitation_state(user)
    if action == "deactivate":
        ended = deactivate(user)
        message = _("%(name)s is deactivated; %(count)d sessions ended. Their history stays.",
                    name=user.name, count=ended)
    elif action == "reactivate":
        user.active = True
        message = _("%(name)s can sign in again.", name=user.name)
    elif action == "resend":
        if user.password_hash is not None:
            abort(409)
        user.active = True
        send_invitation(user, current_user)
        message = _("A new invitation was sent to %(email)s; earlier links no longer work.",
                    email=user.email)
    else:  # revoke
        if state not in ("invited", "expired"):
            abort(409)
        deactivate(user)
        message = _("The invitation of %(email)s is revoked.", email=user.email)
    uow.commit()
    flash(message, "success")
    return redirect(url_for("internal.admin_people"), code=303)


# -- accepting an invitation (public) -------------------------------------------------------

def _live_invitation(token: str) -> SignInToken | None:
    if not token or len(token) > 100:
        return None
    row = db.session.scalar(select(SignInToken).where(
        SignInToken.token_hash == _digest(token), SignInToken.purpose == INVITE_PURPOSE))
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    return row


@blueprint.route("/invitation/<token>", methods=["GET", "POST"])
def invitation(token: str):
    """GET shows the password form (a mail scanner's GET uses nothing); the POST consumes
    the link, sets the password and signs the person in."""
    row = _live_invitation(token)
    user = load_principal(row.principal) if row else None
    if user is None or not user.active or user.password_hash is not None:
        return render("internal/admin/invitation_invalid.html", None, HTTPStatus.GONE)
    form = AcceptInvitationForm()
    if form.validate_on_submit():
        row.used_at = utcnow()
        user.password_hash = _hash(form.password.data)
        start_session(user)
        uow.commit()
        flash(_("Welcome, %(name)s.", name=user.name), "success")
        return redirect(url_for("internal.index"), code=303)
    status = HTTPStatus.UNPROCESSABLE_ENTITY if request.method == "POST" else HTTPStatus.OK
    return render("internal/admin/invitation.html", None, status, form=form, person=user)


# -- departments ---------------------------------------------------------------------------

def _departments_page(form: DepartmentForm, status: int = 200):
    departments = db.session.scalars(select(Department).order_by(Department.name)).all()
    sizes = dict(db.session.execute(select(StaffUser.department_id, func.count())
                                    .group_by(StaffUser.department_id)).all())
    return render("internal/admin/departments.html", None, HTTPStatus(status), departments=departments, sizes=sizes,
                  form=form)


def _save_department(department: Department, form: DepartmentForm) -> bool:
    clash = db.session.scalar(select(Department.id).where(
        Department.name == form.name.data.strip(), Department.id != (department.id or 0)))
    if clash:
        form.name.errors.append(_("Another department has this name."))
        return False
    department.name = form.name.data.strip()
    department.kind = form.kind.data
    department.manager_id = form.manager_id.data or None
    return True


@blueprint.route("/admin/departments", methods=["GET", "POST"])
def admin_departments():
    form = DepartmentForm()
    form.manager_id.choices = _staff_choices()
    if request.method == "POST":
        department = Department()
        if form.validate_on_submit() and _save_department(department, form):
            db.session.add(department)
            uow.commit()
            flash(_("Department %(name)s created.", name=department.name), "success")
            return redirect(url_for("internal.admin_departments"), code=303)
        return _departments_page(form, status=422)
    return _departments_page(form)


@blueprint.route("/admin/departments/<int:department_id>", methods=["GET", "POST"])
def admin_department(department_id: int):
    department = db.get_or_404(Department, department_id)
    form = DepartmentForm(obj=department if request.method == "GET" else None)
    form.manager_id.choices = _staff_choices()
    if request.method == "GET":
        form.manager_id.data = department.manager_id or 0
    if form.validate_on_submit() and _save_department(department, form):
        uow.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("internal.admin_departments"), code=303)
    return render("internal/admin/department.html", None, HTTPStatus(422 if request.method == "POST" else 200), department=department, form=form)

