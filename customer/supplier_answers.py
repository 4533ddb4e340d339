"""The supplier's page behind the one-time link of a corrective action request (no account):
the request, and a form for containment, root cause, corrective action and evidence files.
An unknown, revoked, replaced, expired or used link gets a page saying so."""

from __future__ import annotations

from http import HTTPStatus

from flask import redirect, request, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from portal import uow
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.suppliers import evidence
from portal.suppliers import requests as scars
from portal.web import render

from . import blueprint
from .surveys import _private

REQUIRED = _l("This field is required.")
TOO_LONG = _l("At most %(max)d characters.", max=scars.TEXT_LIMIT)


class AnswerForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(REQUIRED), Length(max=120)])
    containment = TextAreaField(_l("Containment"), validators=[
        DataRequired(REQUIRED), Length(max=scars.TEXT_LIMIT, message=TOO_LONG)])
    root_cause = TextAreaField(_l("Root cause"), validators=[
        DataRequired(REQUIRED), Length(max=scars.TEXT_LIMIT, message=TOO_LONG)])
    corrective_action = TextAreaField(_l("Corrective action"), validators=[
        DataRequired(REQUIRED), Length(max=scars.TEXT_LIMIT, message=TOO_LONG)])
    evidence = MultipleFileField(_l("Evidence files (JPEG, PNG or PDF, up to 10 MB each)"))


def _closed(state: str, scar=None):
    status = {"used": HTTPStatus.OK, "thanks": HTTPStatus.OK,
              "expired": HTTPStatus.GONE}.get(state, HTTPStatus.NOT_FOUND)
    return _private(render("customer/suppliers/closed.html", None, status, state=state,
                           scar=scar))


def _page(scar, form, status=HTTPStatus.OK):
    return _private(render("customer/suppliers/answer.html", None, status, scar=scar,
                           form=form, asks=scars.ASK_LABELS, max_mb=evidence.MAX_MB,
                           token=request.view_args.get("token")))


@blueprint.route("/supplier/<token>", methods=["GET", "POST"], endpoint="public_supplier_answer")
def public_supplier_answer(token: str):
    scar = scars.find_by_token(token)
    if scar is not None and request.method == "POST":
        db.session.refresh(scar, with_for_update=True)  # one answer, even for two taps
    state = scars.link_state(scar)
    if state != "open":
        return _closed(state, scar)
    if request.method == "GET":
        return _page(scar, AnswerForm(formdata=None))
    form = AnswerForm()
    if not form.validate_on_submit():
        return _page(scar, form, HTTPStatus.UNPROCESSABLE_ENTITY)
    try:
        evidence.attach(scar, request.files.getlist(form.evidence.name))
        scars.submit_answer(scar, name=form.name.data, containment=form.containment.data,
                            root_cause=form.root_cause.data,
                            corrective_action=form.corrective_action.data)
    except scars.RequestError as exc:
        uow.rollback()
        scar = scars.find_by_token(token)
        getattr(form, exc.field, form.evidence).errors.append(str(exc.message))
        return _page(scar, form, HTTPStatus.UNPROCESSABLE_ENTITY)
    uow.commit()
    return redirect(url_for("customer.public_supplier_thanks", token=token), code=303)


@blueprint.get("/supplier/<token>/thanks", endpoint="public_supplier_thanks")
def public_supplier_thanks(token: str):
    scar = scars.find_by_token(token)
    state = scars.link_state(scar)
    return _closed("thanks" if state == "used" else state, scar)


@blueprint.get("/supplier/<token>/photos/<int:index>", endpoint="public_supplier_photo")
def public_supplier_photo(token: str, index: int):
    """An evidence photo of the appraisal the request was opened from, while the link is
    open (portal/returns/); else 404."""
    from flask import abort

    from portal.returns.records import for_supplier_request
    from portal.storage import attachment_response

    scar = scars.find_by_token(token)
    if scars.link_state(scar) != "open":
        abort(404)
    appraised = for_supplier_request(scar.id)
    photos = (appraised.evidence or []) if appraised is not None else []
    if index >= len(photos):
        abort(404)
    return _private(attachment_response(photos[index]["key"], photos[index]["name"]))
