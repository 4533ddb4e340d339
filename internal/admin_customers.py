"""Tenant administration of customers: companies and their contacts, by hand (the import is
in admin_catalogue.py with the other spreadsheets), and portal invitations for contacts."""

from __future__ import annotations

from http import HTTPStatus

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from portal import uow
from portal.accounts import end_all_sessions, issue_token
from portal.accounts.forms import ConfirmForm
from portal.extensions import db
from portal.mail import queue_mail
from portal.models import Complaint, Contact, CustomerCompany
from portal.tenancy import current_tenant
from portal.web import render

from . import blueprint
from .admin_forms import CompanyForm, ContactForm

CONTACT_INVITE_MINUTES = 7 * 24 * 60


def invite_contact(contact: Contact) -> None:
    """E-mail a one-time sign-in link to the portal (the customer sign-in link, valid a
    week). Flushes; the mail goes after commit."""
    token = issue_token(contact, purpose="sign_in", minutes=CONTACT_INVITE_MINUTES)
    queue_mail(contact.email, "contact_invitation",
               contact.locale or current_tenant.default_locale, contact=contact,
               tenant=current_tenant,
               link=url_for("customer.use_link", token=token, _external=True))


def _name_taken(name: str, company_id: int | None = None) -> bool:
    return db.session.scalar(select(CustomerCompany.id).where(
        func.lower(CustomerCompany.name) == name.strip().lower(),
        CustomerCompany.id != (company_id or 0))) is not None


@blueprint.route("/admin/customers", methods=["GET", "POST"])
def admin_companies():
    form = CompanyForm()
    if request.method == "POST":
        if form.validate_on_submit():
            if _name_taken(form.name.data):
                form.name.errors.append(_("A customer with this name exists already."))
            else:
                company = CustomerCompany(name=form.name.data.strip(),
                                          code=(form.code.data or "").strip() or None,
                                          key_account=form.key_account.data)
                db.session.add(company)
                uow.commit()
                flash(_("Customer %(name)s created.", name=company.name), "success")
                return redirect(url_for("internal.admin_company", company_id=company.id),
                                code=303)
        status = 422
    else:
        status = 200
    q = (request.args.get("q") or "").strip()[:100]
    query = select(CustomerCompany).order_by(CustomerCompany.name)
    if q:
        like = f"%{q.lower()}%"
        query = query.where(or_(func.lower(CustomerCompany.name).like(like),
                                func.lower(CustomerCompany.code).like(like)))
    companies = db.session.scalars(query.limit(300)).all()
    contacts = dict(db.session.execute(select(Contact.company_id, func.count())
                                       .group_by(Contact.company_id)).all())
    return render("internal/admin/companies.html", None, HTTPStatus(status), companies=companies, contacts=contacts,
                  form=form, q=q)


@blueprint.route("/admin/customers/<int:company_id>", methods=["GET", "POST"])
def admin_company(company_id: int):
    company = db.get_or_404(CustomerCompany, company_id)
    form = CompanyForm(obj=company if request.method == "GET" else None)
    contact_form = ContactForm(formdata=None)
    if request.method == "POST":
        if form.validate_on_submit():
            if _name_taken(form.name.data, company.id):
                form.name.errors.append(_("A customer with this name exists already."))
            else:
                company.name = form.name.data.strip()
                company.code = (form.code.data or "").strip() or None
                company.key_account = form.key_account.data
                uow.commit()
                flash(_("Saved."), "success")
                return redirect(url_for("internal.admin_company", company_id=company.id),
                                code=303)
    return _company_page(company, form, contact_form,
                         422 if request.method == "POST" else 200)


def _company_page(company, form, contact_form, status):
    contacts = db.session.scalars(select(Contact).where(Contact.company_id == company.id)
                                  .order_by(Contact.name)).all()
    complaints = db.session.scalar(select(func.count()).select_from(Complaint)
                                   .where(Complaint.customer_company_id == company.id))
    return render("internal/admin/company.html", None, HTTPStatus(status), company=company, form=form,
                  contact_form=contact_form, contacts=contacts, complaints=complaints,
                  action_form=ConfirmForm())


@blueprint.post("/admin/customers/<int:company_id>/contacts")
def admin_contact_new(company_id: int):
    company = db.get_or_404(CustomerCompany, company_id)
    contact_form = ContactForm()
    if contact_form.validate_on_submit():
        email = contact_form.email.data.strip().lower()
        if db.session.scalar(select(Contact.id).where(func.lower(Contact.email) == email)):
            contact_form.email.errors.append(_("A contact with this e-mail exists already."))
        else:
            contact = Contact(company_id=company.id, name=contact_form.name.data.strip(),
                              email=email, phone=(contact_form.phone.data or "").strip() or None,
                              locale=contact_form.locale.data or None)
            db.session.add(contact)
            db.session.flush()
            if contact_form.invite.data:
                invite_contact(contact)
            uow.commit()
            flash(_("Contact %(name)s added.", name=contact.name)
                  + (" " + _("An invitation is on its way.") if contact_form.invite.data else ""),
                  "success")
            return redirect(url_for("internal.admin_company", company_id=company.id), code=303)
    return _company_page(company, CompanyForm(obj=company), contact_form, 422)


@blueprint.post("/admin/contacts/<int:contact_id>/invite")
def admin_contact_invite(contact_id: int):
    return _contact_action(contact_id, "invite")


@blueprint.post("/admin/contacts/<int:contact_id>/deactivate")
def admin_contact_deactivate(contact_id: int):
    return _contact_action(contact_id, "deactivate")


@blueprint.post("/admin/contacts/<int:contact_id>/reactivate")
def admin_contact_reactivate(contact_id: int):
    return _contact_action(contact_id, "reactivate")


def _contact_action(contact_id: int, action: str):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    contact = db.get_or_404(Contact, contact_id)
    if action == "invite":
        if not contact.active:
            abort(409)
        invite_contact(contact)
        message = _("An invitation is on its way to %(email)s.", email=contact.email)
    elif action == "deactivate":
        contact.active = False
        end_all_sessions(contact)
        message = _("%(name)s can no longer sign in to the portal.", name=contact.name)
    else:
        contact.active = True
        message = _("%(name)s can sign in again.", name=contact.name)
    uow.commit()
    flash(message, "success")
    return redirect(url_for("internal.admin_company", company_id=contact.company_id), code=303)
