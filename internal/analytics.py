"""Quality analytics pages: the dashboard (/analytics) and the monthly quality meeting pack
(/analytics/meeting as a page, .pdf and .xlsx). For quality, managers and admins. The figures
come from portal/analytics; this module parses the request and renders."""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Response, abort, request, url_for
from flask_babel import force_locale
from markupsafe import Markup, escape
from sqlalchemy import select

from portal import reference_cache
from portal.analytics import dashboard, meeting
from portal.analytics.labels import DIMENSION_LABELS
from portal.analytics.pareto import MEASURES
from portal.analytics.period import PERIODS, SOURCE_LABELS, Slice, add_months
from portal.complaints.permissions import permitted
from portal.extensions import db
from portal.models import CustomerCompany, ProductModel
from portal.tenancy import current_tenant
from portal.web import render

from . import blueprint

CHOICE_SOURCES = (ProductModel, CustomerCompany)
reference_cache.watch("analytics_choices", CHOICE_SOURCES)


def _load_choices() -> dict:
    return {
        "products": [tuple(r) for r in db.session.execute(
            select(ProductModel.id, ProductModel.code).order_by(ProductModel.code))],
        "lines": sorted({line for (line,) in db.session.execute(
            select(ProductModel.product_line).where(ProductModel.product_line.is_not(None))
            .distinct())}),
        "customers": [tuple(r) for r in db.session.execute(
            select(CustomerCompany.id, CustomerCompany.name).order_by(CustomerCompany.name)
            .limit(500))],
    }


def _choices() -> dict:
    """The filter form's lists, from the per-process reference cache (portal/reference_cache:
    three statements a page less; a change anywhere shows at once)."""
    return {**reference_cache.cached("analytics_choices", CHOICE_SOURCES, _load_choices),
            "periods": PERIODS, "sources": SOURCE_LABELS, "measures": MEASURES,
            "dimensions": DIMENSION_LABELS}


class QueueLinks:
    """Links to the staff queue for hundreds of figures a page: the queue's URL is built once,
    the status list every figure shares is encoded once, and each argument (mostly the same
    period edges and filters again and again) is encoded once per page (url_for, then
    urlencode, per link were most of the page's own CPU time). A link comes as HTML already
    (Markup, its arguments joined by ``&amp;``): the chart and the table beside it print it
    without escaping it again."""

    def __init__(self):
        self.base = url_for("internal.index")
        self.counted = urlencode([("status", s) for s in dashboard.COUNTED_STATUSES]).replace(
            "&", "&amp;")
        self._encoded: dict = {}

    def _pair(self, name: str, value) -> str:
        key = (name, value)
        found = self._encoded.get(key)
        if found is None:
            found = self._encoded[key] = urlencode([key])
        return found

    def __call__(self, args: dict) -> Markup:
        parts = []
        for name, value in args.items():
            if name == "status" and value == dashboard.COUNTED_STATUSES:
                parts.append(self.counted)
            elif isinstance(value, list | tuple):
                parts.extend(self._pair(name, v) for v in value)
            else:
                parts.append(self._pair(name, value))
        return Markup(f"{escape(self.base)}?{'&amp;'.join(parts)}")


@blueprint.get("/analytics")
def analytics():
    permitted("view_analytics")
    tenant = current_tenant._get_current_object()
    s = Slice.from_args(request.args, tenant.timezone)
    measure = request.args.get("measure") if request.args.get("measure") in MEASURES \
        else "complaints"
    sections = dashboard.build(s, tenant, measure, QueueLinks())
    return render("internal/analytics/dashboard.html", s=s, measure=measure,
                  sections=sections, **_choices())


def _month() -> date:
    """The pack's month from ?month=YYYY-MM; by default the month before this one."""
    raw = request.args.get("month", "")
    try:
        if raw:
            if len(raw) != 7:
                raise ValueError(raw)
            return date.fromisoformat(raw + "-01")
    except ValueError:
        abort(404)
    today = datetime.now(ZoneInfo(current_tenant.timezone)).date()
    return add_months(today, -1)


@blueprint.get("/analytics/meeting")
def meeting_pack():
    permitted("view_analytics")
    tenant = current_tenant._get_current_object()
    month = _month()
    pack = meeting.build(tenant, month, QueueLinks())
    return render("internal/analytics/meeting.html", pack=pack, month=month,
                  previous=add_months(month, -1), following=add_months(month, 1))


@blueprint.get("/analytics/meeting.pdf")
def meeting_pack_pdf():
    permitted("view_analytics")
    tenant = current_tenant._get_current_object()
    month = _month()
    lang = request.args.get("lang") if request.args.get("lang") in ("zh_CN", "en") else None
    with force_locale(lang or tenant.default_locale or "zh_CN"):
        data = meeting.pdf(tenant, month, QueueLinks())
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="quality-meeting-{month:%Y-%m}.pdf"'})


@blueprint.get("/analytics/meeting.xlsx")
def meeting_pack_xlsx():
    permitted("view_analytics")
    tenant = current_tenant._get_current_object()
    month = _month()
    data = meeting.workbook(tenant, month)
    return Response(data, mimetype="application/vnd.openxmlformats-officedocument."
                    "spreadsheetml.sheet", headers={
                        "Content-Disposition":
                        f'attachment; filename="quality-meeting-{month:%Y-%m}.xlsx"'})


@blueprint.get("/analytics/meeting/<int:pack_id>.pdf")
def meeting_pack_file(pack_id: int):
    """A pack as the monthly job built and mailed it (kept in storage)."""
    from portal.models import MeetingPack
    from portal.storage import get_storage

    permitted("view_analytics")
    pack = db.get_or_404(MeetingPack, pack_id)
    key = (pack.files or {}).get(request.args.get("lang", "")) \
        or next(iter((pack.files or {}).values()), None)
    storage = get_storage()
    if not key or not storage.exists(key):
        abort(404)
    return Response(storage.read(key), mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="quality-meeting-{pack.month:%Y-%m}.pdf"'})
