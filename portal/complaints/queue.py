"""The staff queue: filters parsed from a URL, the query they build, and one page of rows.

A ``QueueQuery`` is made from request arguments (unknown or malformed values are ignored, so
a shared or bookmarked URL never errors) and turned back into arguments for links. ``page()``
runs two statements whatever the page size: the rows (with the names they show joined in)
and the count. Searching matches the complaint number, title, description and reporter's
company (one indexed expression: a pg_trgm GIN index with the tenant, see the migration
``complaint_search``), the customer company's name and exact serial numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, exists, func, literal_column, or_, select, text

from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models import (
    CAUSE_CATEGORIES,
    INFO_CLASSES,
    SEVERITIES,
    SOURCES,
    Complaint,
    CustomerCompany,
    DeadlineClock,
    Department,
    ProductModel,
    SerialNumber,
    StaffUser,
    utcnow,
)
from ..tenancy import ScopedStatement
from .vocabulary import WARRANTY_STATUSES
from .workflow import OPEN_STATES, STATES

PAGE_SIZE = 25
MAX_PAGE_SIZE = 100

VIEWS = {
    "open": _l("All open"),
    "mine": _l("Mine"),
    "department": _l("My department"),
    "unassigned": _l("Unassigned"),
    "waiting": _l("Waiting on customer"),
    "overdue": _l("Overdue"),
    "closed": _l("Closed and rejected"),
    "all": _l("Everything"),
}

SORTS = {
    "newest": (_l("Newest first"), lambda: (Complaint.created_at.desc(), Complaint.id.desc())),
    "oldest": (_l("Oldest first"), lambda: (Complaint.created_at.asc(), Complaint.id.asc())),
    "updated": (_l("Recently changed"),
                lambda: (Complaint.status_changed_at.desc(), Complaint.id.desc())),
    "number": (_l("Number"), lambda: (Complaint.number.asc(),)),
    "severity": (_l("Severity"), lambda: (
        func.coalesce(Complaint.severity == "major", False).desc(),
        func.coalesce(Complaint.severity == "general", False).desc(),
        Complaint.created_at.desc())),
}


def search_expression():
    """The text the search looks in. The migration indexes exactly this expression."""
    space = literal_column("' '")
    return (Complaint.number.concat(space).concat(Complaint.title).concat(space)
            .concat(Complaint.description).concat(space)
            .concat(func.coalesce(Complaint.reporter_company, literal_column("''"))))


def _int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**31 else None


def _date(value) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _instant(value) -> datetime | None:
    """An ISO date-time with its offset (the analytics links send the tenant's local month
    edges, e.g. 2026-03-01T00:00:00+08:00); naive or malformed values are dropped."""
    try:
        moment = datetime.fromisoformat(value) if value and len(value) <= 40 else None
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment is not None and moment.tzinfo else None


@dataclass(frozen=True)
class QueueQuery:
    view: str = "open"
    status: tuple[str, ...] = ()
    severity: str = ""
    info_class: str = ""
    department: int | None = None
    owner: int | None = None
    product: int | None = None
    customer: int | None = None
    overdue: bool = False
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""
    # Added for the analytics click-throughs (issue 13): 5M1E cause, failure mode, source,
    # product line, and exact creation instants (the tenant's local period edges).
    cause: str = ""
    mode: int | None = None
    source: str = ""
    line: str = ""
    created_since: datetime | None = None
    created_before: datetime | None = None
    # Warranty on the day the complaint came in (issue 12): in_warranty, expired, unknown.
    warranty: str = ""
    supplier: int | None = None  # complaints with a cost charged back to this supplier
    sort: str = "newest"
    page: int = 1
    per_page: int = PAGE_SIZE

    @classmethod
    def from_args(cls, args) -> QueueQuery:
        """Build from request arguments (a MultiDict); bad values are dropped, never an error."""
        view = args.get("view", "open")
        status = tuple(s for s in args.getlist("status") if s in STATES)
        return cls(
            view=view if view in VIEWS else "open",
            status=status,
            severity=args.get("severity", "") if args.get("severity") in SEVERITIES else "",
            info_class=args.get("class", "") if args.get("class") in INFO_CLASSES else "",
            department=_int(args.get("department")),
            owner=_int(args.get("owner")),
            product=_int(args.get("product")),
            customer=_int(args.get("customer")),
            overdue=args.get("overdue") in ("1", "on", "true"),
            date_from=_date(args.get("from")),
            date_to=_date(args.get("to")),
            q=(args.get("q") or "").strip()[:100],
            cause=args.get("cause", "") if args.get("cause") in CAUSE_CATEGORIES else "",
            mode=_int(args.get("mode")),
            source=args.get("source", "") if args.get("source") in SOURCES else "",
            line=(args.get("line") or "").strip()[:120],
            created_since=_instant(args.get("created_since")),
            created_before=_instant(args.get("created_before")),
            warranty=args.get("warranty", "") if args.get("warranty") in WARRANTY_STATUSES
            else "",
            supplier=_int(args.get("supplier")),
            sort=args.get("sort") if args.get("sort") in SORTS else "newest",
            page=min(_int(args.get("page")) or 1, 100_000),
            per_page=min(_int(args.get("per_page")) or PAGE_SIZE, MAX_PAGE_SIZE),
        )

    def to_args(self, **changes) -> dict:
        """The URL arguments for this query (defaults left out), with ``changes`` applied."""
        query = replace(self, **changes) if changes else self
        default = QueueQuery()
        names = {"info_class": "class", "date_from": "from", "date_to": "to"}
        args: dict = {}
        for f in fields(query):
            value = getattr(query, f.name)
            if value == getattr(default, f.name) or value in ("", None, ()):
                continue
            if isinstance(value, bool):
                value = "1"
            elif isinstance(value, date):  # datetimes too (a datetime is a date)
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            args[names.get(f.name, f.name)] = value
        return args

    @property
    def filtered(self) -> bool:
        return bool(self.to_args(view="open", sort="newest", page=1, per_page=PAGE_SIZE))


def _overdue_clause(now: datetime):
    return exists().where(DeadlineClock.complaint_id == Complaint.id,
                          DeadlineClock.stopped_at.is_(None),
                          DeadlineClock.paused_at.is_(None),
                          DeadlineClock.due_at < now)


def _search_clauses(q: str) -> list:
    text = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    expression = search_expression()
    clauses = []
    if len(q) >= 3:
        # Three characters or more: the trigram index answers it.
        clauses.append(expression.ilike(f"%{text}%", escape="\\"))
    else:
        # Shorter (two Chinese characters are a word) has no trigram; the tenant's rows are
        # read through the tenant index instead, which is bounded by one tenant's size.
        position = func.instr if db.session.get_bind().dialect.name == "sqlite" else func.strpos
        clauses.append(position(func.lower(expression), q.lower()) > 0)
    serial_ids = db.session.scalars(
        select(SerialNumber.complaint_id).where(SerialNumber.value == q.upper()).limit(200)
    ).all()
    if serial_ids:
        clauses.append(Complaint.id.in_(serial_ids))
    company_ids = db.session.scalars(
        select(CustomerCompany.id).where(CustomerCompany.name.ilike(f"%{text}%", escape="\\"))
        .limit(50)
    ).all()
    if company_ids:
        clauses.append(Complaint.customer_company_id.in_(company_ids))
    return clauses


# "An open complaint" written out in the SQL itself (the partial index
# ix_complaints_open_newest has exactly this predicate), so the statement needs no list of
# parameters expanded on every execution. The values are the workflow's constants.
_OPEN = text("complaints.status IN ({})".format(", ".join(f"'{s}'" for s in OPEN_STATES)))


def conditions(query: QueueQuery, user, now: datetime | None = None) -> list:
    """The WHERE clauses for ``query`` as seen by ``user`` (the views depend on who asks)."""
    now = now or utcnow()
    where = []
    view = query.view
    if query.status:
        where.append(Complaint.status.in_(query.status))
    elif view == "closed":
        where.append(Complaint.status.in_(("closed", "rejected")))
    elif view == "waiting":
        where.append(Complaint.status == "waiting_customer")
    elif view != "all":
        where.append(_OPEN)
    if view == "mine":
        where.append(Complaint.owner_id == user.id)
    elif view == "department":
        where.append(Complaint.responsible_department_id == user.department_id)
    elif view == "unassigned":
        where.append(Complaint.owner_id.is_(None))
    if view == "overdue" or query.overdue:
        where.append(_overdue_clause(now))
    if query.severity:
        where.append(Complaint.severity == query.severity)
    if query.info_class:
        where.append(Complaint.info_class == query.info_class)
    if query.department:
        where.append(Complaint.responsible_department_id == query.department)
    if query.owner:
        where.append(Complaint.owner_id == query.owner)
    if query.product:
        where.append(Complaint.product_model_id == query.product)
    if query.customer:
        where.append(Complaint.customer_company_id == query.customer)
    if query.date_from:
        where.append(Complaint.created_at >= datetime.combine(query.date_from, time(), UTC))
    if query.date_to:
        where.append(Complaint.created_at
                     < datetime.combine(query.date_to + timedelta(days=1), time(), UTC))
    if query.q:
        where.append(or_(*_search_clauses(query.q)))
    where.extend(_analytics_clauses(query))
    return where


def _analytics_clauses(query: QueueQuery) -> list:
    where = []
    if query.cause:
        where.append(Complaint.cause_category == query.cause)
    if query.mode:
        where.append(Complaint.failure_mode_id == query.mode)
    if query.source:
        where.append(Complaint.source == query.source)
    if query.line:
        where.append(Complaint.product_model_id.in_(
            select(ProductModel.id).where(ProductModel.product_line == query.line)))
    if query.created_since:
        where.append(Complaint.created_at >= query.created_since)
    if query.created_before:
        where.append(Complaint.created_at < query.created_before)
    if query.warranty:  # a column kept on the complaint, on ix_complaints_warranty
        where.append(Complaint.warranty_status == query.warranty)
    if query.supplier:
        from ..models import CostEntry, SupplierCharge

        where.append(Complaint.id.in_(
            select(CostEntry.complaint_id)
            .join(SupplierCharge, SupplierCharge.cost_entry_id == CostEntry.id)
            .where(SupplierCharge.supplier_id == query.supplier)))
    return where


@dataclass
class QueuePage:
    query: QueueQuery
    rows: list
    total: int
    pages: int = field(init=False)

    def __post_init__(self):
        self.pages = max(1, -(-self.total // self.query.per_page))


_OWNER = StaffUser.__table__.alias("owner")  # built once: its column collection is not free


def row_statement(query: QueueQuery, user, where: list):
    """One statement for a page of rows with every name the row shows (no lazy loads)."""
    owner = _OWNER
    return (
        select(Complaint.id, Complaint.tenant_id, Complaint.number, Complaint.title,
               Complaint.status,
               Complaint.severity, Complaint.info_class, Complaint.created_at,
               Complaint.status_changed_at, Complaint.reporter_name, Complaint.reporter_company,
               Complaint.defect_quantity, Complaint.source,
               CustomerCompany.name.label("company_name"),
               ProductModel.code.label("product_code"),
               Department.name.label("department_name"),
               owner.c.name.label("owner_name"))
        .outerjoin(CustomerCompany, CustomerCompany.id == Complaint.customer_company_id)
        .outerjoin(ProductModel, ProductModel.id == Complaint.product_model_id)
        .outerjoin(Department, Department.id == Complaint.responsible_department_id)
        .outerjoin(owner, and_(owner.c.id == Complaint.owner_id,
                               owner.c.tenant_id == Complaint.tenant_id))
        .where(*where)
        .order_by(*SORTS[query.sort][1]())
        .limit(query.per_page)
        .offset((query.page - 1) * query.per_page)
    )


def page(query: QueueQuery, user) -> QueuePage:
    """One page of the queue for ``user`` in the active tenant: one statement (plus at most
    two small lookups when searching), whatever the page size. The view's count rides along
    as an uncorrelated scalar subquery (the database counts it once); only a page past the
    end, which has no row to carry it, asks for the count alone."""
    rows = _page_statement(query, user).execute().all()
    if rows:
        total = rows[0].view_total
    else:
        total = db.session.scalar(_view_count(conditions(query, user)))
    return QueuePage(query=query, rows=rows, total=total)


def _view_count(where: list):
    return select(func.count(Complaint.id)).where(*where)


_STATEMENTS: dict = {}  # views' statements, built once (emptied when full: no eviction order)
_STATEMENTS_KEPT = 1000


def _page_statement(query: QueueQuery, user) -> ScopedStatement:
    """The page's statement, kept per view and user when it depends on nothing but them (the
    usual case: the default view, a filter, another page). A search (which looks serial
    numbers and companies up first) and the overdue views (which compare with now) are built
    every time."""
    keep = not query.q and not query.overdue and query.view != "overdue"
    key = (query, user.id, getattr(user, "department_id", None))
    statement = _STATEMENTS.get(key) if keep else None
    if statement is None:
        where = conditions(query, user)
        count = _view_count(where).correlate(None).scalar_subquery()
        statement = ScopedStatement(row_statement(query, user, where).add_columns(
            count.label("view_total")))
        if keep:
            if len(_STATEMENTS) >= _STATEMENTS_KEPT:
                _STATEMENTS.clear()
            _STATEMENTS[key] = statement
    return statement


def all_rows(query: QueueQuery, user, limit: int = 10_000) -> list:
    """Every row of the view (for the Excel export), capped at ``limit``."""
    statement = row_statement(replace(query, page=1, per_page=limit), user, conditions(query, user))
    return db.session.execute(statement).all()
