"""People: departments, staff users, customer companies and contacts, and their sign-ins."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..tenancy import TenantScoped
from .base import Timestamped, UTCDateTime, utcnow

# Department kinds, used by the routing rules (cause -> responsible department).
DEPARTMENT_KINDS = (
    "after_sales",
    "quality",
    "technical",
    "production",
    "purchasing",
    "engineering",
    "equipment",
    "metrology",
    "logistics",
    "finance",
    "management",
)


class Department(TenantScoped, db.Model):
    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL", use_alter=True)
    )

    manager: Mapped[StaffUser | None] = relationship(foreign_keys=[manager_id])


class StaffUser(UserMixin, TenantScoped, Timestamped, db.Model):
    __tablename__ = "staff_users"
    __table_args__ = (UniqueConstraint("tenant_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id", ondelete="SET NULL")
    )
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    locale: Mapped[str | None] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # {event: {"email": bool, "in_app": bool}}; absent means on (portal.notifications).
    notification_prefs: Mapped[dict | None] = mapped_column(JSON)

    department: Mapped[Department | None] = relationship(foreign_keys=[department_id])

    kind = "staff"
    is_staff = True

    def get_id(self) -> str:
        return f"staff:{self.id}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def has_role(self, *roles: str) -> bool:
        return any(role in (self.roles or []) for role in roles)

    def __repr__(self) -> str:
        return f"<StaffUser {self.email}>"


class CustomerCompany(TenantScoped, Timestamped, db.Model):
    __tablename__ = "customer_companies"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str | None] = mapped_column(String(40))
    # An important customer's complaints count as class A information (DOMAIN.md).
    key_account: Mapped[bool] = mapped_column(Boolean, default=False)

    contacts: Mapped[list[Contact]] = relationship(back_populates="company")


class Contact(UserMixin, TenantScoped, Timestamped, db.Model):
    """A person at a customer company who may sign in to the portal."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("tenant_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("customer_companies.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    locale: Mapped[str | None] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # {event: {"email": bool, "in_app": bool}}; absent means on (portal.notifications).
    notification_prefs: Mapped[dict | None] = mapped_column(JSON)

    company: Mapped[CustomerCompany] = relationship(back_populates="contacts")

    kind = "contact"
    is_staff = False
    roles: list[str] = []

    def get_id(self) -> str:
        return f"contact:{self.id}"

    @property
    def is_active(self) -> bool:
        return self.active

    def has_role(self, *roles: str) -> bool:
        return False


class LoginSession(TenantScoped, db.Model):
    """A server-side session. The cookie holds only its id; revoking the row ends it."""

    __tablename__ = "login_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie token
    principal: Mapped[str] = mapped_column(String(40), index=True)  # "staff:3", "contact:9"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ip_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))


class SignInToken(TenantScoped, db.Model):
    """A one-time link (sign in by e-mail, invitation, password set). Only its hash is kept."""

    __tablename__ = "sign_in_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    principal: Mapped[str] = mapped_column(String(40))
    purpose: Mapped[str] = mapped_column(String(20), default="sign_in")
    # Where the link leads after signing in (a complaint the visitor filed, say).
    next_path: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SignInFailure(TenantScoped, db.Model):
    """Failed sign-ins, counted per account and per address for throttling."""

    __tablename__ = "sign_in_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    ip_address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class PlatformOperator(Timestamped, db.Model):
    """Runs the platform (outside every tenant): lists, suspends and resumes tenants."""

    __tablename__ = "platform_operators"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(200))
