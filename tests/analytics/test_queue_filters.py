"""The queue filters added for the analytics click-throughs (cause, mode, source, line,
created_since/created_before): parsed strictly, dropped when malformed, and round-tripped."""

from __future__ import annotations

from datetime import UTC, datetime

from werkzeug.datastructures import MultiDict

from portal.complaints.queue import QueueQuery


def test_new_filters_parse_and_round_trip():
    query = QueueQuery.from_args(MultiDict({
        "cause": "machine", "mode": "7", "source": "production", "line": " L1 ",
        "created_since": "2026-03-01T00:00:00+08:00", "created_before": "2026-04-01T00:00:00+08:00"}))
    assert (query.cause, query.mode, query.source, query.line) == ("machine", 7, "production", "L1")
    assert query.created_since == datetime(2026, 2, 28, 16, 0, tzinfo=UTC)
    assert query.created_before == datetime(2026, 3, 31, 16, 0, tzinfo=UTC)
    again = QueueQuery.from_args(MultiDict(query.to_args()))
    assert again == query and query.filtered


def test_malformed_values_are_dropped():
    query = QueueQuery.from_args(MultiDict({
        "cause": "<script>", "mode": "-1", "source": "'; DROP", "line": "x" * 500,
        "created_since": "2026-03-01T00:00:00",  # no offset: ambiguous, dropped
        "created_before": "yesterday"}))
    assert (query.cause, query.mode, query.source) == ("", None, "")
    assert len(query.line) == 120
    assert query.created_since is None and query.created_before is None
