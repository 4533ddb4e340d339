"""The deadline policy: which clocks run on a complaint, what starts and stops them, their
budgets. DOMAIN.md's table is the default; a tenant overrides it per clock kind in its
``deadline_policy`` setting (only the keys it changes)."""

from __future__ import annotations

from ..i18n import lazy_gettext as _l

UNITS = ("minutes", "hours", "working_hours", "working_days")

# start/stop name workflow transitions, plus "submitted" (the complaint was received) and
# "class_a" (the complaint is seen classified as information class A).
DEFAULTS: dict[str, dict] = {
    "forward": {
        "enabled": True, "amount": 0.5, "unit": "working_days", "customer_visible": False,
        "sources": ["customer", "staff"], "start": ["submitted"],
        "stop": ["accept", "reject"],
    },
    "first_contact": {
        "enabled": True, "amount": 24, "unit": "hours", "customer_visible": True,
        "sources": ["customer", "staff"], "start": ["submitted"],
        "stop": ["start_verification", "request_information", "accept", "reject", "answer"],
    },
    "answer": {
        # A product defect gets its handling opinion within 48 h; a complaint judged misuse
        # or a how-to question (rejected) is answered within 24 h ("misuse_amount").
        "enabled": True, "amount": 48, "misuse_amount": 24, "unit": "hours",
        "customer_visible": True, "sources": ["customer", "staff"], "start": ["submitted"],
        "stop": ["reject", "start_containment", "answer"],
    },
    "class_a_plan": {
        "enabled": True, "amount": 48, "unit": "hours", "customer_visible": True,
        "sources": ["customer", "staff", "production"], "start": ["class_a"],
        "stop": ["start_corrective_action", "answer"],
    },
    "containment": {
        "enabled": True, "amount": 30, "unit": "minutes", "customer_visible": False,
        "sources": ["production"], "start": ["submitted"],
        "stop": ["start_analysis", "answer"],
    },
    "long_term": {
        "enabled": True, "amount": 24, "unit": "hours", "customer_visible": False,
        "sources": ["production"], "start": ["submitted"],
        "stop": ["start_corrective_action", "answer"],
    },
    # Escalation reports: issued at most 72 h after the first complaint behind them.
    "report": {"enabled": True, "amount": 72, "unit": "hours", "customer_visible": False},
    # A returned part's steps (portal/returns/): the goods arrive, after-sales analyses
    # them, quality appraises them in quarantine, after-sales issues good parts.
    "return_receipt": {"enabled": True, "amount": 10, "unit": "working_days",
                       "customer_visible": False},
    "return_analysis": {"enabled": True, "amount": 1, "unit": "working_days",
                        "customer_visible": False},
    "return_appraisal": {"enabled": True, "amount": 2, "unit": "working_days",
                         "customer_visible": False},
    "return_issue": {"enabled": True, "amount": 1, "unit": "working_days",
                     "customer_visible": False},
    # Actions carry their own due time; the clock follows it.
    "action": {"enabled": True, "unit": "hours", "customer_visible": False},
    # The recurrence check after an effective verdict: on the follow-up date quality sets
    # (three months later by default; deadlines/recurrence.py).
    "recurrence_check": {"enabled": True, "unit": "hours", "customer_visible": False},
}

# Clocks whose due time is a date someone sets, not a budget of the policy.
OWN_DUE_DATE = ("action", "recurrence_check")

LABELS = {
    "forward": _l("Forward to quality and technical"),
    "first_contact": _l("First contact with the customer"),
    "answer": _l("Answer with a handling opinion"),
    "class_a_plan": _l("Class-A solution plan"),
    "containment": _l("Production exception: temporary measure"),
    "long_term": _l("Production exception: long-term measure"),
    "report": _l("Escalation report issued"),
    "action": _l("Action due"),
    "return_receipt": _l("Return: goods received"),
    "return_analysis": _l("Return: first analysis"),
    "return_appraisal": _l("Return: appraisal by quality"),
    "return_issue": _l("Return: good parts issued"),
    "recurrence_check": _l("Recurrence check after effective actions"),
}

# What the customer reads for the clocks promised to them.
PROMISE_LABELS = {
    "first_contact": _l("We will contact you"),
    "answer": _l("You will have our answer"),
    "class_a_plan": _l("You will have our solution plan"),
}


class PolicyError(ValueError):
    def __init__(self, kind: str, field: str, message):
        super().__init__(str(message))
        self.kind, self.field, self.message = kind, field, message


def policy_for(tenant) -> dict[str, dict]:
    """The tenant's effective policy: the defaults with its overrides laid over them."""
    overrides = tenant.setting("deadline_policy") or {}
    # A copy of each rule and its lists (the rules hold only scalars and lists of codes):
    # ``copy.deepcopy`` was most of this function's cost, and a queue page asks for it.
    result = {kind: {key: list(value) if isinstance(value, list) else value
                     for key, value in rule.items()} for kind, rule in DEFAULTS.items()}
    for kind, values in overrides.items():
        if kind in result and isinstance(values, dict):
            result[kind].update(values)
    return result


def budget_minutes(rule: dict, day_minutes: int, amount_key: str = "amount") -> tuple[float, bool]:
    """``(minutes, working_time)`` for a rule; half a working day on a 7.5-hour day is 225."""
    amount = float(rule.get(amount_key, rule.get("amount", 0)) or 0)
    unit = rule.get("unit", "hours")
    if unit == "minutes":
        return amount, False
    if unit == "hours":
        return amount * 60, False
    if unit == "working_hours":
        return amount * 60, True
    if unit == "working_days":
        return amount * day_minutes, True
    raise PolicyError("", "unit", _l("Unknown unit."))


def validate_rule(kind: str, values: dict) -> dict:
    """Clean one clock's edited values; raises PolicyError naming the field at fault."""
    clean: dict = {"enabled": bool(values.get("enabled"))}
    if kind not in OWN_DUE_DATE:
        for key in ("amount", "misuse_amount"):
            if key not in DEFAULTS[kind]:
                continue
            raw = values.get(key)
            try:
                amount = float(str(raw).strip())
            except (TypeError, ValueError):
                raise PolicyError(kind, key, _l("Enter a number.")) from None
            if not (0 < amount <= 24 * 60):
                raise PolicyError(kind, key, _l("Enter a number above 0 and at most 1440."))
            clean[key] = amount
        unit = values.get("unit")
        if unit not in UNITS:
            raise PolicyError(kind, "unit", _l("Choose a value from the list."))
        clean["unit"] = unit
    return clean
