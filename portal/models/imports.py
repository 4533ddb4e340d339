"""Spreadsheet imports: one row per uploaded file, its preview, progress and outcome."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..tenancy import TenantScoped
from .base import Timestamped, UTCDateTime

IMPORT_KINDS = ("shipments", "customers", "suppliers", "deliveries")
# uploaded -> validating -> previewed -> (queued -> importing -> done) | failed
IMPORT_STATES = ("uploaded", "validating", "previewed", "queued", "importing", "done", "failed")


class ImportRun(TenantScoped, Timestamped, db.Model):
    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="uploaded")
    filename: Mapped[str] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"))
    # The raw upload and the parsed, validated rows (JSON), both kept in storage.
    upload_key: Mapped[str] = mapped_column(String(300))
    staged_key: Mapped[str | None] = mapped_column(String(300))
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    processed_rows: Mapped[int] = mapped_column(Integer, default=0)
    rows_new: Mapped[int] = mapped_column(Integer, default=0)
    rows_updated: Mapped[int] = mapped_column(Integer, default=0)
    rows_written: Mapped[int] = mapped_column(Integer, default=0)
    problem_count: Mapped[int] = mapped_column(Integer, default=0)
    # The first problems found: [{"row": 7, "column": "quantity", "code": "...", "value": "x"}]
    problems: Mapped[list] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def busy(self) -> bool:
        return self.status in ("uploaded", "validating", "queued", "importing")

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 0 if self.busy else 100
        return min(100, int(100 * self.processed_rows / self.total_rows))
