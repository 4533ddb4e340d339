"""Every timeline kind and every free text a complaint's records hold has its audience in
portal/complaints/audience.py: a kind or a text column added without one fails here."""

import re
from pathlib import Path

from sqlalchemy import String, Text

from portal.complaints import audience, vocabulary, workflow
from portal.extensions import db
from portal.models import Complaint, EightDReport, EightDSection, Problem

ROOT = Path(__file__).resolve().parents[2]
# record(complaint, actor, "kind" …) or f"prefix.{…}" in the code that writes timelines.
RECORDED = re.compile(r'\b(?:record|_event)\(\s*[^,()]+(?:\([^()]*\))?[^,()]*,\s*[^,]+,\s*(f?)"([^"]+)"')
# Column names that hold words someone wrote (besides every Text column).
TEXTUAL = re.compile(r"(note|notes|message|reason|title|summary|body|comments|text|"
                     r"description|analysis|answer|cause|containment|corrective_action|defect|"
                     r"tracking_number)$")


def _recorded_kinds() -> tuple[set[str], set[str]]:
    literal, prefixes = set(), set()
    for package in ("portal", "customer", "internal", "jobs"):
        for path in (ROOT / package).rglob("*.py"):
            for is_f, kind in RECORDED.findall(path.read_text(encoding="utf-8")):
                if is_f:
                    prefixes.add(kind.split("{", 1)[0])
                else:
                    literal.add(kind)
    return literal, prefixes


def test_every_timeline_kind_has_an_audience():
    kinds = set(vocabulary.EVENT_LABELS) | set(vocabulary.CUSTOMER_EVENT_LABELS)
    kinds |= {f"transition.{t.name}" for t in workflow.TRANSITIONS}
    literal, prefixes = _recorded_kinds()
    assert literal, "the scan found no record() call: the pattern is out of date"
    assert {"submitted", "request.created", "request.approval",
            "supplier_request.opened", "photo.rejected"} <= literal
    missing = sorted((kinds | literal) - set(audience.EVENTS))
    assert not missing, f"timeline kinds without an audience in audience.EVENTS: {missing}"
    for prefix in prefixes:  # f"request.{status}", f"deadline.{step}", f"transition.{name}"
        assert any(k.startswith(prefix) for k in audience.EVENTS), prefix
    # and no rule for a kind nobody labels: a stale rule is a lie about the timeline
    stale = sorted(k for k in audience.EVENTS if not k.startswith("transition.")
                   and k not in vocabulary.EVENT_LABELS)
    assert not stale, stale


def test_every_rule_names_a_known_audience():
    for kind, rule in audience.EVENTS.items():
        assert rule.text in audience.AUDIENCES, kind
        assert callable(rule.event) or rule.event in (audience.CUSTOMER, audience.INTERNAL,
                                                      audience.CHOSEN), kind
        if rule.event == audience.INTERNAL:
            assert rule.text in (audience.INTERNAL, audience.NONE), kind


def _complaint_tables() -> set:
    """The tables holding a complaint's records: complaints, problems and every table whose
    rows point at one of them (or at a row that does), found by the foreign keys."""
    tables = {Complaint.__table__, Problem.__table__}
    metadata = db.Model.metadata
    grew = True
    while grew:
        grew = False
        for table in metadata.sorted_tables:
            if table in tables:
                continue
            if any(fk.column.table in tables and fk.parent.name not in
                   ("owner_id", "created_by_id", "acting_user_id")
                   for fk in table.foreign_keys):
                if table.name in ("notifications", "outbox_messages", "webhook_deliveries",
                                  "inbound_messages"):
                    continue  # messages about a complaint, not its records (own tests)
                tables.add(table)
                grew = True
    return tables


def _text_columns() -> set[str]:
    found = set()
    mappers = {m.local_table: m for m in db.Model.registry.mappers}
    for table in _complaint_tables():
        mapper = mappers.get(table)
        if mapper is None:
            continue
        for attr in mapper.column_attrs:
            column = attr.columns[0]
            if isinstance(column.type, Text) or (
                    isinstance(column.type, String) and TEXTUAL.search(attr.key)):
                found.add(f"{mapper.class_.__name__}.{attr.key}")
    return found


def test_every_text_of_a_complaint_has_an_audience():
    columns = _text_columns()
    assert {"Complaint.answer", "ServiceRequest.note", "ApprovalStep.note",
            "EightDSection.text", "Action.description"} <= columns
    missing = sorted(columns - set(audience.TEXTS))
    assert not missing, f"texts without an audience in audience.TEXTS: {missing}"
    stale = sorted(set(audience.TEXTS) - columns)
    assert not stale, f"audience.TEXTS names texts that are no columns: {stale}"
    for name, who in audience.TEXTS.items():
        assert who in audience.AUDIENCES or who.startswith("per kind"), name


def test_all_8d_text_is_internal_but_the_customer_summary():
    """Through the model, whatever the 8D panel draws: every text column of the 8D report and
    its sections is internal, except the summary written for the customer."""
    for model in (EightDReport, EightDSection):
        for attr in model.__mapper__.column_attrs:
            name = f"{model.__name__}.{attr.key}"
            if name in audience.TEXTS:
                expected = (audience.CUSTOMER if name == "EightDReport.customer_summary"
                            else audience.INTERNAL)
                assert audience.TEXTS[name] == expected, name
    for kind, rule in audience.EVENTS.items():
        if kind == "eight_d.sent":  # the customer's PDF on their page: an entry, no text
            assert rule.text == audience.NONE, kind
        elif kind.startswith("eight_d.") and kind != "eight_d.summary":
            assert rule.event == audience.INTERNAL, kind
    assert audience.resolve("eight_d.section", {}, shown=True) == (False, False)
    assert audience.resolve("eight_d.summary", {}, shown=False) == (True, True)


def test_a_chosen_text_is_internal_until_someone_shows_it():
    assert audience.resolve("request.created", {}, shown=False) == (True, False)
    assert audience.resolve("request.created", {}, shown=True) == (True, True)
    assert audience.resolve("request.approval", {"status": "pending_approval"}, False) == (
        False, False)
    assert audience.resolve("request.approval", {"status": "pending_approval"}, True) == (
        True, True)
    assert audience.resolve("request.approval", {"status": "approved"}, False) == (True, False)
    assert audience.resolve("verification.checklist", {}, False) == (False, False)
    assert audience.resolve("root_cause.recorded", {}, True) == (False, False)
    assert audience.resolve("never.declared", {}, True) == (False, False)
