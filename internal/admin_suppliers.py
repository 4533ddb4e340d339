"""Tenant administration of suppliers: their records (name, code, what they supply, the
language of their e-mails) and contacts; deactivating keeps their history. Every page is an
``internal.admin_*`` endpoint, so it needs the admin role (admin_people.py)."""

from __future__ import annotations

from http import HTTPStatus

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from portal import uow
from portal.accounts.forms import ConfirmForm
from portal.extensions import db
from portal.models import Supplier, SupplierContact, SupplierRequest
from portal.web import render

from . import blueprint
from .supplier_forms import SupplierContactForm, SupplierForm, split_codes


def _taken(form: SupplierForm, supplier_id: int = 0) -> bool:
    clash = db.session.scalar(select(Supplier).where(
        or_(func.lower(Supplier.name) == form.name.data.strip().lower(),
            func.lower(Supplier.code) == form.code.data.strip().lower()),
        Supplier.id != supplier_id))
    if clash is None:
        return False
    target = form.code if clash.code.lower() == form.code.data.strip().lower() else form.name
    target.errors.append(_("A supplier with this name or code exists already."))
    return True


def _fill(supplier: Supplier, form: SupplierForm) -> None:
    supplier.name = form.name.data.strip()
    supplier.code = form.code.data.strip()
    supplier.locale = form.locale.data
    supplier.product_codes = split_codes(form.product_codes.data)
    supplier.part_numbers = split_codes(form.part_numbers.data)


@blueprint.route("/admin/suppliers", methods=["GET", "POST"])
def admin_suppliers():
    form = SupplierForm()
    if request.method == "POST" and form.validate_on_submit() and not _taken(form):
        supplier = Supplier()
        _fill(supplier, form)
        db.session.add(supplier)
        uow.commit()
        flash(_("Supplier %(name)s created.", name=supplier.name), "success")
        return redirect(url_for("internal.admin_supplier", supplier_id=supplier.id), code=303)
    q = (request.args.get("q") or "").strip()[:100]
    query = select(Supplier).order_by(Supplier.active.desc(), Supplier.name)
    if q:
        like = f"%{q.lower()}%"
        query = query.where(or_(func.lower(Supplier.name).like(like),
                                func.lower(Supplier.code).like(like)))
    suppliers = db.session.scalars(query.limit(300)).all()
    status = HTTPStatus.UNPROCESSABLE_ENTITY if request.method == "POST" else HTTPStatus.OK
    return render("internal/admin/suppliers.html", None, status, suppliers=suppliers,
                  form=form, q=q)


def _edit_form(supplier: Supplier) -> SupplierForm:
    return SupplierForm(formdata=None, data={
        "name": supplier.name, "code": supplier.code, "locale": supplier.locale,
        "product_codes": "\n".join(supplier.product_codes or []),
        "part_numbers": "\n".join(supplier.part_numbers or [])})


@blueprint.route("/admin/suppliers/<int:supplier_id>", methods=["GET", "POST"])
def admin_supplier(supplier_id: int):
    supplier = db.get_or_404(Supplier, supplier_id)
    if request.method == "GET":
        return _supplier_page(supplier, _edit_form(supplier), SupplierContactForm(formdata=None))
    form = SupplierForm()
    if form.validate_on_submit() and not _taken(form, supplier.id):
        _fill(supplier, form)
        uow.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("internal.admin_supplier", supplier_id=supplier.id), code=303)
    return _supplier_page(supplier, form, SupplierContactForm(formdata=None),
                          HTTPStatus.UNPROCESSABLE_ENTITY)


def _supplier_page(supplier, form, contact_form, status=HTTPStatus.OK):
    requests = db.session.scalar(select(func.count()).select_from(SupplierRequest)
                                 .where(SupplierRequest.supplier_id == supplier.id))
    return render("internal/admin/supplier.html", None, status, supplier=supplier, form=form,
                  contact_form=contact_form, requests=requests, action_form=ConfirmForm())


@blueprint.post("/admin/suppliers/<int:supplier_id>/contacts")
def admin_supplier_contact_new(supplier_id: int):
    supplier = db.get_or_404(Supplier, supplier_id)
    form = SupplierContactForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        if any(c.email == email for c in supplier.contacts):
            form.email.errors.append(_("A contact with this e-mail exists already."))
        else:
            contact = SupplierContact(supplier_id=supplier.id, name=form.name.data.strip(),
                                      email=email, phone=(form.phone.data or "").strip() or None,
                                      locale=form.locale.data or None)
            db.session.add(contact)
            uow.commit()
            flash(_("Contact %(name)s added.", name=contact.name), "success")
            return redirect(url_for("internal.admin_supplier", supplier_id=supplier.id),
                            code=303)
    return _supplier_page(supplier, _edit_form(supplier), form, HTTPStatus.UNPROCESSABLE_ENTITY)


@blueprint.post("/admin/suppliers/<int:supplier_id>/deactivate")
def admin_supplier_deactivate(supplier_id: int):
    return _supplier_active(supplier_id, "deactivate")


@blueprint.post("/admin/suppliers/<int:supplier_id>/reactivate")
def admin_supplier_reactivate(supplier_id: int):
    return _supplier_active(supplier_id, "reactivate")


def _supplier_active(supplier_id: int, action: str):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    supplier = db.get_or_404(Supplier, supplier_id)
    supplier.active = action == "reactivate"
    uow.commit()
    flash(_("Supplier %(name)s deactivated: no new requests can be opened to it.",
            name=supplier.name) if not supplier.active else _("Saved."), "success")
    return redirect(url_for("internal.admin_supplier", supplier_id=supplier.id), code=303)


@blueprint.post("/admin/supplier-contacts/<int:supplier_contact_id>/deactivate")
def admin_supplier_contact_deactivate(supplier_contact_id: int):
    return _contact_active(supplier_contact_id, "deactivate")


@blueprint.post("/admin/supplier-contacts/<int:supplier_contact_id>/reactivate")
def admin_supplier_contact_reactivate(supplier_contact_id: int):
    return _contact_active(supplier_contact_id, "reactivate")


def _contact_active(supplier_contact_id: int, action: str):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    contact = db.get_or_404(SupplierContact, supplier_contact_id)
    contact.active = action == "reactivate"
    uow.commit()
    flash(_("Saved."), "success")
    return redirect(url_for("internal.admin_supplier", supplier_id=contact.supplier_id),
                    code=303)
