"""Tenant administration of the catalogue: product models, shipments, spreadsheet imports
(shipments and customers: upload, preview with every row's problems, write all or nothing,
progress), the downloadable templates, and the shipment export."""

from __future__ import annotations

from http import HTTPStatus

from flask import Response, abort, flash, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from portal import imports, uow
from portal.accounts.forms import ConfirmForm
from portal.complaints import serials as serial_rules
from portal.complaints.vocabulary import IMPORT_STATE_LABELS
from portal.extensions import db
from portal.models import CustomerCompany, ImportRun, ProductModel, Shipment
from portal.queueing import enqueue
from portal.suppliers import warranty
from portal.tenancy import current_tenant
from portal.web import render

from . import blueprint
from .admin_forms import ImportForm, ProductForm, ShipmentForm, opts

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# -- product models ------------------------------------------------------------------------

def _code_taken(code: str, product_id: int | None = None) -> bool:
    return db.session.scalar(select(ProductModel.id).where(
        func.upper(ProductModel.code) == code.strip().upper(),
        ProductModel.id != (product_id or 0))) is not None


def _save_product(product: ProductModel, form: ProductForm) -> bool:
    if _code_taken(form.code.data, product.id):
        form.code.errors.append(_("Another model has this code."))
        return False
    product.code = form.code.data.strip()
    product.name_zh = form.name_zh.data.strip()
    product.name_en = form.name_en.data.strip()
    product.specification = (form.specification.data or "").strip() or None
    product.product_line = (form.product_line.data or "").strip() or None
    product.serial_pattern = (form.serial_pattern.data or "").strip() or None
    changed = (product.warranty_months, product.warranty_basis) != \
        (form.warranty_months.data, form.warranty_basis.data)
    product.warranty_months = form.warranty_months.data
    product.warranty_basis = form.warranty_basis.data
    product.active = form.active.data
    if changed and product.id is not None:
        db.session.flush()
        warranty.refresh_for_models([product.id])
    return True


@blueprint.route("/admin/products", methods=["GET", "POST"])
def admin_products():
    form = ProductForm()
    if request.method == "POST":
        product = ProductModel()
        if form.validate_on_submit() and _save_product(product, form):
            db.session.add(product)
            uow.commit()
            flash(_("Product model %(code)s created.", code=product.code), "success")
            return redirect(url_for("internal.admin_products"), code=303)
    products = db.session.scalars(select(ProductModel).order_by(ProductModel.code)).all()
    shipped = {mid: (n, qty) for mid, n, qty in db.session.execute(
        select(Shipment.product_model_id, func.count(), func.sum(Shipment.quantity))
        .group_by(Shipment.product_model_id))}
    return render("internal/admin/products.html", None, HTTPStatus(422 if request.method == "POST" else 200), products=products, shipped=shipped,
                  form=form)


@blueprint.route("/admin/products/<int:product_id>", methods=["GET", "POST"])
def admin_product(product_id: int):
    product = db.get_or_404(ProductModel, product_id)
    form = ProductForm(obj=product if request.method == "GET" else None)
    if form.validate_on_submit() and _save_product(product, form):
        uow.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("internal.admin_products"), code=303)
    return render("internal/admin/product.html", None, HTTPStatus(422 if request.method == "POST" else 200), product=product, form=form)


# -- shipments -----------------------------------------------------------------------------

def _shipment_form() -> ShipmentForm:
    form = ShipmentForm()
    form.product_model_id.choices = opts(
        (p.id, f"{p.code} · {p.display_name(get_locale())}")
        for p in db.session.scalars(select(ProductModel).order_by(ProductModel.code)))
    form.customer_company_id.choices = opts([(0, _("— none —"))] + [
        (c.id, c.name) for c in db.session.scalars(
            select(CustomerCompany).order_by(CustomerCompany.name).limit(2000))])
    return form


def _check_shipment(form: ShipmentForm) -> dict | None:
    """The same rules as an import row, with messages beside the fields."""
    product = db.session.get(ProductModel, form.product_model_id.data)
    first, last = (form.serial_first.data or "").strip(), (form.serial_last.data or "").strip()
    listed = serial_rules.split(form.serials.data)
    ok = True
    if bool(first) != bool(last):
        form.serial_last.errors.append(_("Give both the first and the last serial number."))
        ok = False
    elif first and serial_rules.range_size(first, last) is None:
        form.serial_last.errors.append(_("The range is not valid (same prefix, last after "
                                         "first)."))
        ok = False
    pattern = serial_rules.pattern_for(current_tenant, product)
    bad = [s for s in ([first, last] if first and last else []) + listed
           if not serial_rules.has_format(pattern, s)]
    if bad:
        form.serials.errors.append(_("Serial number “%(value)s” does not match the "
                                     "model's format.", value=bad[0][:60]))
        ok = False
    if form.installed_on.data and form.installed_on.data < form.shipped_on.data:
        form.installed_on.errors.append(_("The installation cannot come before the shipment."))
        ok = False
    lot = form.lot.data.strip()
    if db.session.scalar(select(Shipment.id).where(
            Shipment.product_model_id == form.product_model_id.data, Shipment.lot == lot)):
        form.lot.errors.append(_("This model already has a shipment with this lot."))
        ok = False
    if not ok:
        return None
    return {"product_model_id": form.product_model_id.data, "lot": lot,
            "quantity": form.quantity.data, "shipped_on": form.shipped_on.data,
            "customer_company_id": form.customer_company_id.data or None,
            "serial_first": first or None, "serial_last": last or None,
            "serials": listed or None, "installed_on": form.installed_on.data}


@blueprint.route("/admin/shipments", methods=["GET", "POST"])
def admin_shipments():
    form = _shipment_form()
    if request.method == "POST" and form.validate_on_submit():
        values = _check_shipment(form)
        if values is not None:
            db.session.add(Shipment(**values))
            uow.commit()
            flash(_("Shipment %(lot)s saved.", lot=values["lot"]), "success")
            return redirect(url_for("internal.admin_shipments"), code=303)
    model_id = request.args.get("model", type=int)
    query = select(Shipment).order_by(Shipment.shipped_on.desc(), Shipment.id.desc())
    if model_id:
        query = query.where(Shipment.product_model_id == model_id)
    shipments = db.session.scalars(query.limit(200)).all()
    total = db.session.scalar(select(func.count()).select_from(Shipment))
    customers = dict(db.session.execute(select(CustomerCompany.id, CustomerCompany.name)
                                        .where(CustomerCompany.id.in_(
                                            {s.customer_company_id for s in shipments
                                             if s.customer_company_id}))).all())
    return render("internal/admin/shipments.html", None, HTTPStatus(422 if request.method == "POST" else 200), shipments=shipments, total=total,
                  customers=customers, form=form)


@blueprint.get("/admin/shipments/export.<any(xlsx, csv):fmt>")
def admin_shipments_export(fmt: str):
    headers = imports.template_headers("shipments", str(get_locale()))
    headers = [h.rstrip(" *") for h in headers]
    rows = imports.shipment_export_rows()
    if fmt == "xlsx":
        data, mimetype = imports.workbook_bytes(headers, rows), XLSX_TYPE
    else:
        data, mimetype = imports.csv_bytes(headers, rows), "text/csv; charset=utf-8"
    return Response(data, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="shipments.{fmt}"'})


# -- imports -------------------------------------------------------------------------------

@blueprint.get("/admin/import/<any(shipments, customers, suppliers, deliveries):kind>/template.<any(xlsx, csv):fmt>")
def admin_import_template(kind: str, fmt: str):
    lang = request.args.get("lang") or str(get_locale())
    lang = "en" if lang.startswith("en") else "zh_CN"
    data = imports.template_file(kind, lang, fmt)
    mimetype = XLSX_TYPE if fmt == "xlsx" else "text/csv; charset=utf-8"
    return Response(data, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{kind}-template-{lang}.{fmt}"'})


@blueprint.route("/admin/import/<any(shipments, customers, suppliers, deliveries):kind>", methods=["GET", "POST"])
def admin_import(kind: str):
    form = ImportForm()
    if request.method == "POST" and form.validate_on_submit():
        upload = request.files.get("file")
        data = upload.stream.read(imports.MAX_UPLOAD_BYTES + 1) if upload else b""
        try:
            run = imports.start_run(kind, upload.filename if upload else "", data, current_user)
        except imports.ImportFileError as exc:
            form.file.errors = [str(exc)]
        else:
            enqueue("jobs.imports.preview", run.id, queue="default",
                    job_id=f"import-preview-{run.tenant_id}-{run.id}")
            uow.commit()
            return redirect(url_for("internal.admin_import_run", run_id=run.id), code=303)
    runs = db.session.scalars(select(ImportRun).where(ImportRun.kind == kind)
                              .order_by(ImportRun.id.desc()).limit(10)).all()
    return render("internal/admin/import.html", None,
                  HTTPStatus(422 if request.method == "POST" else 200), kind=kind, form=form,
                  runs=runs, import_states=IMPORT_STATE_LABELS)


def _run_context(run: ImportRun) -> dict:
    locale = str(get_locale())
    return {"run": run, "form": ConfirmForm(), "problem_message": imports.problem_message,
            "column_label": lambda name: imports.column_label(run.kind, name, locale)}


@blueprint.get("/admin/imports/<int:run_id>")
def admin_import_run(run_id: int):
    run = db.get_or_404(ImportRun, run_id)
    return render("internal/admin/import_run.html", "internal/admin/_import_run.html",
                  **_run_context(run))


@blueprint.post("/admin/imports/<int:run_id>/apply")
def admin_import_apply(run_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    run = db.get_or_404(ImportRun, run_id)
    if run.status != "previewed" or run.problem_count:
        flash(_("This import cannot be written: correct the file and upload it again."),
              "error")
        return redirect(url_for("internal.admin_import_run", run_id=run.id), code=303)
    run.status = "queued"
    enqueue("jobs.imports.apply", run.id, queue="default",
            job_id=f"import-apply-{run.tenant_id}-{run.id}")
    uow.commit()
    return redirect(url_for("internal.admin_import_run", run_id=run.id), code=303)
