"""Complaints through the API: list (the queue's filters, cursor pages), file, read with its
timeline, the transitions open now, perform one, photos and costs. Every write calls the
operation the web pages call (``casework.file_complaint``, ``workflow.transition``,
``photos.accept_upload``, ``costs.add_cost``)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import replace
from decimal import Decimal
from http import HTTPStatus

import marshmallow as ma
from flask import g, request, url_for
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from ..complaints import audience, casework, queue, workflow
from ..complaints.costs import add_cost
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models import (
    Complaint,
    CostEntry,
    CustomerCompany,
    Department,
    Photo,
    ProductModel,
    SerialNumber,
    StaffUser,
    TimelineEvent,
)
from ..photos import PhotoRefused, accept_upload
from ..tenancy import current_tenant
from . import actor, blueprint, reads, writes
from . import schemas as s
from .problems import abort_problem

SECURITY = [{"bearer": []}]
IDEMPOTENCY_HEADER = {"in": "header", "name": "Idempotency-Key", "required": False,
                      "schema": {"type": "string", "minLength": 1, "maxLength": 200,
                                 "pattern": "^[\\x21-\\x7e]+$"},
                      "description": "Retry safely: the same key and body get the first "
                                     "response again."}


# -- cursors ---------------------------------------------------------------------------------

def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"i{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """The id a page continues after; a malformed cursor is a 400 problem."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        value = int(raw[1:]) if raw.startswith("i") else 0
    except (binascii.Error, UnicodeDecodeError, ValueError):
        value = 0
    if not 0 < value < 2**31:
        abort_problem(400, _l("The cursor is not one this API gave."), code="bad_cursor")
    return value


# -- reading ---------------------------------------------------------------------------------

@blueprint.route("/complaints", methods=["GET"])
@reads
@blueprint.doc(security=SECURITY, summary="List complaints",
               description="The staff queue's filters; newest first; scope `read`. "
                           "A fixed number of statements per page.")
@blueprint.arguments(s.ComplaintListArgs, location="query", as_kwargs=True,
                     unknown=ma.RAISE)
@blueprint.response(200, s.ComplaintPageSchema)
def list_complaints(cursor=None, limit=50, **filters):
    after = decode_cursor(cursor)
    args = MultiDict()
    for name, value in filters.items():
        key = {"info_class": "class", "date_from": "from", "date_to": "to"}.get(name, name)
        for item in value if isinstance(value, list) else [value]:
            args.add(key, item.isoformat() if hasattr(item, "isoformat") else
                     ("1" if item is True else "" if item is False else str(item)))
    query = replace(queue.QueueQuery.from_args(args), view=filters.get("view", "all"),
                    sort="newest", page=1, per_page=limit + 1)
    where = queue.conditions(query, actor())
    if after:
        where.append(Complaint.id < after)
    statement = (queue.row_statement(query, actor(), where).order_by(None)
                 .order_by(Complaint.id.desc()))
    rows = db.session.execute(statement).all()
    more = len(rows) > limit
    rows = rows[:limit]
    serials: dict[int, list[str]] = {}
    if rows:
        for complaint_id, value in db.session.execute(
                select(SerialNumber.complaint_id, SerialNumber.value)
                .where(SerialNumber.complaint_id.in_([r.id for r in rows]))
                .order_by(SerialNumber.id)):
            serials.setdefault(complaint_id, []).append(value)
    items = [{
        "number": r.number, "title": r.title, "status": r.status, "severity": r.severity,
        "info_class": r.info_class, "source": r.source, "defect_quantity": r.defect_quantity,
        "reporter_name": r.reporter_name, "customer": r.company_name,
        "product_model": r.product_code, "department": r.department_name,
        "owner": r.owner_name, "created_at": r.created_at,
        "status_changed_at": r.status_changed_at, "serial_numbers": serials.get(r.id, []),
    } for r in rows]
    return {"items": items, "next_cursor": encode_cursor(rows[-1].id) if more else None}


def complaint_or_404(number: str) -> Complaint:
    complaint = None if "\x00" in number else db.session.scalar(
        select(Complaint).where(Complaint.number == number[:30]))
    if complaint is None:
        abort_problem(404, _l("No complaint with this number."), code="not_found")
    return complaint


def complaint_body(complaint: Complaint) -> dict:
    """The complaint with its timeline: the full one for a token with ``read``, else only
    what the customer sees."""
    full = g.api_token.allows("read")
    events = select(TimelineEvent).where(TimelineEvent.complaint_id == complaint.id)
    if not full:
        events = events.where(TimelineEvent.customer_visible.is_(True))
    owner = StaffUser.__table__.alias("owner")
    names = db.session.execute(
        select(CustomerCompany.name, ProductModel.code, Department.name, owner.c.name)
        .select_from(Complaint)
        .outerjoin(CustomerCompany, CustomerCompany.id == Complaint.customer_company_id)
        .outerjoin(ProductModel, ProductModel.id == Complaint.product_model_id)
        .outerjoin(Department, Department.id == Complaint.responsible_department_id)
        .outerjoin(owner, (owner.c.id == Complaint.owner_id)
                   & (owner.c.tenant_id == Complaint.tenant_id))
        .where(Complaint.id == complaint.id)).one()
    photos = db.session.scalars(select(Photo).where(Photo.complaint_id == complaint.id)
                                .order_by(Photo.id)).all()
    return {
        "number": complaint.number, "title": complaint.title, "status": complaint.status,
        "version": complaint.version, "severity": complaint.severity,
        "info_class": complaint.info_class, "source": complaint.source,
        "channel": complaint.channel, "defect_quantity": complaint.defect_quantity,
        "reporter_name": complaint.reporter_name, "customer": names[0],
        "product_model": names[1], "department": names[2], "owner": names[3],
        "description": complaint.description, "lot": complaint.lot,
        "shipped_on": complaint.shipped_on, "demands": list(complaint.demands or []),
        "cause_category": complaint.cause_category, "answer": complaint.answer,
        "created_at": complaint.created_at, "status_changed_at": complaint.status_changed_at,
        "closed_at": complaint.closed_at,
        "serial_numbers": [sn.value for sn in db.session.scalars(
            select(SerialNumber).where(SerialNumber.complaint_id == complaint.id)
            .order_by(SerialNumber.id))],
        "timeline_scope": "full" if full else "customer",
        "timeline": [{"kind": e.kind, "actor": e.actor_name,
                      "message": e.message if full else audience.customer_text(e),
                      "from_status": e.from_status, "to_status": e.to_status,
                      "customer_visible": e.customer_visible, "at": e.created_at}
                     for e in db.session.scalars(events.order_by(TimelineEvent.id))],
        "photos": [{"id": p.id, "state": p.status, "filename": p.original_filename}
                   for p in photos if full or p.customer_visible],
    }


def _read_complaint_scope():
    if not (g.api_token.allows("read") or g.api_token.allows("complaints:write")):
        abort_problem(403, _l("The token needs the scope %(scope)s.", scope="read"),
                      code="scope")


@blueprint.route("/complaints/<string:number>", methods=["GET"])
@blueprint.doc(security=SECURITY, summary="Read a complaint",
               description="With scope `read` the full timeline; a token with only "
                           "`complaints:write` sees what the customer sees.")
@blueprint.response(200, s.ComplaintSchema)
def read_complaint(number: str):
    _read_complaint_scope()
    return complaint_body(complaint_or_404(number))


def _transition_rows(complaint: Complaint) -> list[dict]:
    rows = []
    for t in workflow.available(complaint, actor()):
        blocked = next((str(p) for p in (guard(complaint) for guard in t.guards) if p), None)
        rows.append({"name": t.name, "target": t.target, "label": str(t.label),
                     "needs_message": t.needs_message, "blocked_by": blocked})
    return rows


@blueprint.route("/complaints/<string:number>/transitions", methods=["GET"])
@blueprint.doc(security=SECURITY, summary="Transitions the token's user may make now")
@blueprint.response(200, s.TransitionListSchema)
def list_transitions(number: str):
    _read_complaint_scope()
    complaint = complaint_or_404(number)
    return {"status": complaint.status, "version": complaint.version,
            "transitions": _transition_rows(complaint)}


# -- writing ---------------------------------------------------------------------------------

@blueprint.route("/complaints", methods=["POST"])
@writes("complaints:write")
@blueprint.doc(security=SECURITY, summary="File a complaint",
               description="As staff filing on a customer's behalf (`source: staff`, needs "
                           "`customer_id` and serial numbers) or a production exception "
                           "(`source: production`). Scope `complaints:write`.",
               parameters=[IDEMPOTENCY_HEADER])
@blueprint.arguments(s.ComplaintCreateSchema)
@blueprint.response(201, s.ComplaintSchema)
def create_complaint(body: dict):
    production = body["source"] == "production"
    company = None
    errors = {}
    if body.get("customer_id"):
        company = db.session.get(CustomerCompany, body["customer_id"])
        if company is None:
            errors["customer_id"] = [str(_l("No customer with this id."))]
    elif not production:
        errors["customer_id"] = [str(_l("Choose the customer."))]
    product = db.session.scalar(select(ProductModel).where(
        func.upper(ProductModel.code) == body["product_model"].strip().upper()))
    if product is None:
        errors["product_model"] = [str(_l("No product model with this code."))]
    serials = list(dict.fromkeys(v.strip().upper() for v in body["serial_numbers"]))
    if not production and not serials:
        errors["serial_numbers"] = [str(_l("Give at least one serial number."))]
    if not (body.get("lot") or "").strip() and not body.get("shipped_on"):
        errors["lot"] = [str(_l("Give the shipping date or the lot."))]
    if errors:
        abort_problem(422, _l("Some values are missing or invalid: see errors."),
                      code="invalid", errors={"json": errors})
    allowed = ("incoming", "in_process", "outgoing") if production else ("phone", "email", "visit")
    if body["channel"] not in allowed:
        abort_problem(422, _l("Some values are missing or invalid: see errors."), code="invalid",
                      errors={"json": {"channel": [f"{_l('Invalid value.')} ({', '.join(allowed)})"]}})
    data = {
        "source": body["source"], "channel": body["channel"],
        "reporter_name": body["reporter_name"].strip(),
        "reporter_phone": body.get("reporter_phone") or None,
        "reporter_email": body.get("reporter_email") or None,
        "reporter_company": company.name if company else None,
        "customer_company_id": company.id if company else None,
        "product_model_id": product.id, "specification": body.get("specification") or None,
        "shipped_on": body.get("shipped_on"), "lot": (body.get("lot") or "").strip() or None,
        "defect_quantity": body["defect_quantity"], "title": body["title"].strip(),
        "description": body["description"].strip(), "demands": body["demands"] or ["answer"],
    }
    if not data["title"] or not data["description"] or not data["reporter_name"]:
        abort_problem(422, _l("Some values are missing or invalid: see errors."), code="invalid")
    complaint, _created = casework.file_complaint(current_tenant, actor(), data=data,
                                                  serials=serials)
    return complaint_body(complaint), HTTPStatus.CREATED, {
        "Location": url_for("api.read_complaint", number=complaint.number)}


@blueprint.route("/complaints/<string:number>/transitions", methods=["POST"])
@writes("complaints:write")
@blueprint.doc(security=SECURITY, summary="Perform a transition",
               description="Through the one workflow: the token's user's roles, the guards and "
                           "the message a step needs. Scope `complaints:write`.",
               parameters=[IDEMPOTENCY_HEADER])
@blueprint.arguments(s.TransitionRequestSchema)
@blueprint.response(200, s.ComplaintSchema)
def perform_transition(body: dict, number: str):
    complaint = complaint_or_404(number)
    if body.get("version") is not None:
        casework.transition(complaint, actor(), body["name"], body.get("message"),
                            body["version"])
    else:
        workflow.transition(complaint, actor(), body["name"], body.get("message"))
        db.session.flush()
    return complaint_body(complaint)


@blueprint.route("/complaints/<string:number>/photos", methods=["POST"])
@writes("complaints:write")
@blueprint.doc(security=SECURITY, summary="Add a photo",
               description="multipart/form-data with one `file` (JPEG, PNG, WebP, HEIC); checked "
                           "and processed like the portal's. Scope `complaints:write`.",
               parameters=[IDEMPOTENCY_HEADER],
               requestBody={"required": True, "content": {"multipart/form-data": {"schema": {
                   "type": "object", "required": ["file"],
                   "properties": {"file": {"type": "string", "format": "binary"}}}}}})
@blueprint.response(201, s.PhotoSchema)
def add_photo(number: str):
    complaint = complaint_or_404(number)
    upload = request.files.get("file")
    if upload is None:
        abort_problem(422, _l("Send the photo as the multipart field “file”."), code="no_file")
    try:
        photo = accept_upload(complaint, upload, actor())
    except PhotoRefused as refused:
        abort_problem(422, refused.message, code="photo_refused")
    return {"id": photo.id, "state": photo.status, "filename": photo.original_filename}, \
        HTTPStatus.CREATED


@blueprint.route("/complaints/<string:number>/costs", methods=["GET"])
@reads
@blueprint.doc(security=SECURITY, summary="Cost entries of a complaint")
@blueprint.response(200, s.CostListSchema)
def list_costs(number: str):
    complaint = complaint_or_404(number)
    entries = db.session.scalars(select(CostEntry).where(CostEntry.complaint_id == complaint.id)
                                 .order_by(CostEntry.id)).all()
    return {"items": [_cost(e) for e in entries]}


def _cost(e: CostEntry) -> dict:
    return {"id": e.id, "category": e.category, "amount": f"{e.amount:.2f}",
            "currency": e.currency,
            "department_id": e.responsible_department_id, "note": e.note,
            "created_at": e.created_at, "state": e.state or "active",
            "replaced_by_id": e.replaced_by_id, "state_reason": e.state_reason}


@blueprint.route("/complaints/<string:number>/costs", methods=["POST"])
@writes("complaints:write")
@blueprint.doc(security=SECURITY, summary="Add a cost entry",
               description="Needs a user with a role that may record costs. Scope "
                           "`complaints:write`.", parameters=[IDEMPOTENCY_HEADER])
@blueprint.arguments(s.CostCreateSchema)
@blueprint.response(201, s.CostSchema)
def create_cost(body: dict, number: str):
    complaint = complaint_or_404(number)
    entry = add_cost(complaint, actor(), category=body["category"], amount=Decimal(body["amount"]),
                     currency=body["currency"], department_id=body.get("department_id"),
                     note=body.get("note"))
    return _cost(entry), HTTPStatus.CREATED

