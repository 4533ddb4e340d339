"""Staff workspace pages: signing in, account and session administration. The queue (the
landing page) is in queue_views.py, a complaint and its casework in the package complaint/."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal import uow
from portal.accounts import end_all_sessions, end_session
from portal.accounts.forms import ConfirmForm, SignInForm
from portal.accounts.views import password_change, password_form, password_sign_in
from portal.extensions import db
from portal.models import StaffUser
from portal.web import render, safe_next

from . import blueprint

PUBLIC_ENDPOINTS = {"internal.sign_in"}


@blueprint.before_request
def require_staff():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated or getattr(current_user, "kind", None) != "staff":
        return redirect(url_for("internal.sign_in", next=request.full_path.rstrip("?")))
    return None


def require_role(*roles: str) -> None:
    if not current_user.has_role(*roles):
        abort(403)


@blueprint.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    form = SignInForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if password_sign_in(StaffUser, form):
        return redirect(safe_next(form.next.data, url_for("internal.index")), code=303)
    return render("internal/sign_in.html", form=form,
                  status=422 if request.method == "POST" else 200)


@blueprint.post("/sign-out")
def sign_out():
    end_session()
    uow.commit()
    return redirect(url_for("internal.sign_in"), code=303)


@blueprint.route("/account/password", methods=["GET", "POST"])
def password():
    form = password_form(current_user)
    if password_change(current_user, form):
        return redirect(url_for("internal.index"), code=303)
    return render("internal/password.html", form=form,
                  status=422 if request.method == "POST" else 200)


@blueprint.get("/admin/users")
def users():
    require_role("admin")
    staff = db.session.scalars(select(StaffUser).order_by(StaffUser.name)).all()
    return render("internal/users.html", staff=staff, form=ConfirmForm())


@blueprint.post("/admin/users/<int:user_id>/sign-out-everywhere")
def sign_out_everywhere(user_id: int):
    require_role("admin")
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    user = db.get_or_404(StaffUser, user_id)
    count = end_all_sessions(user)
    uow.commit()
    flash(_("%(name)s was signed out of %(count)d sessions.", name=user.name, count=count),
          "success")
    return redirect(url_for("internal.users"), code=303)


from . import complaint, queue_views  # noqa: E402,F401  (the queue and the complaint pages)
