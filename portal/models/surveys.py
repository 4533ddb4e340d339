"""Satisfaction surveys: per closed complaint, or in a yearly campaign to every contact."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..tenancy import TenantScoped
from .base import Timestamped, UTCDateTime


class SurveyCampaign(TenantScoped, Timestamped, db.Model):
    __tablename__ = "survey_campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    reminder_after_days: Mapped[int] = mapped_column(Integer, default=7)
    status: Mapped[str] = mapped_column(String(20), default="draft")


class Survey(TenantScoped, db.Model):
    """One personal survey link. Opening it records nothing; only submitting does."""

    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    complaint_id: Mapped[int | None] = mapped_column(
        ForeignKey("complaints.id", ondelete="SET NULL"), index=True
    )
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_campaigns.id", ondelete="CASCADE"), index=True
    )
    due_to_send_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Per-question scores (0–100) by module, the module scores, and the weighted total.
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    total_score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    comments: Mapped[str | None] = mapped_column(Text)
