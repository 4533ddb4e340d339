"""Warranty: the status of a serial number (in warranty, expired, unknown, with the last day
of warranty) from its product model's term, counted from the shipment it came in or, for a
model under warranty from installation, from the day it was installed; and the complaint's
own status, kept on the complaint (``warranty_status``/``warranty_ends_on``) so the queue
filters on it off an index and out-of-warranty requests are chargeable.

A complaint is judged on the day it came in: a unit that failed in warranty stays in
warranty while the case runs. The complaint is in warranty when one of its units is, expired
when every unit is known and expired, unknown otherwise (missing term, shipment or
installation date). Whatever changes an input calls ``refresh`` (one complaint) or
``refresh_for_models`` (a model's term, imported shipments); both flush, none commits."""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date

from sqlalchemy import or_, select, update
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ..complaints.permissions import Refused, require
from ..complaints.timeline import record
from ..complaints.vocabulary import WARRANTY_LABELS
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models import Complaint, ProductModel, SerialNumber, Shipment

STATUS_LABELS = WARRANTY_LABELS  # the words are vocabulary.py's
REFRESH_CHUNK = 500


@dataclass(frozen=True)
class Warranty:
    status: str = "unknown"
    ends_on: date | None = None
    starts_on: date | None = None
    basis: str = "shipment"


def warranty_end(start: date, months: int) -> date:
    """The last day of a term of ``months`` from ``start`` (31 January + 1 month is the last
    day of February)."""
    month = start.month - 1 + months
    year, month = start.year + month // 12, month % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def term(model: ProductModel | None, shipped_on: date | None, installed_on: date | None,
         on: date) -> Warranty:
    """The warranty of one unit of ``model`` judged on ``on``."""
    if model is None or not model.warranty_months:
        return Warranty()
    basis = model.warranty_basis or "shipment"
    start = installed_on if basis == "installation" else shipped_on
    if start is None:
        return Warranty(basis=basis)
    end = warranty_end(start, model.warranty_months)
    return Warranty("in_warranty" if on <= end else "expired", end, start, basis)


def status_for(model: ProductModel | None, shipped_on: date | None,
               today: date | None = None) -> tuple[str, date | None]:
    """("in_warranty" | "expired" | "unknown", the last day of warranty or None) of a unit
    shipped on ``shipped_on`` (no installation date), judged on ``today``."""
    found = term(model, shipped_on, None, today or date.today())
    return found.status, found.ends_on


def received_on(complaint: Complaint) -> date:
    """The day the complaint came in (UTC), the day its warranty is judged on."""
    created = complaint.created_at
    if created is None:
        return date.today()
    return (created.astimezone(UTC) if created.tzinfo else created).date()


def serial_warranty(serial: SerialNumber, on: date | None = None,
                    complaint: Complaint | None = None) -> Warranty:
    """A complaint's serial: its matched shipment (else the complaint's own model and
    shipment date), its own installation date (else the shipment's)."""
    shipment: Shipment | None = serial.shipment
    complaint = complaint or serial.complaint
    installed = serial.installed_on or (shipment.installed_on if shipment else None)
    on = on or received_on(complaint)
    if shipment is not None:
        return term(shipment.product_model, shipment.shipped_on, installed, on)
    return term(complaint.product_model, complaint.shipped_on, installed, on)


def serial_status(serial: SerialNumber, today: date | None = None) -> tuple[str, date | None]:
    found = serial_warranty(serial, today)
    return found.status, found.ends_on


def combine(units: Iterable[Warranty]) -> Warranty:
    """A complaint's warranty from its units' (see the module's rule)."""
    units = list(units)
    covered = [u for u in units if u.status == "in_warranty"]
    if covered:
        return max(covered, key=lambda u: u.ends_on)
    if not units or any(u.status == "unknown" for u in units):
        return Warranty()
    return max(units, key=lambda u: u.ends_on)


def serial_warranties(complaint: Complaint, serials: list[SerialNumber]
                      ) -> list[tuple[SerialNumber, Warranty]]:
    """Each serial with its warranty, from what is loaded (the page reads the serials with
    their shipments and models in one statement)."""
    on = received_on(complaint)
    return [(s, serial_warranty(s, on, complaint)) for s in serials]


def complaint_warranty(complaint: Complaint, serials: list[SerialNumber] | None = None
                       ) -> Warranty:
    serials = complaint.serial_numbers if serials is None else serials
    on = received_on(complaint)
    if serials:
        return combine(serial_warranty(s, on, complaint) for s in serials)
    return term(complaint.product_model, complaint.shipped_on, None, on)


def refresh(complaint: Complaint, serials: list[SerialNumber] | None = None) -> Warranty:
    """Recompute and keep the complaint's warranty (an ORM change: flushed with the rest)."""
    found = complaint_warranty(complaint, serials)
    if (complaint.warranty_status, complaint.warranty_ends_on) != (found.status, found.ends_on):
        complaint.warranty_status, complaint.warranty_ends_on = found.status, found.ends_on
    return found


def on_submitted(complaint: Complaint) -> None:
    """A new complaint's warranty: its serials' shipments and models read in one statement
    (the serials' lazy loads then find them in the session)."""
    ids = {s.shipment_id for s in complaint.serial_numbers if s.shipment_id}
    if ids:
        db.session.scalars(select(Shipment).where(Shipment.id.in_(ids))
                           .options(joinedload(Shipment.product_model))).all()
    refresh(complaint)


def record_installation(complaint: Complaint, serial: SerialNumber, actor,
                        installed_on: date | None) -> Warranty:
    """Staff record (or clear, with None) the day a complaint's unit was installed; the
    complaint's warranty follows. Refused: not allowed, a day in the future, or before the
    unit was shipped. Flushes; the timeline says who, when, from what to what."""
    require(actor, "installation", complaint)
    if serial.complaint_id != complaint.id:
        raise Refused("invalid", _l("Choose a value from the list."))
    if installed_on is not None and installed_on > date.today():
        raise Refused("installed_on", _l("The installation date lies in the future."))
    shipped = serial.shipment.shipped_on if serial.shipment else complaint.shipped_on
    if installed_on is not None and shipped is not None and installed_on < shipped:
        raise Refused("installed_on", _l("The installation cannot come before the shipment "
                                         "(%(day)s).", day=shipped.isoformat()))
    before, serial.installed_on = serial.installed_on, installed_on
    record(complaint, actor, "serial.installed", message=serial.value,
           data={"serial": serial.value, "from": before.isoformat() if before else None,
                 "to": installed_on.isoformat() if installed_on else None})
    found = refresh(complaint)
    db.session.flush()
    return found


def refresh_where(*clauses) -> int:
    """Recompute the warranty of every complaint of the active tenant matching ``clauses``,
    in chunks, eager-loading what it reads (a fixed number of statements per chunk). Writes
    with a plain UPDATE, so an editor's optimistic lock on the complaint is not disturbed.
    Returns how many changed. Flushes."""
    changed, after = 0, 0
    loads = (joinedload(Complaint.product_model),
             selectinload(Complaint.serial_numbers).joinedload(SerialNumber.shipment)
             .joinedload(Shipment.product_model))
    while True:
        batch = db.session.scalars(select(Complaint).where(Complaint.id > after, *clauses)
                                   .options(*loads).order_by(Complaint.id)
                                   .limit(REFRESH_CHUNK)
                                   .execution_options(populate_existing=True)).all()
        if not batch:
            return changed
        for complaint in batch:
            found = complaint_warranty(complaint)
            if (complaint.warranty_status, complaint.warranty_ends_on) != \
                    (found.status, found.ends_on):
                db.session.execute(update(Complaint.__table__)
                                   .where(Complaint.__table__.c.id == complaint.id)
                                   .values(warranty_status=found.status,
                                           warranty_ends_on=found.ends_on))
                # The loaded object agrees with the row, and nothing marks it dirty.
                set_committed_value(complaint, "warranty_status", found.status)
                set_committed_value(complaint, "warranty_ends_on", found.ends_on)
                changed += 1
        after = batch[-1].id


def refresh_for_models(model_ids: Iterable[int]) -> int:
    """After a model's term or its shipments changed: its complaints, and those whose
    serials came in its shipments."""
    ids = sorted(set(model_ids))
    if not ids:
        return 0
    via_serials = (select(SerialNumber.complaint_id)
                   .join(Shipment, Shipment.id == SerialNumber.shipment_id)
                   .where(Shipment.product_model_id.in_(ids)))
    return refresh_where(or_(Complaint.product_model_id.in_(ids),
                             Complaint.id.in_(via_serials)))
