"""Domain operations on complaints that are not status changes (those are in workflow.py).

Each takes the objects and the acting user, checks its guard, changes state, writes
the timeline, and flushes. None commits: the request, job or CLI command does.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from ..events import announce
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models import (
    CAUSE_CATEGORIES,
    DEMANDS,
    INFO_CLASSES,
    SEVERITIES,
    Complaint,
    Department,
    SerialNumber,
    Tenant,
    TenantCounter,
    utcnow,
)
from ..tenancy import active_tenant_id
from .permissions import Refused, require
from .timeline import record


def next_counter_value(name: str) -> int:
    """Atomically take the next value of the active tenant's counter ``name``.

    The UPDATE holds the counter row's lock until the transaction ends, so two
    concurrent submissions never get the same number.
    """
    tenant_id = active_tenant_id()
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.session.execute(
        insert(TenantCounter)
        .values(tenant_id=tenant_id, name=name, value=0)
        .on_conflict_do_nothing(index_elements=["tenant_id", "name"])
    )
    return db.session.execute(
        update(TenantCounter)
        .where(TenantCounter.name == name)
        .values(value=TenantCounter.value + 1)
        .returning(TenantCounter.value)
    ).scalar_one()


def allocate_complaint_number(tenant: Tenant, when: datetime | None = None) -> str:
    """``QC-2026-00001``: prefix, year in the tenant's time zone, per-tenant sequence."""
    when = (when or utcnow()).astimezone(ZoneInfo(tenant.timezone))
    sequence = next_counter_value(f"complaint-{when.year}")
    return f"{tenant.setting('complaint_prefix')}-{when.year}-{sequence:05d}"


def submit_complaint(tenant: Tenant, actor, *, data: dict, serials: list[dict] | None = None,
                     submission_key: str | None = None) -> tuple[Complaint, bool]:
    """Record a complaint from validated intake ``data`` and return ``(complaint, created)``.

    ``data`` holds Complaint column values (already validated by the form). ``serials`` is a
    list of ``{"value", "shipment_id", "mismatch_confirmed"}``. With a ``submission_key`` that
    was seen before, the earlier complaint is returned and nothing new is written, so a double
    tap or a resend files one complaint. Flushes; never commits.
    """
    if submission_key:
        existing = db.session.scalar(
            select(Complaint).where(Complaint.submission_key == submission_key)
        )
        if existing is not None:
            return existing, False

    unknown_demands = set(data.get("demands") or ()) - set(DEMANDS)
    if unknown_demands:
        raise ValueError(f"unknown demands: {sorted(unknown_demands)}")

    try:
        # A savepoint: when the same key commits from another request between the check above
        # and this INSERT (a double tap, a browser's retry), only this write is undone and
        # the transaction stays usable, so the caller gets the winner instead of an error.
        with db.session.begin_nested():
            complaint = _new_complaint(tenant, actor, data, serials, submission_key)
    except IntegrityError:
        winner = db.session.scalar(
            select(Complaint).where(Complaint.submission_key == submission_key)
        ) if submission_key else None
        if winner is None:
            raise
        return winner, False
    for listener in _submitted_listeners:
        listener(complaint)
    return complaint, True


def _new_complaint(tenant: Tenant, actor, data: dict, serials: list[dict] | None,
                   submission_key: str | None) -> Complaint:
    complaint = Complaint(
        number=allocate_complaint_number(tenant),
        submission_key=submission_key,
        status="received",
        **data,
    )
    if getattr(actor, "kind", None) == "contact":
        complaint.contact_id = actor.id
        complaint.customer_company_id = actor.company_id
    elif getattr(actor, "kind", None) == "staff":
        complaint.created_by_staff_id = actor.id
    db.session.add(complaint)
    for serial in serials or ():
        complaint.serial_numbers.append(SerialNumber(**serial))
    record(complaint, actor, "submitted", customer_visible=True, to_status="received",
           data={"channel": complaint.channel, "source": complaint.source})
    db.session.flush()
    return complaint


_submitted_listeners: list = []


def on_submitted(listener):
    """Register ``listener(complaint)``, called after a new complaint is flushed, inside the
    same transaction (deadline clocks start here). Registering it again changes nothing."""
    if listener not in _submitted_listeners:
        _submitted_listeners.append(listener)
    return listener


_changed_listeners: list = []


def on_changed(listener):
    """Register ``listener(complaint, what)``, called inside the transaction after a change
    that is not a status change: ``"classified"`` or ``"actions"`` (deadline clocks and the
    defect-ratio check follow these). Registering it again changes nothing."""
    if listener not in _changed_listeners:
        _changed_listeners.append(listener)
    return listener


def changed(complaint: Complaint, what: str) -> None:
    db.session.flush()
    for listener in _changed_listeners:
        listener(complaint, what)


# Routing by cause (DOMAIN.md): which kind of department owns which cause category.
ROUTING = {
    "material": "purchasing",
    "man": "production",
    "machine": "equipment",
    "method": "engineering",
    "measurement": "metrology",
    "environment": "production",
    "other": "engineering",
}


def suggested_department(cause_category: str | None) -> Department | None:
    """The department DOMAIN.md's routing rules point at for this cause, if the tenant has one."""
    kind = ROUTING.get(cause_category or "", "engineering")
    return db.session.scalar(select(Department).where(Department.kind == kind).order_by(Department.id))


def classify(complaint: Complaint, actor, *, severity: str | None, info_class: str | None,
             cause_category: str | None, failure_mode_id: int | None = None,
             responsible_department_id: int | None = None, owner_id: int | None = None,
             expected_version: int | None = None) -> dict:
    """Set severity, class, cause, failure mode, responsible department and owner.

    Raises Refused when the actor may not classify, a value is unknown, or the
    complaint changed since ``expected_version`` (someone else edited it). Returns the
    changes as ``{field: [old, new]}`` and records them on the timeline.
    """
    require(actor, "classify", complaint)
    if expected_version is not None and expected_version != complaint.version:
        raise Refused("stale", _l("Someone else changed this complaint meanwhile. "
                                          "Review the newer version and try again."))
    for value, allowed in ((severity, SEVERITIES), (info_class, INFO_CLASSES),
                           (cause_category, CAUSE_CATEGORIES)):
        if value is not None and value not in allowed:
            raise Refused("invalid", _l("Choose a value from the list."))
    if responsible_department_id is None and cause_category:
        department = suggested_department(cause_category)
        responsible_department_id = department.id if department else None

    new = {"severity": severity, "info_class": info_class, "cause_category": cause_category,
           "failure_mode_id": failure_mode_id,
           "responsible_department_id": responsible_department_id, "owner_id": owner_id}
    changes = {k: [getattr(complaint, k), v] for k, v in new.items() if getattr(complaint, k) != v}
    for key, (_old, value) in changes.items():
        setattr(complaint, key, value)
    if changes:
        record(complaint, actor, "classified", data={"changes": changes})
        changed(complaint, "classified")
        announce("classified", complaint, actor, changes=changes)
        if "owner_id" in changes:
            announce("assigned", complaint, actor, owner_id=owner_id)
    return changes


def money(value) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value)).quantize(Decimal("0.01"))
