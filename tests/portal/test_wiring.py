"""Honest wiring: reading create_app shows what reacts to a complaint, and the core does not
import the jobs package (the commands that run or enqueue jobs are the jobs' own)."""

import ast
from pathlib import Path

from portal.complaints import operations, workflow

ROOT = Path(__file__).resolve().parents[2]


def test_the_factory_registers_the_listeners_once(app):
    from portal import create_app, deadlines, events, surveys
    from portal.deadlines import clocks, escalation
    from portal.suppliers import warranty

    # register_listeners, then register_events (the domain events announced to subscribers)
    assert workflow._listeners == [clocks.on_transition, escalation.on_transition,
                                   surveys.on_transition, events._on_transition]
    assert operations._submitted_listeners == [clocks.on_submitted, escalation.on_submitted,
                                               warranty.on_submitted, events._on_submitted]
    assert operations._changed_listeners == [deadlines.follow_changes]
    create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    assert len(workflow._listeners) == 4  # a second app registers nothing twice


def _imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module":
            names.update(a.value for a in node.args if isinstance(a, ast.Constant))
    return names


def test_the_core_and_the_web_areas_do_not_import_jobs():
    offenders = []
    for package in ("portal", "customer", "internal"):
        for path in (ROOT / package).rglob("*.py"):
            if any(m == "jobs" or m.startswith("jobs.") for m in _imported_modules(path)):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_the_job_commands_are_found_by_flask(app):
    """``worker``, ``clock`` and ``sweep`` come from the jobs package's entry points, not from
    the core's own registration."""
    import click
    from flask.cli import FlaskGroup, ScriptInfo

    cli = FlaskGroup(create_app=lambda: app)
    context = click.Context(cli, obj=ScriptInfo(create_app=lambda: app))
    assert {"worker", "clock", "sweep", "relay", "demo"} <= set(cli.list_commands(context))
    assert not {"worker", "clock", "sweep"} & set(app.cli.commands)
