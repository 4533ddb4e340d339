"""Intake checks for a complaint filed from the portal: its serial numbers checked against the
catalogue (the rules of a serial number are serials.py's; here: format errors, and warnings
for another model, date or lot, or an open complaint about it) and filing limits.

Nothing here writes except ``record_origin``; the checks only read. Every function assumes
the complaint's tenant is active (tenant scoping filters the queries).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, or_, select

from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models import (
    Complaint,
    ProductModel,
    SerialNumber,
    Shipment,
    Tenant,
    TimelineEvent,
    utcnow,
)
from . import serials
from .serials import MAX_SERIALS


@dataclass
class SerialCheck:
    value: str
    shipment: Shipment | None = None
    error: object | None = None  # refuses the form
    warnings: list = field(default_factory=list)  # the customer may confirm these
    # May the catalogue's model, date and lot be shown? Only for shipments to nobody in
    # particular or to the viewer's own company: others' deliveries are not theirs to read.
    revealed: bool = False

    @property
    def needs_confirmation(self) -> bool:
        return bool(self.warnings)


@dataclass
class SerialReport:
    checks: list[SerialCheck]
    duplicates: list[str]
    too_many: bool = False

    @property
    def errors(self) -> list:
        return [c.error for c in self.checks if c.error]

    @property
    def needs_confirmation(self) -> bool:
        return any(c.needs_confirmation for c in self.checks)

    @property
    def matched(self) -> list[SerialCheck]:
        return [c for c in self.checks if c.shipment is not None]

    def as_rows(self, confirmed: bool) -> list[dict]:
        """Rows for ``submit_complaint(serials=...)``."""
        return [{"value": c.value, "shipment_id": c.shipment.id if c.shipment else None,
                 "mismatch_confirmed": bool(confirmed and c.needs_confirmation)}
                for c in self.checks]


def check_serials(tenant: Tenant, text: str | None, *, product: ProductModel | None,
                  shipped_on: date | None = None, lot: str | None = None,
                  company_id: int | None = None) -> SerialReport:
    """Check each serial: format (an error), the catalogue (warnings the customer may confirm:
    another model, another shipping date or lot, unknown to a catalogue that lists this
    model's serials), and an earlier open complaint of the same company about it."""
    values, duplicates = serials.parse(text)
    too_many = len(values) > MAX_SERIALS
    values = values[:MAX_SERIALS]
    pattern = serials.pattern_for(tenant, product)
    model_has_serial_data = product is not None and db.session.scalar(
        select(func.count()).select_from(Shipment).where(
            Shipment.product_model_id == product.id,
            or_(Shipment.serial_first.is_not(None), Shipment.serials.is_not(None))))
    checks = []
    for value in values:
        check = SerialCheck(value)
        checks.append(check)
        if not serials.has_format(pattern, value):
            check.error = serials.bad_format_message(value)
            continue
        check.shipment = serials.find_shipment(value)
        if check.shipment is None:
            if model_has_serial_data:
                check.warnings.append(_l("%(serial)s is not in our shipment records for this "
                                         "model.", serial=value))
            continue
        shipment = check.shipment
        check.revealed = shipment.customer_company_id in (None, company_id)
        if product is not None and shipment.product_model_id != product.id:
            check.warnings.append(
                _l("%(serial)s was shipped as model %(model)s, not the model you chose.",
                   serial=value, model=shipment.product_model.code) if check.revealed
                else _l("%(serial)s was shipped as another model than the one you chose.",
                        serial=value))
        if shipped_on and shipped_on != shipment.shipped_on:
            check.warnings.append(
                _l("%(serial)s was shipped on %(date)s, not on the date you gave.",
                   serial=value, date=shipment.shipped_on.isoformat()) if check.revealed
                else _l("%(serial)s was shipped on another date than the one you gave.",
                        serial=value))
        if lot and lot.strip().upper() != shipment.lot.upper():
            check.warnings.append(
                _l("%(serial)s belongs to lot %(lot)s, not the lot you gave.",
                   serial=value, lot=shipment.lot) if check.revealed
                else _l("%(serial)s belongs to another lot than the one you gave.",
                        serial=value))
    if company_id is not None and checks:
        for number, value in earlier_reports([c.value for c in checks], company_id):
            for check in checks:
                if check.value == value and not check.error:
                    check.warnings.append(_l("%(serial)s is already in your open complaint "
                                             "%(number)s.", serial=value, number=number))
    return SerialReport(checks, duplicates, too_many)


def earlier_reports(values: list[str], company_id: int) -> list[tuple[str, str]]:
    """(complaint number, serial) of the company's open complaints that name these serials."""
    from .workflow import OPEN_STATES

    return [tuple(row) for row in db.session.execute(
        select(Complaint.number, SerialNumber.value)
        .join(SerialNumber, SerialNumber.complaint_id == Complaint.id)
        .where(SerialNumber.value.in_(values), Complaint.customer_company_id == company_id,
               Complaint.status.in_(OPEN_STATES))
        .order_by(Complaint.id)
    )]


# -- filing limits -------------------------------------------------------------------------

FILING_WINDOW = timedelta(hours=1)
ORIGIN_KEY = "origin_ip"


class FilingLimitReached(Exception):
    def __init__(self, limit: int, minutes: int):
        super().__init__(f"filing limit of {limit} per hour reached")
        self.limit = limit
        self.minutes = minutes


def check_filing_limit(tenant: Tenant, *, email: str | None, ip_address: str | None,
                       signed_in: bool) -> None:
    """Raise FilingLimitReached when this e-mail (always) or, for visitors, this network
    address filed ``filing_limit_per_hour`` complaints in the last hour.

    Signed-in contacts are not limited by address: colleagues behind one factory gateway
    share it, and an account is already accountable.
    """
    limit = int(tenant.setting("filing_limit_per_hour"))
    since = utcnow() - FILING_WINDOW
    recent = select(func.count()).select_from(Complaint).where(
        Complaint.created_at > since, Complaint.channel == "portal")
    if email and db.session.scalar(
            recent.where(func.lower(Complaint.reporter_email) == email.strip().lower())) >= limit:
        raise FilingLimitReached(limit, _minutes_until_free(email=email))
    if not signed_in and ip_address:
        count = db.session.scalar(
            select(func.count()).select_from(TimelineEvent).where(
                TimelineEvent.kind == "submitted", TimelineEvent.created_at > since,
                TimelineEvent.data[ORIGIN_KEY].as_string() == ip_address))
        if count >= limit:
            raise FilingLimitReached(limit, _minutes_until_free(ip_address=ip_address))


def _minutes_until_free(*, email: str | None = None, ip_address: str | None = None) -> int:
    since = utcnow() - FILING_WINDOW
    if email:
        oldest = db.session.scalar(select(func.min(Complaint.created_at)).where(
            Complaint.created_at > since,
            func.lower(Complaint.reporter_email) == email.strip().lower()))
    else:
        oldest = db.session.scalar(select(func.min(TimelineEvent.created_at)).where(
            TimelineEvent.kind == "submitted", TimelineEvent.created_at > since,
            TimelineEvent.data[ORIGIN_KEY].as_string() == ip_address))
    if oldest is None:
        return 60
    if oldest.tzinfo is None:  # SQLite's aggregate bypasses the column type
        from datetime import UTC

        oldest = oldest.replace(tzinfo=UTC)
    remaining = oldest + FILING_WINDOW - utcnow()
    return max(1, int(remaining.total_seconds() // 60) + 1)


def record_origin(complaint: Complaint, ip_address: str | None) -> None:
    """Note the network address a portal complaint came from on its "submitted" event (staff
    only; the address limit counts these)."""
    for event in complaint.events:
        if event.kind == "submitted":
            event.data = {**(event.data or {}), ORIGIN_KEY: (ip_address or "unknown")[:64]}
            return


# -- the product catalogue ---------------------------------------------------------------

def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def suggest_products(query: str | None, limit: int = 20) -> list[ProductModel]:
    """Active catalogue models whose code or name contains ``query`` (all when empty)."""
    statement = select(ProductModel).where(ProductModel.active.is_(True))
    query = unicodedata.normalize("NFKC", query or "").strip()[:100]
    if query:
        pattern = _like(query.lower())
        statement = statement.where(or_(
            func.lower(ProductModel.code).like(pattern, escape="\\"),
            func.lower(ProductModel.name_zh).like(pattern, escape="\\"),
            func.lower(ProductModel.name_en).like(pattern, escape="\\")))
    return list(db.session.scalars(statement.order_by(ProductModel.code).limit(limit)))


def resolve_product(text: str | None) -> ProductModel | None:
    """The active model the customer picked: its code (as the type-ahead fills it in), or
    "CODE · name", or exactly one model's name."""
    text = unicodedata.normalize("NFKC", text or "").strip()
    if not text:
        return None
    code = re.split(r"\s+[·—-]\s+|\s+", text, maxsplit=1)[0]
    active = select(ProductModel).where(ProductModel.active.is_(True))
    for candidate in (text, code):
        found = db.session.scalar(active.where(func.lower(ProductModel.code) == candidate.lower()))
        if found is not None:
            return found
    named = list(db.session.scalars(active.where(or_(
        func.lower(ProductModel.name_zh) == text.lower(),
        func.lower(ProductModel.name_en) == text.lower())).limit(2)))
    return named[0] if len(named) == 1 else None


# -- filing without an account -------------------------------------------------------------

CLAIM_PURPOSE = "claim"
CLAIM_MINUTES = 14 * 24 * 60
# Free mail services: a shared domain says nothing about which company someone works for.
PUBLIC_MAIL_DOMAINS = frozenset({
    "qq.com", "163.com", "126.com", "yeah.net", "sina.com", "sina.cn", "sohu.com", "139.com",
    "189.cn", "aliyun.com", "foxmail.com", "gmail.com", "outlook.com", "hotmail.com",
    "live.com", "yahoo.com", "icloud.com", "me.com", "proton.me", "protonmail.com",
})


@dataclass(frozen=True)
class ComplaintClaim:
    """The principal a visitor's one-time link names: "the person who filed complaint N"."""

    complaint_id: int

    def get_id(self) -> str:
        return f"complaint:{self.complaint_id}"


def claimed_complaint(principal: str) -> Complaint | None:
    kind, _, raw = (principal or "").partition(":")
    if kind != "complaint" or not raw.isdigit():
        return None
    return db.session.get(Complaint, int(raw))


def adopt_complaint(complaint: Complaint, locale: str | None = None):
    """Make the visitor who filed ``complaint`` a contact and link the complaint to them.

    Called once the visitor has proved the e-mail address (the one-time link went there).
    An existing contact with that address is reused (None if deactivated). Otherwise the
    contact joins an existing company of the same name only when a colleague there uses the
    same, non-public mail domain; else a company of their own is created (staff can merge).
    Flushes; returns the contact.
    """
    from ..models import Contact, CustomerCompany
    from .timeline import record

    email = (complaint.reporter_email or "").strip()
    if not email:
        return None
    contact = db.session.scalar(select(Contact).where(func.lower(Contact.email) == email.lower()))
    if contact is not None and not contact.active:
        return None
    if contact is None:
        name = (complaint.reporter_company or "").strip()[:200] or email
        domain = email.rpartition("@")[2].lower()
        company = db.session.scalar(select(CustomerCompany).where(
            func.lower(CustomerCompany.name) == name.lower()))
        if company is not None:
            colleague = domain not in PUBLIC_MAIL_DOMAINS and db.session.scalar(
                select(func.count()).select_from(Contact).where(
                    Contact.company_id == company.id,
                    func.lower(Contact.email).like("%@" + domain.replace("%", "").replace("_", "\\_"),
                                                   escape="\\")))
            if not colleague:
                company = None
                name = f"{name} ({email})"[:200]
        if company is None:
            company = db.session.scalar(select(CustomerCompany).where(
                CustomerCompany.name == name)) or CustomerCompany(name=name)
            db.session.add(company)
            db.session.flush()
        contact = Contact(company_id=company.id, name=complaint.reporter_name[:120], email=email,
                          phone=complaint.reporter_phone, locale=locale)
        db.session.add(contact)
        db.session.flush()
    if complaint.contact_id is None:
        complaint.contact_id = contact.id
        complaint.customer_company_id = contact.company_id
        record(complaint, contact, "contact_linked", data={"contact_id": contact.id})
    db.session.flush()
    return contact
