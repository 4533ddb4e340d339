"""Cost of poor quality by supplier: the cost entries charged back to a supplier (through a
SupplierCharge), summed per supplier against a count made here; another tenant's charges never
count; the queue link lists exactly the complaints charged back to that supplier."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from portal.analytics import money
from portal.analytics.period import Slice
from portal.complaints import queue
from portal.models import Complaint, CostEntry, Supplier, SupplierCharge, SupplierRequest
from portal.tenancy import activate

from .conftest import SHANGHAI

YEAR = MultiDict({"period": "range", "from": "2025-12-01", "to": "2026-11-30"})


def _charge_back(db, tenant, every: int) -> dict:
    """Charges every ``every``-th cost entry of the tenant to one of two suppliers."""
    with activate(tenant):
        suppliers = [Supplier(name=f"Supplier {i} {tenant.id}", code=f"S{i}") for i in range(2)]
        db.session.add_all(suppliers)
        db.session.flush()
        charged = {}
        entries = db.session.scalars(select(CostEntry).order_by(CostEntry.id)).all()
        for n, entry in enumerate(entries[::every]):
            supplier = suppliers[n % 2]
            request = SupplierRequest(number=f"SCAR-{tenant.id}-{n}", complaint_id=entry.complaint_id,
                                      supplier_id=supplier.id, part_number="P-1", defect="d",
                                      defective_quantity=1, due_at=entry.created_at + timedelta(days=30))
            db.session.add(request)
            db.session.flush()
            db.session.add(SupplierCharge(request_id=request.id, supplier_id=supplier.id,
                                          cost_entry_id=entry.id))
            charged[entry.id] = (supplier.id, entry)
        db.session.flush()
    return charged


def test_costs_by_supplier_against_a_count_and_only_the_tenants_own(history, db, make_tenant):
    import random

    from .conftest import seed_history

    other = make_tenant(timezone="Asia/Shanghai")
    seed_history(db, other, random.Random(5), count=40)
    _charge_back(db, other, every=1)  # all of b's costs charged back: none may show for a
    charged = _charge_back(db, history.tenant, every=3)
    expected = Counter()
    for supplier, entry in charged.values():
        if "2025-12" <= entry.created_at.astimezone(SHANGHAI).strftime("%Y-%m") <= "2026-11":
            expected[supplier] += entry.amount
    assert expected
    with activate(history.tenant):
        s = Slice.from_args(YEAR, history.tenant.timezone)
        figures = money.costs(s)
        assert dict(figures["by_supplier"]) == dict(expected)
        assert [v for _, v in figures["by_supplier"]] == sorted(expected.values(), reverse=True)
        # charging back moves nothing else: the total is every entry's
        assert figures["total"] == sum((c["amount"] for c in history.costs
                                        if "2025-12" <= c["created"].astimezone(SHANGHAI)
                                        .strftime("%Y-%m") <= "2026-11"), Decimal(0))
        supplier = next(iter(expected))
        listed = queue.all_rows(queue.QueueQuery.from_args(MultiDict(
            {"view": "all", "supplier": str(supplier)})), None)
        complaints = {e.complaint_id for sid, e in charged.values() if sid == supplier}
        assert {row.id for row in listed} == complaints
        assert db.session.scalar(select(Complaint.id).where(Complaint.id.in_(complaints)).limit(1))


def test_the_supplier_filter_refuses_another_tenants_supplier_and_junk(history, db, make_tenant):
    import random

    from .conftest import seed_history

    other = make_tenant(timezone="Asia/Shanghai")
    seed_history(db, other, random.Random(8), count=20)
    theirs = _charge_back(db, other, every=1)
    their_supplier = next(iter(theirs.values()))[0]
    with activate(history.tenant):
        for value in ("abc", "-3", "1 OR 1=1", "9" * 30):  # dropped, never an error
            assert queue.QueueQuery.from_args(MultiDict({"supplier": value})).supplier is None
        query = queue.QueueQuery.from_args(MultiDict({"view": "all", "supplier": str(their_supplier)}))
        assert query.supplier == their_supplier and queue.all_rows(query, None) == []
