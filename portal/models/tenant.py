"""The tenant (one manufacturer), its per-tenant counters and its settings history."""

from __future__ import annotations

import copy
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..tenancy import TenantScoped
from .base import Timestamped, UTCDateTime, utcnow

# A tenant's rules, with the defaults DOMAIN.md gives. Stored values override these key by key.
DEFAULT_SETTINGS: dict = {
    "complaint_prefix": "QC",
    "max_photos": 10,
    "max_photo_mb": 20,
    "serial_pattern": r"^[A-Z0-9][A-Z0-9\-]{3,39}$",
    "return_approval_chain": ["after_sales", "quality", "manager"],
    "defect_ratio_exception": 0.003,
    "defect_ratio_special": 0.01,
    "ratio_window_months": 12,
    "survey_weights": {"overall": 1, "service": 1, "quality": 1},
    "survey_low_score": 60,
    "survey_delay_hours": 24,
    "deadline_warning_share": 0.75,
    "filing_limit_per_hour": 5,
    # Added with tenant administration (issue 7):
    "languages": ["zh_CN", "en"],  # languages the tenant offers (default first)
    "notification_channels": ["email", "in_app"],
    "first_run_done": True,  # a new sign-up starts with False: the guided first run shows
    # Deadlines, escalation and notifications (issue 5: portal/deadlines, portal/notifications).
    "working_hours": [["08:30", "12:00"], ["13:30", "17:30"]],
    "working_weekdays": [0, 1, 2, 3, 4],  # Monday = 0
    "holiday_calendar": "auto",  # "CN" (mainland holidays, make-up days), "" none, "auto"
    "deadline_policy": {},  # per clock kind, overrides of portal.deadlines.policy.DEFAULTS
    "deadline_second_escalation_share": 0.5,  # a further half of the budget after breach
    # An hour of the tenant's day (0-23): non-owners get missed deadlines as one daily digest
    # then instead of one message each (portal/deadlines/digest.py); None: at once.
    "deadline_digest_hour": None,
    # The customer is e-mailed when containment starts (portal/notifications/routing.py).
    "tell_customer_containment": False,
    "repeat_complaints_count": 3,
    "repeat_complaints_days": 90,
    "report_due_hours": 72,
    "webhooks": [],  # [{"channel", "url", "secret", "events": [...]}]
    # The monthly quality meeting pack (issue 13): mailed to managers on the first working
    # day of the month, from this local hour (jobs/meeting_pack.py).
    "meeting_pack_mail": True,
    "meeting_pack_hour": 8,
}


class Tenant(Timestamped, db.Model):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    default_locale: Mapped[str] = mapped_column(String(10), default="zh_CN")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    brand_color: Mapped[str] = mapped_column(String(7), default="#0f6cbd")
    logo_key: Mapped[str | None] = mapped_column(String(300))
    # pending (e-mail not yet confirmed) -> active <-> suspended; nothing is ever deleted.
    status: Mapped[str] = mapped_column(String(20), default="active")
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    # Who signed the tenant up (client address and e-mail): the sign-up rate limit counts these.
    signup_address: Mapped[str | None] = mapped_column(String(64), index=True)
    signup_email: Mapped[str | None] = mapped_column(String(254), index=True)
    # Bumped in the transaction that changes a list portal.reference_cache keeps (departments,
    # staff, models, customers): every process's cached copy is checked against it per request.
    reference_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    @property
    def is_live(self) -> bool:
        return self.status == "active"

    def setting(self, key: str):
        """The tenant's value for a rule, else the product default."""
        if key in (self.settings or {}):
            return self.settings[key]
        return copy.deepcopy(DEFAULT_SETTINGS[key])

    def __repr__(self) -> str:
        return f"<Tenant {self.slug}>"


class TenantCounter(TenantScoped, db.Model):
    """Per-tenant sequences (complaint numbers per year, problem numbers, …)."""

    __tablename__ = "tenant_counters"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    value: Mapped[int] = mapped_column(Integer, default=0)


class SettingChange(TenantScoped, db.Model):
    """Who changed which tenant rule, when, from what to what."""

    __tablename__ = "setting_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    key: Mapped[str] = mapped_column(String(80))
    old_value: Mapped[dict | list | str | int | float | None] = mapped_column(JSON)
    new_value: Mapped[dict | list | str | int | float | None] = mapped_column(JSON)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
