"""Every model, one module per aggregate, re-exported here."""

from .accounts import (
    DEPARTMENT_KINDS,
    ROLES,
    Contact,
    CustomerCompany,
    Department,
    LoginSession,
    PlatformOperator,
    SignInFailure,
    SignInToken,
    StaffUser,
)
from .actions import (
    ACTION_KINDS,
    COST_CATEGORIES,
    REPORT_KINDS,
    REQUEST_KINDS,
    Action,
    ApprovalStep,
    CostEntry,
    EightDReport,
    EightDSection,
    EscalationReport,
    ServiceRequest,
)
from .analytics import MeetingPack
from .base import utcnow
from .catalogue import FailureMode, ProductModel, Shipment
from .complaint import (
    CAUSE_CATEGORIES,
    CHANNELS,
    DEMANDS,
    INFO_CLASSES,
    OPEN_STATUSES,
    PHOTO_STATES,
    SEVERITIES,
    SOURCES,
    STATUSES,
    Complaint,
    Photo,
    Problem,
    SerialNumber,
    TimelineEvent,
)
from .deadlines import CalendarException, DeadlineClock
from .imports import IMPORT_KINDS, IMPORT_STATES, ImportRun
from .notifications import Delivery, Notification
from .outbox import OutboxMessage
from .platform import OperatorSession, OperatorSignInFailure
from .surveys import Survey, SurveyCampaign
from .tenant import DEFAULT_SETTINGS, SettingChange, Tenant, TenantCounter

__all__ = [name for name in dir() if not name.startswith("_")]
