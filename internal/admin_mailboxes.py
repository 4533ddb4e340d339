"""Complaints by e-mail: the admin connects an IMAP mailbox (over TLS; the login is tried
before it is saved, the password kept encrypted), changes its settings (a blank password keeps
the stored one; a changed server, user, password or folder is tried again), sees what each
fetched message became, and switches a mailbox off or on. Fetching is jobs/mailboxes.py's, the filing portal/mailin's."""

from __future__ import annotations

from http import HTTPStatus

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, IntegerField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, ValidationError

from portal import mailin, uow
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.mailin import imap
from portal.models import Complaint, InboundMessage, Mailbox
from portal.queueing import enqueue
from portal.secretbox import InvalidToken, decrypt, encrypt
from portal.web import render

from . import blueprint

OUTCOME_LABELS = {"filed": _l("Filed as a new complaint"), "threaded": _l("Added to its complaint"),
                  "ignored": _l("Ignored"), "failed": _l("Failed")}
REASON_LABELS = {"auto-submitted": _l("automatic reply"), "bulk": _l("bulk mail"),
                 "auto-reply": _l("automatic reply"), "bounce": _l("delivery report"),
                 "list": _l("mailing list"), "own address": _l("our own mail"),
                 "filing limit": _l("too many complaints from this address in an hour")}


class MailboxForm(FlaskForm):
    address = EmailField(_l("E-mail address customers write to"), validators=[
        DataRequired(_l("Enter the mailbox's e-mail address.")),
        Email(_l("Enter a valid e-mail address.")), Length(max=254)])
    host = StringField(_l("IMAP server"), validators=[
        DataRequired(_l("Enter the IMAP server, e.g. imap.exmail.qq.com.")), Length(max=253)])
    port = IntegerField(_l("Port (IMAP over TLS)"), default=993, validators=[
        DataRequired(_l("Enter the port.")),
        NumberRange(1, 65535, _l("Enter a port between 1 and 65535."))])
    username = StringField(_l("User name"), validators=[
        DataRequired(_l("Enter the user name.")), Length(max=254)])
    password = PasswordField(_l("Password or app password"), validators=[
        DataRequired(_l("Enter the password.")), Length(max=500)])
    folder = StringField(_l("Folder"), default="INBOX", validators=[Length(max=200)])

    def validate_host(self, field):
        try:
            imap.check_host((field.data or "").strip(), self.port.data or 993)
        except imap.RefusedAddress as exc:
            raise ValidationError(_("This server is on a private or internal network, which "
                                    "mailboxes may not use.")) from exc


class MailboxEditForm(MailboxForm):
    password = PasswordField(_l("Password or app password"), validators=[
        Optional(), Length(max=500)])


def _mailbox(mailbox_id: int) -> Mailbox:
    mailbox = db.session.get(Mailbox, mailbox_id)
    if mailbox is None:
        abort(404)
    return mailbox


def _list(form, status=HTTPStatus.OK, login_error=None):
    mailboxes = list(db.session.scalars(select(Mailbox).order_by(Mailbox.id)))
    return render("internal/admin/mailboxes.html", None, status, form=form,
                  mailboxes=mailboxes, login_error=login_error)


@blueprint.get("/admin/mailboxes")
def admin_mailboxes():
    return _list(MailboxForm())


@blueprint.post("/admin/mailboxes")
def admin_mailbox_create():
    form = MailboxForm()
    if not form.validate_on_submit():
        return _list(form, HTTPStatus.UNPROCESSABLE_ENTITY)
    values = dict(host=form.host.data.strip(), port=form.port.data,
                  username=form.username.data.strip(), password=form.password.data,
                  folder=(form.folder.data or "").strip() or "INBOX")
    problem = imap.try_login(**values)
    if problem:
        return _list(form, HTTPStatus.UNPROCESSABLE_ENTITY, login_error=problem)
    mailbox = mailin.connect(address=form.address.data, **values)
    uow.commit()
    flash(_("Mailbox %(address)s connected; new mail is fetched every few minutes.",
            address=mailbox.address), "success")
    return redirect(url_for("internal.admin_mailbox", mailbox_id=mailbox.id), code=303)


def _detail(mailbox, edit_form, status=HTTPStatus.OK, login_error=None):
    rows = db.session.execute(
        select(InboundMessage, Complaint.number).outerjoin(
            Complaint, Complaint.id == InboundMessage.complaint_id)
        .where(InboundMessage.mailbox_id == mailbox.id)
        .order_by(InboundMessage.id.desc()).limit(50)).all()
    return render("internal/admin/mailbox.html", None, status, mailbox=mailbox, rows=rows,
                  outcomes=OUTCOME_LABELS, reasons=REASON_LABELS, form=FlaskForm(),
                  edit_form=edit_form, login_error=login_error)


@blueprint.get("/admin/mailboxes/<int:mailbox_id>")
def admin_mailbox(mailbox_id: int):
    mailbox = _mailbox(mailbox_id)
    return _detail(mailbox, MailboxEditForm(obj=mailbox))


def _stored_password(mailbox: Mailbox, form) -> str | None:
    """The typed password, else the stored one; None (with the field's error) when neither."""
    if form.password.data:
        return form.password.data
    try:
        return decrypt(mailbox.password_encrypted)
    except InvalidToken:
        form.password.errors = [_("The stored password can no longer be read: enter it "
                                  "again.")]
        return None


@blueprint.post("/admin/mailboxes/<int:mailbox_id>/edit")
def admin_mailbox_edit(mailbox_id: int):
    mailbox = _mailbox(mailbox_id)
    form = MailboxEditForm()
    if not form.validate_on_submit():
        return _detail(mailbox, form, HTTPStatus.UNPROCESSABLE_ENTITY)
    password = _stored_password(mailbox, form)
    if password is None:
        return _detail(mailbox, form, HTTPStatus.UNPROCESSABLE_ENTITY)
    values = dict(host=form.host.data.strip(), port=form.port.data,
                  username=form.username.data.strip(), password=password,
                  folder=(form.folder.data or "").strip() or "INBOX")
    changed = bool(form.password.data) or any(
        getattr(mailbox, k) != v for k, v in values.items() if k != "password")
    problem = imap.try_login(**values) if changed else None
    if problem:
        return _detail(mailbox, form, HTTPStatus.UNPROCESSABLE_ENTITY, login_error=problem)
    mailbox.address = form.address.data.strip().lower()
    for key in ("host", "port", "username", "folder"):
        setattr(mailbox, key, values[key])
    if form.password.data:
        mailbox.password_encrypted = encrypt(password)
    if changed:
        mailbox.last_error = None
    uow.commit()
    flash(_("Mailbox %(address)s saved.", address=mailbox.address), "success")
    return redirect(url_for("internal.admin_mailbox", mailbox_id=mailbox.id), code=303)


@blueprint.post("/admin/mailboxes/<int:mailbox_id>/toggle")
def admin_mailbox_toggle(mailbox_id: int):
    if not FlaskForm().validate_on_submit():
        abort(400)
    mailbox = _mailbox(mailbox_id)
    mailbox.enabled = not mailbox.enabled
    mailbox.last_error = None
    uow.commit()
    flash(_("Mailbox switched on.") if mailbox.enabled else _("Mailbox switched off."),
          "success")
    return redirect(url_for("internal.admin_mailbox", mailbox_id=mailbox.id), code=303)


@blueprint.post("/admin/mailboxes/<int:mailbox_id>/poll")
def admin_mailbox_poll(mailbox_id: int):
    if not FlaskForm().validate_on_submit():
        abort(400)
    mailbox = _mailbox(mailbox_id)
    if mailbox.enabled:
        enqueue("jobs.mailboxes.poll", mailbox.id)
        uow.commit()
        flash(_("Fetching new mail now."), "success")
    return redirect(url_for("internal.admin_mailbox", mailbox_id=mailbox.id), code=303)


@blueprint.post("/admin/mailboxes/<int:mailbox_id>/delete")
def admin_mailbox_delete(mailbox_id: int):
    if not FlaskForm().validate_on_submit():
        abort(400)
    mailbox = _mailbox(mailbox_id)
    db.session.delete(mailbox)
    uow.commit()
    flash(_("Mailbox %(address)s removed.", address=mailbox.address), "success")
    return redirect(url_for("internal.admin_mailboxes"), code=303)
