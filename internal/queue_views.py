"""The queue: the staff landing page with filters, search, sorting, ready views and paging
(htmx swaps only the results; the URL keeps the filters), and its Excel export."""

from __future__ import annotations

from flask import make_response, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal import reference_cache
from portal.complaints import queue
from portal.complaints.vocabulary import (
    SEVERITY_LABELS,
    STAFF_STATE_LABELS,
    STATUSES,
    WARRANTY_LABELS,
)
from portal.deadlines import badge_texts
from portal.extensions import db
from portal.i18n import datetime_formatter
from portal.models import CustomerCompany, Department, ProductModel, StaffUser
from portal.tenancy import current_tenant
from portal.web import is_htmx, render

from . import blueprint
from .queue_rows import rows_html

FILTER_SOURCES = (Department, StaffUser, ProductModel, CustomerCompany)
reference_cache.watch("queue_filter_options", FILTER_SOURCES)


def filter_options() -> dict:
    """The choices of the filter form: four small queries, cached per tenant and process until
    the tenant's reference version changes (portal.reference_cache: a change made through any
    process shows at once in every process)."""
    return reference_cache.cached("queue_filter_options", FILTER_SOURCES, _load_filter_options)


def _load_filter_options() -> dict:
    return {
        "departments": [tuple(r) for r in db.session.execute(
            select(Department.id, Department.name).order_by(Department.name))],
        "staff": [tuple(r) for r in db.session.execute(
            select(StaffUser.id, StaffUser.name).where(StaffUser.active.is_(True))
            .order_by(StaffUser.name))],
        "products": [tuple(r) for r in db.session.execute(
            select(ProductModel.id, ProductModel.code).order_by(ProductModel.code))],
        "companies": [tuple(r) for r in db.session.execute(
            select(CustomerCompany.id, CustomerCompany.name).order_by(CustomerCompany.name)
            .limit(500))],
    }


@blueprint.get("/")
def index():
    query = queue.QueueQuery.from_args(request.args)
    result = queue.page(query, current_user)
    # What every row shows is made display-ready once per page: the deadline badges (one
    # statement for the clocks) and the dates, with the language and time zone looked up
    # once; lazy labels become plain strings once.
    created = datetime_formatter("short")
    labels = {k: str(v) for k, v in STAFF_STATE_LABELS.items()}
    severities = {k: str(v) for k, v in SEVERITY_LABELS.items()}
    rows = rows_html(result.rows, labels, severities, badge_texts(result.rows),
                     {row.id: created(row.created_at) for row in result.rows}, _row_words())
    return render("internal/queue.html", "internal/_queue_results.html",
                  q=query, result=result, views=queue.VIEWS, sorts=queue.SORTS,
                  labels=labels, state_options=[(s, labels[s]) for s in STATUSES],
                  severities=severities, rows_html=rows,
                  options=filter_options() if not _fragment() else None,
                  export_url=url_for("internal.export_queue", **query.to_args(page=1)),
                  warranty_labels={k: str(v) for k, v in WARRANTY_LABELS.items()})


def _row_words() -> dict:
    return {"number": _("Number"), "complaint": _("Complaint"), "customer": _("Customer"),
            "status": _("Status"), "owner": _("Owner"), "left": _("Time left"),
            "production": _("production")}


def _fragment() -> bool:
    return is_htmx()


@blueprint.get("/queue.xlsx")
def export_queue():
    from portal.complaints.exports import queue_workbook

    query = queue.QueueQuery.from_args(request.args)
    rows = queue.all_rows(query, current_user)
    data = queue_workbook(rows, STAFF_STATE_LABELS, current_tenant.timezone)
    response = make_response(data)
    response.headers["Content-Type"] = (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.headers["Content-Disposition"] = 'attachment; filename="complaints.xlsx"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
