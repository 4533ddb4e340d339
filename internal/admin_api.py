"""API tokens for other systems (ERP, MES, BI): the admin names a token, picks the staff user
it acts as, its scopes and its expiry; the secret is shown once on the answer to that POST
and only its hash is kept; revoking stops it at the next call. Webhooks, when they come, get
a page of their own beside this one under /admin/."""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from portal import uow
from portal.api import tokens
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import API_SCOPES, ApiToken, StaffUser, utcnow
from portal.web import render

from . import blueprint
from .admin_forms import MultiCheckboxField, opts

LIFETIMES = {"30": _l("30 days"), "90": _l("90 days"), "180": _l("180 days"),
             "365": _l("One year"), "730": _l("Two years")}


class TokenForm(FlaskForm):
    name = StringField(_l("Name"), validators=[
        DataRequired(_l("Name the token after the system that uses it, e.g. ERP sync.")),
        Length(max=80)])
    acting_user = SelectField(_l("Acts as"), choices=[], validators=[
        DataRequired(_l("Choose the person whose roles the token uses."))])
    scopes = MultiCheckboxField(_l("Scopes"), choices=opts(tokens.SCOPE_LABELS.items()),
                                validators=[DataRequired(_l("Choose at least one scope."))])
    lifetime = SelectField(_l("Expires after"), choices=opts(LIFETIMES.items()), default="365",
                           validators=[DataRequired()])


def _form() -> TokenForm:
    form = TokenForm()
    users = db.session.execute(select(StaffUser.id, StaffUser.name, StaffUser.email)
                               .where(StaffUser.active.is_(True)).order_by(StaffUser.name)).all()
    form.acting_user.choices = opts((str(uid), f"{name} <{email}>") for uid, name, email in users)
    if not form.acting_user.data:
        form.acting_user.data = str(current_user.id)
    return form


def _page(form, status=HTTPStatus.OK, secret=None):
    rows = db.session.execute(
        select(ApiToken, StaffUser.name).join(StaffUser, StaffUser.id == ApiToken.acting_user_id)
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc())).all()
    response = render("internal/admin/api_tokens.html", None, status, form=form, rows=rows,
                      secret=secret, scope_labels=tokens.SCOPE_LABELS, now=utcnow())
    response.headers["Cache-Control"] = "no-store"  # the page may carry a secret
    return response


@blueprint.get("/admin/api-tokens")
def admin_api_tokens():
    return _page(_form())


@blueprint.post("/admin/api-tokens")
def admin_api_token_create():
    form = _form()
    if not form.validate_on_submit():
        return _page(form, HTTPStatus.UNPROCESSABLE_ENTITY)
    user = db.session.get(StaffUser, int(form.acting_user.data))
    if user is None or not user.active:
        form.acting_user.errors = [_("Choose the person whose roles the token uses.")]
        return _page(form, HTTPStatus.UNPROCESSABLE_ENTITY)
    token, secret = tokens.issue(
        name=form.name.data, scopes=[s for s in API_SCOPES if s in form.scopes.data],
        acting_user=user, created_by=current_user,
        expires_at=utcnow() + timedelta(days=int(form.lifetime.data)))
    uow.commit()
    return _page(_form_reset(), HTTPStatus.CREATED, secret=(token, secret))


def _form_reset() -> TokenForm:
    form = _form()
    form.name.data = ""
    form.scopes.data = []
    return form


@blueprint.post("/admin/api-tokens/<int:token_id>/revoke")
def admin_api_token_revoke(token_id: int):
    if not FlaskForm().validate_on_submit():
        abort(400)
    token = db.get_or_404(ApiToken, token_id)
    tokens.revoke(token)
    uow.commit()
    flash(_("Token %(name)s revoked. Calls with it are refused from now on.", name=token.name),
          "success")
    return redirect(url_for("internal.admin_api_tokens"), code=303)
