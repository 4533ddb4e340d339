"""Staff workspace pages: signing in, account and session administration. The queue (the
landing page) is in queue_views.py, a complaint and its casework in the package complaint/."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal import uow
from portal.accounts import end_all_sessions, end_session
from portal.accounts.forms import ConfirmForm
from portal.accounts.views import password_page, sign_in_page, sign_in_rate
from portal.accounts.views import sign_out as shared_sign_out
from portal.complaints.permissions import permitted
from portal.extensions import db, limiter
from portal.models import StaffUser
from portal.web import render

from . import blueprint

PUBLIC_ENDPOINTS = {"internal.sign_in"}


@blueprint.before_request
def require_staff():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated or getattr(current_user, "kind", None) != "staff":
        return redirect(url_for("internal.sign_in", next=request.full_path.rstrip("?")))
    return None


@blueprint.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(sign_in_rate, methods=["POST"])
def sign_in():
    return sign_in_page(StaffUser, "internal/sign_in.html", url_for("internal.index"))


@blueprint.post("/sign-out")
def sign_out():
    return shared_sign_out(end_session, url_for("internal.sign_in"))


@blueprint.route("/account/password", methods=["GET", "POST"])
def password():
    return password_page(current_user, "internal/password.html", url_for("internal.index"))


@blueprint.get("/admin/users")
def users():
    permitted("administer")
    staff = db.session.scalars(select(StaffUser).order_by(StaffUser.name)).all()
    return render("internal/users.html", staff=staff, form=ConfirmForm())


@blueprint.post("/admin/users/<int:user_id>/sign-out-everywhere")
def sign_out_everywhere(user_id: int):
    permitted("administer")
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
