"""The house limits: no module over 450 lines and no function over 60 in the core, the
customer portal, the staff workspace and the jobs (tools/check_sizes.py lists every
offender)."""

from tools.check_sizes import problems


def test_no_module_or_function_over_the_limits():
    assert problems() == []
