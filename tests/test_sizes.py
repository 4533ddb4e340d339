"""The house limits: no module over 450 lines and no function over 60 in the core, the
customer portal and the jobs (tools/check_sizes.py lists every offender; internal/ is checked
there too)."""

from tools.check_sizes import problems


def test_no_module_or_function_over_the_limits():
    over = [p for p in problems() if not p.startswith("internal/")]
    assert over == []
