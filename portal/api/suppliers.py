"""Suppliers, their contacts and supplier corrective action requests through the API, checked
as the admin's supplier pages check them (``internal/admin_suppliers.py``): name and code
required, no other supplier with the same name or code (ignoring case), codes in the
form's format, a contact's e-mail once per supplier. Lists are cursor pages read in a fixed
number of statements; requests are read-only (for BI tools)."""

from __future__ import annotations

from http import HTTPStatus

import marshmallow as ma
from sqlalchemy import func, or_, select

from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models import Complaint, Supplier, SupplierContact, SupplierRequest
from . import blueprint, reads, writes
from . import supplier_schemas as s
from .catalogue import INVALID, _contact, _page, unique_or_409
from .complaints import IDEMPOTENCY_HEADER, SECURITY, decode_cursor, encode_cursor
from .problems import abort_problem

WRITE = "Scope `catalogue:write`."
TAKEN = _l("A supplier with this name or code exists already.")


def _suppliers(suppliers: list[Supplier]) -> list[dict]:
    """The suppliers as the API shows them, their contacts read in one statement."""
    contacts: dict[int, list[dict]] = {}
    if suppliers:
        for contact in db.session.scalars(
                select(SupplierContact)
                .where(SupplierContact.supplier_id.in_([x.id for x in suppliers]))
                .order_by(SupplierContact.id)):
            contacts.setdefault(contact.supplier_id, []).append(_contact(contact))
    return [{"id": x.id, "name": x.name, "code": x.code, "locale": x.locale,
             "product_codes": x.product_codes or [], "part_numbers": x.part_numbers or [],
             "active": x.active, "contacts": contacts.get(x.id, [])} for x in suppliers]


def _supplier_or_404(supplier_id: int) -> Supplier:
    supplier = db.session.get(Supplier, supplier_id) if supplier_id < 2**31 else None
    if supplier is None:
        abort_problem(404, _l("No supplier with this id."), code="not_found")
    return supplier


def _required(values: dict, names) -> None:
    """Text fields that are only blanks are missing, as the admin form's DataRequired."""
    errors = {n: [str(_l("This field is required."))] for n in names
              if n in values and not values[n]}
    if errors:
        abort_problem(422, INVALID, code="invalid", errors={"json": errors})


def _refuse_taken(name: str, code: str, supplier_id: int = 0) -> None:
    clash = db.session.scalar(select(Supplier.id).where(
        or_(func.lower(Supplier.name) == name.lower(), func.lower(Supplier.code) == code.lower()),
        Supplier.id != supplier_id).limit(1))
    if clash is not None:
        abort_problem(409, TAKEN, code="duplicate")


def _clean(body: dict) -> dict:
    values = {k: v.strip() if isinstance(v, str) else v for k, v in body.items()}
    for key in ("product_codes", "part_numbers"):
        if key in values:  # as split_codes: trimmed, blanks and repeats dropped, order kept
            values[key] = list(dict.fromkeys(c.strip() for c in values[key] if c.strip()))
    return values


@blueprint.route("/suppliers", methods=["GET"])
@reads
@blueprint.doc(security=SECURITY, summary="List suppliers with their contacts",
               description="`q` finds a part of the name or code; `active` keeps active "
                           "(true) or deactivated (false) suppliers. Scope `read`.")
@blueprint.arguments(s.SupplierListArgs, location="query", as_kwargs=True, unknown=ma.RAISE)
@blueprint.response(200, s.SupplierPageSchema)
def list_suppliers(cursor=None, limit=50, q=None, active=None):
    statement = select(Supplier)
    q = (q or "").strip().lower()
    if q:
        statement = statement.where(or_(func.lower(Supplier.name).contains(q, autoescape=True),
                                        func.lower(Supplier.code).contains(q, autoescape=True)))
    if active is not None:
        statement = statement.where(Supplier.active.is_(active))
    suppliers, next_cursor = _page(statement, Supplier, cursor, limit)
    return {"items": _suppliers(suppliers), "next_cursor": next_cursor}


@blueprint.route("/suppliers/<int:supplier_id>", methods=["GET"])
@reads
@blueprint.doc(security=SECURITY, summary="Read a supplier with its contacts")
@blueprint.response(200, s.SupplierSchema)
def read_supplier(supplier_id: int):
    return _suppliers([_supplier_or_404(supplier_id)])[0]


@blueprint.route("/suppliers", methods=["POST"])
@writes("catalogue:write")
@blueprint.doc(security=SECURITY, summary="Create a supplier",
               description="Name and code are each unique per tenant, ignoring case. " + WRITE,
               parameters=[IDEMPOTENCY_HEADER])
@blueprint.arguments(s.SupplierCreateSchema)
@blueprint.response(201, s.SupplierSchema)
def create_supplier(body: dict):
    values = _clean(body)
    _required(values, ("name",))
    _refuse_taken(values["name"], values["code"])
    supplier = Supplier(active=True, **values)
    with unique_or_409(TAKEN):
        db.session.add(supplier)
    return _suppliers([supplier])[0], HTTPStatus.CREATED


@blueprint.route("/suppliers/<int:supplier_id>", methods=["PATCH"])
@writes("catalogue:write")
@blueprint.doc(security=SECURITY, summary="Change a supplier, or deactivate it",
               description="Only the fields sent change. `active: false` deactivates it (no "
                           "new requests can be opened to it; its history stays). " + WRITE,
               parameters=[IDEMPOTENCY_HEADER])
@blueprint.arguments(s.SupplierUpdateSchema)
@blueprint.response(200, s.SupplierSchema)
def update_supplier(body: dict, supplier_id: int):
    supplier = _supplier_or_404(supplier_id)
    values = _clean(body)
    _required(values, ("name",))
    if "name" in values or "code" in values:
        _refuse_taken(values.get("name", supplier.name), values.get("code", supplier.code),
                      supplier.id)
    with unique_or_409(TAKEN):
        for key, value in values.items():
            setattr(supplier, key, value)
    return _suppliers([supplier])[0]


@blueprint.route("/suppliers/<int:supplier_id>/contacts", methods=["POST"])
@writes("catalogue:write")
@blueprint.doc(security=SECURITY, summary="Add a contact to a supplier",
               description="An e-mail address once per supplier. " + WRITE,
               parameters=[IDEMPOTENCY_HEADER])
@blueprint.arguments(s.SupplierContactCreateSchema)
@blueprint.response(201, s.ContactSchema)
def create_supplier_contact(body: dict, supplier_id: int):
    supplier = _supplier_or_404(supplier_id)
    values = _clean(body)
    _required(values, ("name",))
    email = values["email"].lower()
    if db.session.scalar(select(SupplierContact.id).where(
            SupplierContact.supplier_id == supplier.id,
            func.lower(SupplierContact.email) == email).limit(1)) is not None:
        abort_problem(409, _l("A contact with this e-mail exists already."), code="duplicate")
    contact = SupplierContact(supplier_id=supplier.id, name=values["name"], email=email,
                              phone=values.get("phone") or None,
                              locale=values.get("locale") or None, active=True)
    db.session.add(contact)
    db.session.flush()
    return _contact(contact), HTTPStatus.CREATED


@blueprint.route("/supplier-requests", methods=["GET"])
@reads
@blueprint.doc(security=SECURITY, summary="List supplier corrective action requests",
               description="Read-only, for reporting: oldest first, optionally of one "
                           "`state`. Scope `read`.")
@blueprint.arguments(s.SupplierRequestListArgs, location="query", as_kwargs=True,
                     unknown=ma.RAISE)
@blueprint.response(200, s.SupplierRequestPageSchema)
def list_supplier_requests(cursor=None, limit=50, state=None):
    after = decode_cursor(cursor)
    statement = (select(SupplierRequest, Complaint.number, Supplier.name, Supplier.code)
                 .join(Complaint, Complaint.id == SupplierRequest.complaint_id)
                 .join(Supplier, Supplier.id == SupplierRequest.supplier_id)
                 .order_by(SupplierRequest.id).limit(limit + 1))
    if after:
        statement = statement.where(SupplierRequest.id > after)
    if state:
        statement = statement.where(SupplierRequest.state == state)
    rows = db.session.execute(statement).all()
    more = len(rows) > limit
    rows = rows[:limit]
    items = [{"id": r.id, "number": r.number, "complaint_number": complaint,
              "supplier_id": r.supplier_id, "supplier": name, "supplier_code": code,
              "part_number": r.part_number, "defective_quantity": r.defective_quantity,
              "state": r.state, "created_at": r.created_at, "due_at": r.due_at,
              "answered_at": r.answered_at, "decided_at": r.decided_at}
             for r, complaint, name, code in rows]
    return {"items": items, "next_cursor": encode_cursor(rows[-1][0].id) if more else None}
