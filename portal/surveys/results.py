"""Survey results: by module, customer, product line and month, and the CSV and Excel
exports of the answered surveys."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from flask_babel import get_timezone
from sqlalchemy import func, select

from ..complaints import vocabulary
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models import (
    Complaint,
    Contact,
    CustomerCompany,
    ProductModel,
    Survey,
    SurveyCampaign,
    utcnow,
)
from ..spreadsheets import neutralise
from .campaigns import _rate


@dataclass
class Bucket:
    count: int = 0
    totals: list = field(default_factory=list)
    modules: dict = field(default_factory=lambda: defaultdict(list))

    def add(self, survey: Survey) -> None:
        self.count += 1
        if survey.total_score is not None:
            self.totals.append(Decimal(survey.total_score))
        for module, value in ((survey.answers or {}).get("modules") or {}).items():
            self.modules[module].append(Decimal(value))

    @staticmethod
    def _mean(values):
        return (sum(values) / len(values)).quantize(Decimal("0.1")) if values else None

    @property
    def total(self):
        return self._mean(self.totals)

    def module(self, name):
        return self._mean(self.modules.get(name, []))


@dataclass
class Results:
    sent: int
    answered: int
    overall: Bucket
    by_customer: dict
    by_product_line: dict
    by_month: dict

    @property
    def rate(self):
        return _rate(self.answered, self.sent)


def _scope_query(query, campaign_id: int | None, year: int | None):
    if campaign_id:
        query = query.where(Survey.campaign_id == campaign_id)
    if year:
        start = datetime(year, 1, 1, tzinfo=utcnow().tzinfo)
        query = query.where(Survey.sent_at >= start,
                            Survey.sent_at < start.replace(year=year + 1))
    return query


def answered_rows(campaign_id: int | None = None, year: int | None = None):
    """Answered surveys with their customer and product line, newest first."""
    query = (
        select(Survey, CustomerCompany.name, ProductModel.product_line, Complaint.number,
               SurveyCampaign.name, Contact.name, Contact.email)
        .outerjoin(Contact, Contact.id == Survey.contact_id)
        .outerjoin(CustomerCompany, CustomerCompany.id == Contact.company_id)
        .outerjoin(Complaint, Complaint.id == Survey.complaint_id)
        .outerjoin(ProductModel, ProductModel.id == Complaint.product_model_id)
        .outerjoin(SurveyCampaign, SurveyCampaign.id == Survey.campaign_id)
        .where(Survey.answered_at.is_not(None))
        .order_by(Survey.answered_at.desc())
    )
    return db.session.execute(_scope_query(query, campaign_id, year)).all()


def results(campaign_id: int | None = None, year: int | None = None) -> Results:
    counts = db.session.execute(_scope_query(
        select(func.count(Survey.sent_at), func.count(Survey.answered_at)), campaign_id, year)
    ).one()
    overall = Bucket()
    by_customer: dict = defaultdict(Bucket)
    by_line: dict = defaultdict(Bucket)
    by_month: dict = defaultdict(Bucket)
    for survey, company, line, *_ in answered_rows(campaign_id, year):
        overall.add(survey)
        by_customer[company or "—"].add(survey)
        by_line[line or "—"].add(survey)
        by_month[survey.answered_at.strftime("%Y-%m")].add(survey)
    return Results(sent=counts[0], answered=counts[1], overall=overall,
                   by_customer=dict(sorted(by_customer.items())),
                   by_product_line=dict(sorted(by_line.items())),
                   by_month=dict(sorted(by_month.items())))


# The export's columns in the reader's language; the times are the tenant's local time, and
# their headers name the zone ("发送时间（Asia/Shanghai）").
EXPORT_HEADER = (_l("Survey"), _l("Kind"), _l("Campaign"), _l("Complaint"), _l("Customer"),
                 _l("Contact"), _l("E-mail"), _l("Product line"), _l("Sent (%(zone)s)"),
                 _l("Opened (%(zone)s)"), _l("Answered (%(zone)s)"), _l("Overall"),
                 _l("Service"), _l("Quality"), _l("Total"), _l("Suggestions"), _l("Comments"))


def export_header() -> list[str]:
    zone = str(get_timezone())
    return [str(h).replace("%(zone)s", zone) for h in EXPORT_HEADER]


def export_rows(campaign_id: int | None = None, year: int | None = None):
    zone = get_timezone()
    for survey, company, line, number, campaign, contact, email in answered_rows(campaign_id,
                                                                                  year):
        modules = (survey.answers or {}).get("modules") or {}
        row = (
            survey.id, str(vocabulary.SURVEY_KIND_LABELS[
                "campaign" if survey.campaign_id else "complaint"]),
            campaign, number, company, contact, email, line,
            _iso(survey.sent_at, zone), _iso(survey.opened_at, zone),
            _iso(survey.answered_at, zone),
            _num(modules.get("overall")), _num(modules.get("service")),
            _num(modules.get("quality")), _num(survey.total_score),
            (survey.answers or {}).get("suggestions"), survey.comments,
        )
        yield tuple(neutralise(v) for v in row)


def _iso(value, zone):
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else None


def _num(value):
    return float(value) if value is not None else None


def export_csv(campaign_id=None, year=None) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(export_header())
    for row in export_rows(campaign_id, year):
        writer.writerow(["" if v is None else v for v in row])
    return "\ufeff" + buffer.getvalue()  # BOM: Excel opens UTF-8 (Chinese names) correctly


def export_xlsx(campaign_id=None, year=None) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("surveys")
    sheet.append(export_header())
    for row in export_rows(campaign_id, year):
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
