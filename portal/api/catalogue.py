"""Customers and contacts, product models and shipments through the API. Lists are cursor
pages read in a fixed number of statements; the shipment upsert takes up to 10,000 rows,
checks them with the spreadsheet import's own validator and writes them with its upsert on
(product model, lot): a few statements per call, and the same call twice changes nothing."""

from __future__ import annotations

import re
from contextlib import contextmanager
from http import HTTPStatus

import marshmallow as ma
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .. import imports
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models import Contact, CustomerCompany, ProductModel, Shipment
from . import blueprint, reads, writes
from . import schemas as s
from .complaints import IDEMPOTENCY_HEADER, SECURITY, decode_cursor, encode_cursor
from .problems import abort_problem

INVALID = _l("Some values are missing or invalid: see errors.")


def unique_violation(error: IntegrityError) -> bool:
    orig = error.orig
    return getattr(orig, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(orig)


@contextmanager
def unique_or_409(message):
    """Write the block's changes in a savepoint. The check before it read the committed rows;
    a request racing this one may commit the same name or code in between, and the unique
    constraint then refuses ours: a 409 problem saying ``message``, not a server error."""
    try:
        with db.session.begin_nested():
            yield
    except IntegrityError as error:
        if not unique_violation(error):
            raise
        abort_problem(409, message, code="duplicate")


def _page(statement, model, cursor, limit, newest_first=False):
    after = decode_cursor(cursor)
    if after:
        statement = statement.where(model.id < after if newest_first else model.id > after)
    order = model.id.desc() if newest_first else model.id
    rows = db.session.scalars(statement.order_by(order).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor(rows[-1].id) if more else None)


# -- customers and contacts ------------------------------------------------------------------

def _contact(c: Contact) -> dict:
    return {"id": c.id, "name": c.name, "email": c.email, "phone": c.phone,
            "locale": c.locale, "active": c.active}


def _customers(companies: list[CustomerCompany]) -> list[dict]:
    contacts: dict[int, list[dict]] = {}
    if companies:
        for contact in db.session.scalars(
                select(Contact).where(Contact.company_id.in_([c.id for c in companies]))
                .order_by(Contact.id)):
            contacts.setdefault(contact.company_id, []).append(_contact(contact))
    return [{"id": c.id, "name": c.name, "code": c.code, "key_account": c.key_account,
             "contacts": contacts.get(c.id, [])} for c in companies]


def _customer_or_404(customer_id: int) -> CustomerCompany:
    company = db.session.get(CustomerCompany, customer_id) if customer_id < 2**31 else None
    if company is None:
        abort_problem(404, _l("No customer with this id."), code="not_found")
    return company


@blueprint.route("/customers", methods=["GET"])
@reads
@blueprint.doc(security=SECURITY, summary="List customer companies with their contacts")
@blueprint.arguments(s.ListArgs, location="query", as_kwargs=True,
                     unknown=ma.RAISE)
@blueprint.response(200, s.CustomerPageSchema)
def list_customers(cursor=None, limit=50):
    companies, next_cursor = _page(select(CustomerCompany), CustomerCompany, cursor, limit)
    return {"items": _customers(companies), "next_cursor": next_cursor}


@blueprint.route("/customers/<int:customer_id>", methods=["GET"])
@reads
@blueprint.doc(security=SECURITY, summary="Read a customer company")
@blueprint.response(200, s.CustomerSchema)
def read_customer(customer_id: int):
    return _customers([_customer_or_404(customer_id)])[0]


@blueprint.route("/customers", methods=["POST"])
@writes("catalogue:write")
@blueprint.doc(security=SECURITY, summary="Create a customer company",
               description="Names are unique per tenant, ignoring case. Scope "
                           "`catalogue:write`.", parameters=[IDEMPOTENCY_HEADER])
@blueprint.arguments(s.CustomerCreateSchema)
@blueprint.response(201, s.CustomerSchema)
def create_customer(body: dict):
    name = body["name"].strip()
    if not name:
        abort_problem(422, INVALID, code="invalid",
                      errors={"json": {"name": [str(_l("This field is required."))]}})
    taken = _l("A customer with this name exists already.")
    if db.session.scalar(select(CustomerCompany.id).where(
            func.lower(CustomerCompany.name) == name.lower())) is not None:
        abort_problem(409, taken, code="duplicate")
    company = CustomerCompany(name=name, code=(body.get("code") or "").strip() or None,
                              key_account=body["key_account"])
    with unique_or_409(taken):
        db.session.add(company)
    return _customers([company])[0], HTTPStatus.CREATED


@blueprint.route("/customers/<int:customer_id>/contacts", methods=["POST"])
@writes("catalogue:write")
@blueprint.doc(security=SECURITY, summary="Add a contact to a customer company",
               description="E-mail addresses are unique per tenant. No invitation is sent; "
                           "the admin invites from the workspace. Scope `catalogue:write`.",
               parameters=[IDEMPOTENCY_HEADER])
@blueprint.arguments(s.ContactCreateSchema)
@blueprint.response(201, s.ContactSchema)
def create_contact(body: dict, customer_id: int):
    company = _customer_or_404(customer_id)
    email = body["email"].strip().lower()
    taken = _l("A contact with this e-mail exists already.")
    if db.session.scalar(select(Contact.id).where(func.lower(Contact.email) == email)):
        abort_problem(409, taken, code="duplicate")
    name = body["name"].strip()
    if not name:
        abort_problem(422, INVALID, code="invalid",
                      errors={"json": {"name": [str(_l("This field is required."))]}})
    contact = Contact(company_id=company.id, name=name, email=email,
                      phone=(body.get("phone") or "").strip() or None, locale=body.get("locale"))
    with unique_or_409(taken):
        db.session.add(contact)
    return _contact(contact), HTTPStatus.CREATED


# -- product models --------------------------------------------------------------------------

def _product(p: ProductModel) -> dict:
    return {"id": p.id, "code": p.code, "name_zh": p.name_zh, "name_en": p.name_en,
            "specification": p.specification, "product_line": p.product_line,
            "serial_pattern": p.serial_pattern, "active": p.active}


@blueprint.route("/product-models", methods=["GET"])
@reads
@blueprint.doc(security=SECURITY, summary="List product models")
@blueprint.arguments(s.ListArgs, location="query", as_kwargs=True,
                     unknown=ma.RAISE)
@blueprint.response(200, s.ProductPageSchema)
def list_products(cursor=None, limit=50):
    products, next_cursor = _page(select(ProductModel), ProductModel, cursor, limit)
    return {"items": [_product(p) for p in products], "next_cursor": next_cursor}


@blueprint.route("/product-models", methods=["POST"])
@writes("catalogue:write")
@blueprint.doc(security=SECURITY, summary="Create a product model",
               description="Codes are unique per tenant, ignoring case; `serial_pattern` is a "
                           "regular expression. Scope `catalogue:write`.",
               parameters=[IDEMPOTENCY_HEADER])
@blueprint.arguments(s.ProductCreateSchema)
@blueprint.response(201, s.ProductSchema)
def create_product(body: dict):
    values = {k: (v.strip() if isinstance(v, str) else v) or None for k, v in body.items()}
    errors = {name: [str(_l("This field is required."))]
              for name in ("code", "name_zh", "name_en") if not values.get(name)}
    if values.get("serial_pattern"):
        try:
            re.compile(values["serial_pattern"])
        except re.error:
            errors["serial_pattern"] = [str(_l("Not a valid regular expression."))]
    if errors:
        abort_problem(422, INVALID, code="invalid", errors={"json": errors})
    taken = _l("Another model has this code.")
    if db.session.scalar(select(ProductModel.id).where(
            func.upper(ProductModel.code) == values["code"].upper())) is not None:
        abort_problem(409, taken, code="duplicate")
    product = ProductModel(**values)
    with unique_or_409(taken):
        db.session.add(product)
    return _product(product), HTTPStatus.CREATED


# -- shipments -------------------------------------------------------------------------------

@blueprint.route("/shipments", methods=["GET"])
@reads
@blueprint.doc(security=SECURITY, summary="List shipments")
@blueprint.arguments(s.ListArgs, location="query", as_kwargs=True,
                     unknown=ma.RAISE)
@blueprint.response(200, s.ShipmentPageSchema)
def list_shipments(cursor=None, limit=50):
    after = decode_cursor(cursor)
    statement = (select(Shipment, ProductModel.code, CustomerCompany.name)
                 .join(ProductModel, ProductModel.id == Shipment.product_model_id)
                 .outerjoin(CustomerCompany, CustomerCompany.id == Shipment.customer_company_id)
                 .order_by(Shipment.id).limit(limit + 1))
    if after:
        statement = statement.where(Shipment.id > after)
    rows = db.session.execute(statement).all()
    more = len(rows) > limit
    rows = rows[:limit]
    items = [{"id": sh.id, "product_model": code, "lot": sh.lot, "quantity": sh.quantity,
              "shipped_on": sh.shipped_on, "customer": customer,
              "serial_first": sh.serial_first, "serial_last": sh.serial_last,
              "serials": sh.serials, "installed_on": sh.installed_on}
             for sh, code, customer in rows]
    return {"items": items, "next_cursor": encode_cursor(rows[-1][0].id) if more else None}


HEADER = ["model", "lot", "quantity", "shipped_on", "customer", "serial_first", "serial_last",
          "serials", "installed_on"]


@blueprint.route("/shipments/upsert", methods=["POST"])
@writes("catalogue:write")
@blueprint.doc(security=SECURITY, summary="Insert or update shipments in bulk (ERP sync)",
               description="Up to 10,000 rows, keyed by (product model code, lot): a row "
                           "that exists is updated, others are inserted; all or nothing. The "
                           "rows are checked like a spreadsheet import (model and customer "
                           "known, serial format, ranges, no key twice). Scope "
                           "`catalogue:write`.", parameters=[IDEMPOTENCY_HEADER])
@blueprint.arguments(s.ShipmentUpsertSchema)
@blueprint.response(200, s.UpsertResultSchema)
def upsert_shipments(body: dict):
    rows = ((number, [r["product_model"], r["lot"], r["quantity"], r["shipped_on"],
                      r.get("customer"), r.get("serial_first"), r.get("serial_last"),
                      "\n".join(r.get("serials") or []), r.get("installed_on")])
            for number, r in enumerate(body["rows"]))
    models, customers = imports.catalogue_maps()
    checked = imports.validate_shipments(
        HEADER, rows, models=models, customers=customers,
        default_pattern=imports.current_tenant_setting("serial_pattern"))
    if checked.problem_count:
        problems = [{"row": p["row"], "field": _field(p["column"]), "code": p["code"],
                     "message": imports.problem_message(p)} for p in checked.problems]
        abort_problem(422, _l("%(count)d problems in the rows: nothing was written.",
                              count=checked.problem_count), code="invalid_rows",
                      errors={"rows": problems})
    created, updated = imports.upsert_shipments(checked.rows)
    return {"created": created, "updated": updated}


def _field(column: str) -> str:
    return {"model": "product_model"}.get(column, column)
