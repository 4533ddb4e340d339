"""Settings: the only module that reads the environment.

With no variables set the app runs in its *embedded default* (SQLite, jobs in
process, files and a generated secret under instance/, mail to the log). Setting
any real service (``DATABASE_URL``) or ``CLOSELOOP_ENV=production`` switches to
production mode, where a missing ``SECRET_KEY`` stops start-up, and where serving (web,
worker, clock) refuses to start without Redis and an S3 bucket unless
``CLOSELOOP_SINGLE_MACHINE=1`` says one machine is meant (``require_complete``).
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message says which and how to fix it."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or default


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def _env_float(name: str, default: float) -> float:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc


def _env_ints(name: str, default: list[int]) -> list[int]:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return [int(part) for part in raw.split(",") if part.strip()]
    except ValueError as exc:
        raise ConfigError(f"{name} must be whole numbers separated by commas, got {raw!r}") from exc


def _env_bool(name: str, default: bool) -> bool:
    raw = _env(name)
    if raw is None:
        return default
    return raw.lower() in {"1", "true", "yes", "on"}


def database_uri(url: str) -> str:
    """Use the psycopg 3 driver for any PostgreSQL URL, whatever spelling it came in."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _instance_secret(instance_path: Path) -> str:
    """The embedded default's secret: generated once, kept in instance/ (never in production)."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def require_complete(settings) -> None:
    """Refuse to serve a half production configuration (raises ConfigError).

    Production without ``REDIS_URL`` would run jobs inside web requests, and without
    ``S3_BUCKET`` it would keep files on this machine's disk: both silently break a second
    machine. ``CLOSELOOP_SINGLE_MACHINE=1`` says that is meant. Called by the web app's
    factory and the worker and clock commands, never by ``flask db …`` (migrations need only
    the database)."""
    if not settings.get("CLOSELOOP_PRODUCTION") or settings.get("CLOSELOOP_SINGLE_MACHINE"):
        return
    missing = [name for name in ("REDIS_URL", "S3_BUCKET") if not settings.get(name)]
    if not missing:
        return
    what = {"REDIS_URL": "REDIS_URL is not set, so background jobs would run inside web "
                         "requests and only on this machine",
            "S3_BUCKET": "S3_BUCKET is not set, so uploaded files would stay on this "
                         "machine's disk where no other machine can read them"}
    raise ConfigError(
        "Closeloop is in production mode (DATABASE_URL or CLOSELOOP_ENV=production is set) but "
        + "; ".join(what[name] for name in missing) + ". Set "
        + " and ".join(missing) + ", or set CLOSELOOP_SINGLE_MACHINE=1 if this deployment "
        "is meant to run on one machine only."
    )


def instance_path_override() -> str | None:
    raw = _env("INSTANCE_PATH")
    return str(Path(raw).resolve()) if raw else None


def _abuse_limits() -> dict:
    """Sign-in throttling and request-rate limits (portal/accounts/throttle.py, ratelimits.py)."""
    return {
        # Sign-in throttling (portal/accounts/throttle.py): per account-and-address pair, a
        # few free failures, then delays doubling from the first to the most; per address,
        # a refusal only at abusive volumes (a factory shares one gateway address).
        "SIGNIN_FREE_FAILURES": _env_int("SIGNIN_FREE_FAILURES", 5),
        "SIGNIN_FIRST_DELAY_SECONDS": _env_int("SIGNIN_FIRST_DELAY_SECONDS", 30),
        "SIGNIN_MAX_DELAY_SECONDS": _env_int("SIGNIN_MAX_DELAY_SECONDS", 900),
        "SIGNIN_PAIR_WINDOW_HOURS": _env_int("SIGNIN_PAIR_WINDOW_HOURS", 24),
        "SIGNIN_MAX_FAILURES_PER_ADDRESS": _env_int("SIGNIN_MAX_FAILURES_PER_ADDRESS", 100),
        "SIGNIN_WINDOW_MINUTES": _env_int("SIGNIN_WINDOW_MINUTES", 15),
        # Request-rate limits (Flask-Limiter, portal/ratelimits.py): counters in Redis when
        # REDIS_URL is set (RATELIMIT_STORAGE_URI names another store), else in memory.
        "RATELIMIT_STORAGE_URI": _env("RATELIMIT_STORAGE_URI"),
        # Prepended to the counters' keys: deployments (or test runs) sharing a Redis apart.
        "RATELIMIT_KEY_PREFIX": _env("RATELIMIT_KEY_PREFIX", "closeloop"),
        "SIGNIN_RATE_LIMIT": _env("SIGNIN_RATE_LIMIT", "30 per minute"),
        "SIGNIN_LINK_LIMIT_PER_ADDRESS": _env("SIGNIN_LINK_LIMIT_PER_ADDRESS", "10 per hour"),
        "SIGNIN_LINK_LIMIT_PER_EMAIL": _env("SIGNIN_LINK_LIMIT_PER_EMAIL", "3 per hour"),
        "STAGE_LIMIT_PER_ADDRESS": _env("STAGE_LIMIT_PER_ADDRESS", "60 per hour"),
    }


def load(instance_path: str) -> dict:
    """Build the settings dict from the environment (raises ConfigError on bad settings)."""
    instance = Path(instance_path)
    database_url = _env("DATABASE_URL")
    production = database_url is not None or _env("CLOSELOOP_ENV") == "production"

    secret_key = _env("SECRET_KEY")
    if secret_key is None:
        if production:
            raise ConfigError(
                "SECRET_KEY is not set. In production Closeloop needs a long random "
                "SECRET_KEY in the environment (for example: python -c "
                "'import secrets; print(secrets.token_urlsafe(48))')."
            )
        secret_key = _instance_secret(instance)

    return {
        "CLOSELOOP_PRODUCTION": production,
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_uri(
            database_url or f"sqlite:///{instance / 'closeloop.sqlite3'}"
        ),
        # Idle pooled connections are pinged before use (portal/extensions.py), not every one.
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        **_services(instance),
        # Sessions: server-side rows; the cookie only carries their id.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _env_bool("SESSION_COOKIE_SECURE", production),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=_env_int("SESSION_HOURS", 12)),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,  # tied to the session instead, which expires itself
        "MAX_CONTENT_LENGTH": _env_int("MAX_UPLOAD_MB", 220) * 1024 * 1024,
        "BABEL_DEFAULT_LOCALE": "zh_CN",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "LANGUAGES": ["zh_CN", "en"],
        **_abuse_limits(),
        "SIGNIN_LINK_MINUTES": _env_int("SIGNIN_LINK_MINUTES", 30),
        # Number of trusted proxies in front (X-Forwarded-For/Proto); 0 trusts none.
        "PROXY_HOPS": _env_int("PROXY_HOPS", 0),
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        **_integrations(),
        **_observability(production, instance),
    }



def _integrations() -> dict:
    """Other systems: secrets at rest, webhooks out, e-mail intake and the API's limit."""
    return {
        # Secrets at rest (portal/secretbox.py): Fernet keys, first encrypts; unset derives
        # one from SECRET_KEY.
        "DATA_ENCRYPTION_KEY": _env("DATA_ENCRYPTION_KEY"),
        # Webhooks (portal/webhooks): addresses in private, loopback, link-local or reserved
        # networks are refused unless allowed here: "1" allows them all, or a comma-separated
        # list of networks ("10.20.0.0/16,127.0.0.1/32") allows just those.
        "WEBHOOK_ALLOW_PRIVATE": _env("WEBHOOK_ALLOW_PRIVATE"),
        "WEBHOOK_TIMEOUT_SECONDS": _env_int("WEBHOOK_TIMEOUT_SECONDS", 10),
        # Attempts per delivery, the first retry's delay (doubling after each), and how many
        # failed attempts in a row pause a subscription.
        "WEBHOOK_ATTEMPTS": _env_int("WEBHOOK_ATTEMPTS", 6),
        "WEBHOOK_BACKOFF_SECONDS": _env_int("WEBHOOK_BACKOFF_SECONDS", 30),
        "WEBHOOK_PAUSE_AFTER": _env_int("WEBHOOK_PAUSE_AFTER", 15),
        # E-mail intake (portal/mailin): a CA bundle for IMAP servers with a private CA, and
        # seconds between polls of each connected mailbox (by `flask clock`).
        "MAIL_INTAKE_CA_FILE": _env("MAIL_INTAKE_CA_FILE"),
        "MAIL_INTAKE_INTERVAL": _env_int("MAIL_INTAKE_INTERVAL", 120),
        # Calls per API token (Flask-Limiter syntax), counted where the other limits are.
        "API_RATE_LIMIT": _env("API_RATE_LIMIT", "600/minute;20/second"),
    }


def _services(instance: Path) -> dict:
    """The outside services' settings: jobs (Redis + RQ), storage (S3) and mail (SMTP)."""
    return {
        # Jobs: with no Redis, jobs run in process right after the request commits.
        "REDIS_URL": _env("REDIS_URL"),
        "RQ_QUEUES": ["default", "photos", "mail"],
        # Prepended to every RQ queue name, so that several deployments (or test sessions)
        # can share one Redis database without taking each other's jobs.
        "RQ_QUEUE_PREFIX": _env("RQ_QUEUE_PREFIX", ""),
        # Retries of failed jobs (seconds between attempts) and the worker's clocks; tests
        # shorten them instead of sleeping. A job whose worker died is retried once its
        # heartbeat (monitoring interval + grace) has lapsed and a maintenance pass sees it.
        "RQ_RETRY_INTERVALS": _env_ints("RQ_RETRY_INTERVALS", [5, 15, 60, 300, 900]),
        # Defaults recover a SIGKILLed worker's job within a minute: its heartbeat lapses
        # after monitoring + grace (25 s), a maintenance pass (every 15 s) finds it, and the
        # dead worker's scheduler lock expires after RQ_SCHEDULER_LOCK_SECONDS, so the retry
        # it schedules is not held up (RQ's own lease is 61 s).
        "RQ_MAINTENANCE_INTERVAL": _env_int("RQ_MAINTENANCE_INTERVAL", 15),
        "RQ_JOB_MONITORING_INTERVAL": _env_int("RQ_JOB_MONITORING_INTERVAL", 10),
        "RQ_HEARTBEAT_GRACE": _env_int("RQ_HEARTBEAT_GRACE", 15),
        "RQ_SCHEDULER_LOCK_SECONDS": _env_int("RQ_SCHEDULER_LOCK_SECONDS", 15),
        "RQ_WORKER_TTL": _env_int("RQ_WORKER_TTL", 420),
        # Storage: S3 when a bucket is named, else files under instance/storage.
        "S3_ENDPOINT_URL": _env("S3_ENDPOINT_URL"),
        "S3_BUCKET": _env("S3_BUCKET"),
        "S3_REGION": _env("S3_REGION", "us-east-1"),
        "AWS_ACCESS_KEY_ID": _env("AWS_ACCESS_KEY_ID"),
        "AWS_SECRET_ACCESS_KEY": _env("AWS_SECRET_ACCESS_KEY"),
        "LOCAL_STORAGE_DIR": str(instance / "storage"),
        # Mail: smtp://user:pass@host:port (smtps:// for TLS); absent prints mail to the log.
        "MAIL_URL": _env("MAIL_URL"),
        "MAIL_FROM": _env("MAIL_FROM", "Closeloop <no-reply@closeloop.local>"),
        # Public base URL for links in e-mails sent from jobs (no request to derive it from).
        "PUBLIC_URL": _env("PUBLIC_URL", "http://127.0.0.1:5000"),
    }


def _observability(production: bool, instance: Path) -> dict:
    """One machine or many, HTTPS, logs, metrics, error reporting and static files
    (require_complete, portal/web.py, observability.py, metrics.py, static_files.py)."""
    log_format = (_env("LOG_FORMAT") or ("json" if production else "text")).lower()
    if log_format not in {"json", "text"}:
        raise ConfigError(f"LOG_FORMAT must be json or text, got {log_format!r}")
    return {
        # Production on one machine on purpose: no Redis and/or no S3 bucket is then allowed.
        "CLOSELOOP_SINGLE_MACHINE": _env_bool("CLOSELOOP_SINGLE_MACHINE", False),
        # Strict-Transport-Security on responses served over HTTPS (0 sends none).
        "HSTS_SECONDS": _env_int("HSTS_SECONDS", 31536000),
        "LOG_FORMAT": log_format,
        "LOG_LEVEL": (_env("LOG_LEVEL") or "INFO").upper(),
        # /metrics: a bearer token, and/or client addresses allowed without one. With
        # neither, /metrics is a 404 (the embedded default allows this machine only).
        "METRICS_TOKEN": _env("METRICS_TOKEN"),
        "METRICS_ALLOW_FROM": [a.strip() for a in (_env(
            "METRICS_ALLOW_FROM", "" if production else "127.0.0.1,::1") or "").split(",")
            if a.strip()],
        "SENTRY_DSN": _env("SENTRY_DSN"),
        "SENTRY_ENVIRONMENT": _env("SENTRY_ENVIRONMENT",
                                   "production" if production else "development"),
        "SENTRY_TRACES_SAMPLE_RATE": _env_float("SENTRY_TRACES_SAMPLE_RATE", 0.0),
        # Static files under content-hashed names, compressed, cached for a year.
        "STATIC_HASHED": _env_bool("STATIC_HASHED", production),
        "STATIC_BUILD_DIR": _env("STATIC_BUILD_DIR", str(instance / "static-build")),
    }
