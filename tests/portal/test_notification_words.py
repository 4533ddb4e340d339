"""Every notification says what happened in the reader's language: each event of
portal/events.py has its label in English and Chinese, and every notification it turns into
(portal/notifications/routing.py, the deadline sweep) has a subject and a label in both; a
kind nobody named gets a generic wording, never its raw code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask_babel import force_locale

from portal import events
from portal.notifications import messages, routing

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")
DATA = {"number": "QC-2026-0007", "clock_kind": "first_response",
        "due_at": "2026-12-06T08:00:00+00:00", "report_number": "QS-2026-0001",
        "report_kind": "special", "trigger_text": "x", "count": 2, "numbers": ["QC-1"],
        "name": "hook", "url": "https://example.com", "failures": 5, "address": "a@b.c",
        "error": "x"}


def _kinds_routed() -> set[str]:
    """Every notification kind the routing and the sweep can write."""
    source = (ROOT / "portal/notifications/routing.py").read_text(encoding="utf-8")
    kinds = set(re.findall(r'"((?:work|customer)\.[a-z_]+)"', source))
    kinds |= set(routing.CUSTOMER_EVENTS.values())
    from portal.deadlines.sweep import ACTION_KINDS, STEPS

    return kinds | {f"deadline.{step}" for step in STEPS} | set(ACTION_KINDS.values())


def _words(value, locale: str) -> str:
    with force_locale(locale):
        return str(value)


def _subject(kind: str, locale: str) -> str:
    return messages.compose(kind, DATA, locale, "Asia/Shanghai")[0]


@pytest.mark.parametrize("name", sorted(events.EVENTS))
def test_every_domain_event_has_a_label_in_both_languages(app, name):
    with app.test_request_context():
        english, chinese = (_words(events.EVENTS[name], loc) for loc in ("en", "zh_CN"))
    assert english and not CJK.search(english) and english != name
    assert CJK.search(chinese), (name, chinese)


def test_every_notification_kind_has_a_subject_and_a_label_in_both_languages(app):
    kinds = set(messages.EVENTS) | set(messages.CUSTOMER_KINDS)
    routed = _kinds_routed()
    assert routed and routed <= kinds, sorted(routed - kinds)  # a kind written has words
    with app.test_request_context():
        for kind in sorted(kinds):
            label = messages.label(kind)
            assert CJK.search(_words(label, "zh_CN")), kind
            assert not CJK.search(_words(label, "en")), kind
            english, chinese = _subject(kind, "en"), _subject(kind, "zh_CN")
            assert kind not in english and kind not in chinese, kind
            assert CJK.search(chinese) and english != chinese, (kind, english, chinese)


def test_an_unnamed_kind_gets_a_generic_wording_not_its_code(app):
    with app.test_request_context():
        for name in ("request_paid", "something.new"):
            english, chinese = _subject(name, "en"), _subject(name, "zh_CN")
            assert name not in english and name not in chinese
            assert english == "QC-2026-0007: something new for you"
            assert chinese.startswith("QC-2026-0007") and CJK.search(chinese)
            assert CJK.search(_words(messages.label("something.new"), "zh_CN"))
        bare = messages.compose("something.new", {}, "zh_CN", "Asia/Shanghai")[0]
        assert CJK.search(bare) and "something" not in bare
