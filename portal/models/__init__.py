"""Every model, one module per aggregate, re-exported here (with the values of the
enumerated columns, which are the vocabulary's: portal/complaints/vocabulary.py)."""

from ..complaints.vocabulary import (
    ACTION_KINDS,
    CAUSE_CATEGORIES,
    CHANNELS,
    COST_CATEGORIES,
    DEMANDS,
    INFO_CLASSES,
    OPEN_STATUSES,
    REPORT_KINDS,
    REQUEST_KINDS,
    ROLES,
    SEVERITIES,
    SOURCES,
    STATUSES,
)
from .accounts import (
    DEPARTMENT_KINDS,
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
    Action,
    ApprovalStep,
    CostEntry,
    EffectivenessCheck,
    EightDMember,
    EightDReport,
    EightDSection,
    EscalationReport,
    ServiceRequest,
)
from .analytics import AnalyticsLoopMonth, AnalyticsMonth, MeetingPack
from .api import API_SCOPES, ApiToken, IdempotentResponse
from .base import utcnow
from .catalogue import FailureMode, ProductModel, Shipment
from .complaint import (
    PHOTO_STATES,
    Complaint,
    Photo,
    Problem,
    SerialNumber,
    TimelineEvent,
)
from .deadlines import CalendarException, DeadlineClock
from .imports import IMPORT_KINDS, IMPORT_STATES, ImportRun
from .integrations import (
    DELIVERY_STATES,
    INBOUND_OUTCOMES,
    InboundMessage,
    Mailbox,
    WebhookDelivery,
    WebhookSubscription,
)
from .notifications import Delivery, Notification
from .outbox import OutboxMessage
from .platform import OperatorSession, OperatorSignInFailure
from .returns import RETURN_STATES, GoodsReturn
from .suppliers import (
    SUPPLIER_ASKS,
    SUPPLIER_REQUEST_STATES,
    Supplier,
    SupplierCharge,
    SupplierContact,
    SupplierDelivery,
    SupplierEvidence,
    SupplierRequest,
)
from .surveys import Survey, SurveyCampaign
from .tenant import DEFAULT_SETTINGS, SettingChange, Tenant, TenantCounter

__all__ = [name for name in dir() if not name.startswith("_")]
