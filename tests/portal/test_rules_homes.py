"""Every rule has one home: the permission table covers exactly the workflow's transitions and
every ability it names; the vocabulary labels every value the models allow; and no other
module defines a label table of its own for those values."""

import re
from pathlib import Path

import pytest

from portal.complaints import permissions, vocabulary, workflow
from portal.models import ROLES

ROOT = Path(__file__).resolve().parents[2]


def test_permission_table_covers_every_transition_and_nothing_else():
    pairs = {(t.name, source) for t in workflow.TRANSITIONS for source in t.source}
    assert pairs == set(permissions.TRANSITION_ROLES)
    for t in workflow.TRANSITIONS:
        assert t.roles == permissions.TRANSITION_ROLES[(t.name, t.source[0])]


def test_every_role_in_the_tables_is_a_known_role():
    known = set(ROLES) | {"customer"}
    for roles in permissions.TRANSITION_ROLES.values():
        assert roles <= known
    for roles, statuses in permissions.ABILITIES.values():
        assert roles <= set(ROLES)
        assert statuses is None or statuses <= set(vocabulary.STATUSES)


@pytest.mark.parametrize("values,labels", [
    (vocabulary.STATUSES, vocabulary.STAFF_STATE_LABELS),
    (vocabulary.STATUSES, vocabulary.CUSTOMER_STATE_LABELS),
    (vocabulary.DEMANDS, vocabulary.DEMAND_LABELS),
    (vocabulary.DEMANDS, vocabulary.CUSTOMER_DEMAND_LABELS),
    (vocabulary.SEVERITIES, vocabulary.SEVERITY_LABELS),
    (vocabulary.INFO_CLASSES, vocabulary.CLASS_LABELS),
    (vocabulary.CAUSE_CATEGORIES, vocabulary.CAUSE_LABELS),
    (vocabulary.CHANNELS, vocabulary.CHANNEL_LABELS),
    (vocabulary.ACTION_KINDS, vocabulary.ACTION_LABELS),
    (vocabulary.REQUEST_KINDS, vocabulary.REQUEST_LABELS),
    (vocabulary.REQUEST_STATES, vocabulary.REQUEST_STATE_LABELS),
    (vocabulary.ROLES, vocabulary.ROLE_LABELS),
    (vocabulary.COST_CATEGORIES, vocabulary.COST_LABELS),
    (vocabulary.COST_STATES, vocabulary.COST_STATE_LABELS),
    (vocabulary.REPORT_KINDS, vocabulary.REPORT_KIND_LABELS),
    (vocabulary.REPORT_STATES, vocabulary.REPORT_STATE_LABELS),
])
def test_every_value_has_a_label(values, labels):
    assert set(values) == set(labels)


def test_every_button_and_event_label_names_something_real():
    names = {t.name for t in workflow.TRANSITIONS}
    assert set(vocabulary.TRANSITION_BUTTON_LABELS) <= names
    assert set(vocabulary.CUSTOMER_EVENT_LABELS) <= set(vocabulary.EVENT_LABELS)


def test_event_labels_for_staff_and_customer(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert str(vocabulary.event_label("transition.accept")) == "Confirmed as a quality case"
        assert str(vocabulary.event_label("action.added")) == "Action added"
        assert str(vocabulary.event_label("action.added", customer=True)) == "Immediate measure"
        assert str(vocabulary.event_label("cost.added", customer=True)) == "Update"
        assert str(vocabulary.event_label("transition.nothing", customer=True)) == "Update"
        # an unknown kind is never shown as its code (issue 10: no raw code on a page)
        assert str(vocabulary.event_label("odd.kind_x")) == "Update"


PENDING: set[str] = set()  # modules allowed a label table of their own: none
LABEL_TABLE = re.compile(
    r"^(STATE_LABELS|STAFF_STATE_LABELS|EVENT_LABELS|DEMAND_LABELS|SEVERITY_LABELS|"
    r"CAUSE_LABELS|ACTION_LABELS|REQUEST_LABELS|COST_LABELS|CHANNEL_LABELS|ROLE_LABELS|"
    r"KIND_LABELS|TRIGGER_LABELS|CATEGORY_LABELS|BUTTON_LABELS) = \{", re.M)


def test_no_second_label_table():
    found = []
    for package in ("portal", "customer", "internal", "jobs"):
        for path in (ROOT / package).rglob("*.py"):
            name = str(path.relative_to(ROOT))
            if name == "portal/complaints/vocabulary.py" or name in PENDING:
                continue
            if LABEL_TABLE.search(path.read_text(encoding="utf-8")):
                found.append(name)
    assert found == []
