"""Closeloop's application core: the factory that assembles the app from its parts."""

from __future__ import annotations

import os

from flask import Flask

from . import config


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app: settings, observability, extensions, tenancy, listeners, events,
    blueprints, CLI, error pages.

    Raises ``config.ConfigError`` on a bad or (when serving) half production configuration.
    Does no database or network I/O (migrations run in the release step, clients are
    built lazily). ``overrides`` replace settings (tests use it).
    """
    # INSTANCE_PATH moves the embedded default's files (database, secret, storage) elsewhere.
    app = Flask(__name__, instance_relative_config=True,
                instance_path=config.instance_path_override())
    app.config.from_mapping(config.load(app.instance_path))
    if overrides:
        app.config.update(overrides)
        if "SQLALCHEMY_DATABASE_URI" in overrides:
            app.config["SQLALCHEMY_DATABASE_URI"] = config.database_uri(
                overrides["SQLALCHEMY_DATABASE_URI"])

    if os.environ.get("FLASK_RUN_FROM_CLI") != "true":
        # Serving (gunicorn imports this factory): refuse a half production configuration.
        # Under the flask CLI, `db …` needs the database only; worker and clock check there.
        config.require_complete(app.config)

    register_observability(app)
    register_extensions(app)
    register_tenancy(app)
    register_listeners(app)
    register_events(app)
    register_blueprints(app)
    register_cli(app)
    register_errors(app)
    return app


def register_observability(app: Flask) -> None:
    """First, so its request id and timing wrap every other hook (logs, metrics, Sentry)."""
    from . import observability, static_files

    observability.register(app)
    static_files.register(app)


def register_extensions(app: Flask) -> None:
    from . import i18n, ratelimits
    from .extensions import babel, csrf, db, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(_project_root() / "migrations"),
                     render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    login_manager.session_protection = None  # sessions are server-side rows; see accounts
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale,
                   timezone_selector=i18n.select_timezone)
    i18n.register(app)
    ratelimits.init_app(app)  # request-rate limits (Redis, or memory embedded) and the 429 page
    if app.config.get("PROXY_HOPS"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["PROXY_HOPS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def register_tenancy(app: Flask) -> None:
    from . import accounts  # noqa: F401  (registers the user loader)
    from .tenancy import register_tenancy as _register

    _register(app)


def register_listeners(app: Flask) -> None:
    """What reacts to a complaint, inside the transaction of the change (workflow.py):

    - a transition: the deadline clocks stop, pause or start; the escalation check looks at
      the defect ratios; a closed complaint queues its satisfaction survey;
    - a submission: the first clocks start; the escalation check counts the new complaint;
    - another change (classified, actions added): the clocks catch up; a classification is
      counted in the defect ratios.

    Notifications go out from these (the sweep's warnings, an opened report), not from a
    listener of their own. Any flush writing a complaint also moves its counts in the
    analytics rollup (portal/analytics/rollup.py, a session hook registered on import).
    Registering is idempotent (tests build many apps)."""
    from . import deadlines, surveys
    from .analytics import rollup  # noqa: F401  (the rollup's flush hooks)
    from .complaints import operations, workflow
    from .deadlines import clocks, escalation
    from .suppliers import warranty

    workflow.on_transition(clocks.on_transition)
    workflow.on_transition(escalation.on_transition)
    workflow.on_transition(surveys.on_transition)
    operations.on_submitted(clocks.on_submitted)
    operations.on_submitted(escalation.on_submitted)
    operations.on_submitted(warranty.on_submitted)
    operations.on_changed(deadlines.follow_changes)


def register_events(app: Flask) -> None:
    """Domain events (portal/events.py) and their subscribers: webhooks."""
    from . import events

    events.register(app)


def register_blueprints(app: Flask) -> None:
    from customer import blueprint as customer_bp
    from internal import blueprint as internal_bp

    from .health import blueprint as health_bp
    from .web import blueprint as web_bp

    app.register_blueprint(health_bp)
    app.register_blueprint(web_bp)
    app.register_blueprint(internal_bp, url_prefix="/t/<tenant_slug>/staff")
    app.register_blueprint(customer_bp, url_prefix="/t/<tenant_slug>")
    _register_administration(app)
    _register_api(app)


def _register_api(app: Flask) -> None:
    """The REST API and its OpenAPI document at /t/<slug>/api/v1/ (issue 14)."""
    from .api import init_app

    init_app(app)


def _register_administration(app: Flask) -> None:
    """Sign-up, the platform operator area and tenant branding (issue 7)."""
    from .branding import blueprint as branding_bp
    from .operator import blueprint as operator_bp
    from .signup import blueprint as signup_bp

    app.register_blueprint(signup_bp)
    app.register_blueprint(operator_bp)
    app.register_blueprint(branding_bp, url_prefix="/t/<tenant_slug>/brand")


def register_cli(app: Flask) -> None:
    from .cli import register

    register(app)


def register_errors(app: Flask) -> None:
    from .web import register_error_pages, register_security_headers, register_template_helpers

    register_error_pages(app)
    register_security_headers(app)
    register_template_helpers(app)


def _project_root():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent
