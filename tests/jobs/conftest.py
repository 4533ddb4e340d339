"""Real parts for the job tests: a committed PostgreSQL schema the worker process can reach,
Redis database 3, moto's S3 over HTTP, an aiosmtpd sink, a proxy that can break S3, and real
`flask worker` processes.

Ports 5300-5399 belong to these tests (offset per xdist worker); Redis database 3 is theirs.
Several test sessions may share that database on one machine, so each session's queues carry
its own prefix (RQ_QUEUE_PREFIX) and only keys with that prefix are ever deleted.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from tests.conftest import DATABASE_URL, make_app

ROOT = Path(__file__).resolve().parents[2]
REDIS_DB = 3
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0] \
    + f"/{REDIS_DB}"
_OFFSET = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").lstrip("gw") or 0) * 10
MOTO_PORT, PROXY_PORT, SMTP_PORT, CLOSED_PORT = (5310 + _OFFSET, 5311 + _OFFSET,
                                                 5312 + _OFFSET, 5319 + _OFFSET)
BUCKET = "closeloop-test"
QUEUE_PREFIX = f"t{uuid.uuid4().hex[:8]}-"

needs_services = pytest.mark.skipif(DATABASE_URL.startswith("sqlite"),
                                    reason="needs PostgreSQL, Redis, S3 and SMTP")


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class FlakyProxy:
    """A TCP proxy in front of S3 that drops the first ``refuse`` connections it accepts."""

    def __init__(self, port: int, target: tuple[str, int]):
        self.target = target
        self.refuse = 0
        self.refused = 0
        self.server = socket.create_server(("127.0.0.1", port), reuse_port=False)
        self.server.settimeout(0.2)
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                client, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self.refuse > 0:
                self.refuse -= 1
                self.refused += 1
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                client.close()  # a reset, as from a failing load balancer
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            threading.Thread(target=self._relay, args=(client, upstream), daemon=True).start()

    @staticmethod
    def _relay(client, upstream):
        import selectors

        selector = selectors.DefaultSelector()
        selector.register(client, selectors.EVENT_READ, upstream)
        selector.register(upstream, selectors.EVENT_READ, client)
        try:
            while True:
                for key, _ in selector.select(timeout=30):
                    chunk = key.fileobj.recv(65536)
                    if not chunk:
                        return
                    key.data.sendall(chunk)
        except OSError:
            pass
        finally:
            selector.close()
            client.close()
            upstream.close()

    def close(self):
        self._stop.set()
        self.server.close()


class Sink:
    """An aiosmtpd handler keeping every message."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 OK"

    def to(self, address: str):
        with self.lock:
            return [m for m in self.messages if m["To"] == address]


class Services:
    """Everything a test needs to drive the real worker."""

    def __init__(self, schema, storage_dir, instance_dir, moto_url, proxy, sink):
        self.schema = schema
        self.moto_url = moto_url
        self.proxy = proxy
        self.sink = sink
        self.instance_dir = instance_dir
        self.database_url = (DATABASE_URL + ("&" if "?" in DATABASE_URL else "?")
                             + "options=" + quote(f"-csearch_path={schema}", safe=""))
        self.settings = {
            "REDIS_URL": REDIS_URL, "S3_BUCKET": BUCKET, "S3_ENDPOINT_URL": moto_url,
            "S3_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
            "MAIL_URL": f"smtp://127.0.0.1:{SMTP_PORT}", "PUBLIC_URL": "http://closeloop.test",
            "RQ_RETRY_INTERVALS": [1, 1, 1, 2, 2], "RQ_QUEUE_PREFIX": QUEUE_PREFIX,
        }
        self.app = make_app(schema, LOCAL_STORAGE_DIR=storage_dir, **self.settings)
        self.workers: list[subprocess.Popen] = []
        self.extra_apps: list = []

    def app_with(self, **overrides):
        settings = {**self.settings, **overrides}
        app = make_app(self.schema, LOCAL_STORAGE_DIR=str(self.instance_dir / "storage"),
                       **settings)
        self.extra_apps.append(app)
        return app

    def dispose(self):
        from portal.extensions import db

        for app in [self.app, *self.extra_apps]:
            with app.app_context():
                db.engine.dispose()

    def worker_env(self, **extra) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("S3_", "AWS_"))}
        env.update({
            "DATABASE_URL": self.database_url, "SECRET_KEY": "test-secret-key",
            "REDIS_URL": REDIS_URL, "S3_BUCKET": BUCKET, "S3_ENDPOINT_URL": self.moto_url,
            "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "S3_REGION": "us-east-1",
            "MAIL_URL": f"smtp://127.0.0.1:{SMTP_PORT}", "PUBLIC_URL": "http://closeloop.test",
            "INSTANCE_PATH": str(self.instance_dir), "PYTHONPATH": str(ROOT),
            "RQ_RETRY_INTERVALS": "1,1,1,2,2", "RQ_MAINTENANCE_INTERVAL": "1",
            "RQ_JOB_MONITORING_INTERVAL": "1", "RQ_HEARTBEAT_GRACE": "2", "RQ_WORKER_TTL": "16",
            "PYTHONWARNINGS": "ignore", "RQ_QUEUE_PREFIX": QUEUE_PREFIX,
        })
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def start_worker(self, *args: str, **env) -> subprocess.Popen:
        """`flask --app portal worker` as its own process group (so SIGKILL takes its work
        horse too). Output goes to a log file next to the instance directory."""
        path = self.instance_dir / f"worker-{len(self.workers)}.log"
        with open(path, "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "portal", "worker", *args],
                cwd=ROOT, env=self.worker_env(**env), stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        process.log_path = path
        self.workers.append(process)
        return process

    def stop_workers(self):
        for process in self.workers:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.workers:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.workers.clear()

    def worker_logs(self) -> str:
        return "\n".join(Path(p).read_text(errors="replace")[-4000:]
                         for p in sorted(self.instance_dir.glob("worker-*.log")))

    @contextmanager
    def tenant_context(self, tenant=None, app=None):
        from portal.extensions import db
        from portal.tenancy import activate, unscoped

        with (app or self.app).app_context():
            with activate(tenant) if tenant is not None else unscoped():
                yield db
            db.session.remove()

    def s3_keys(self, prefix: str = "") -> list[str]:
        import boto3

        client = boto3.client("s3", endpoint_url=self.moto_url, region_name="us-east-1",
                              aws_access_key_id="test", aws_secret_access_key="test")
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
        return sorted(o["Key"] for page in pages for o in page.get("Contents", []))

    def s3_get(self, key: str) -> bytes:
        import boto3

        client = boto3.client("s3", endpoint_url=self.moto_url, region_name="us-east-1",
                              aws_access_key_id="test", aws_secret_access_key="test")
        return client.get_object(Bucket=BUCKET, Key=key)["Body"].read()


@pytest.fixture(scope="session")
def services(tmp_path_factory):
    if DATABASE_URL.startswith("sqlite"):
        pytest.skip("needs PostgreSQL, Redis, S3 and SMTP")
    import boto3
    from aiosmtpd.controller import Controller
    from moto.server import ThreadedMotoServer

    from portal.extensions import db

    schema = f"jobs_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=MOTO_PORT, verbose=False)
    moto.start()
    moto_url = f"http://127.0.0.1:{MOTO_PORT}"
    boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1", aws_access_key_id="test",
                 aws_secret_access_key="test").create_bucket(Bucket=BUCKET)
    proxy = FlakyProxy(PROXY_PORT, ("127.0.0.1", MOTO_PORT))
    sink = Sink()
    smtp = Controller(sink, hostname="127.0.0.1", port=SMTP_PORT)
    smtp.start()
    instance = tmp_path_factory.mktemp("jobs-instance")
    svc = Services(schema, str(instance / "storage"), instance, moto_url, proxy, sink)
    with svc.app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    try:
        yield svc
    finally:
        svc.stop_workers()
        smtp.stop()
        proxy.close()
        moto.stop()
        svc.dispose()
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
        _flush_redis()


def _flush_redis():
    """Delete this session's RQ keys (its queues, registries, locks and jobs) in database 3."""
    from redis import Redis

    connection = Redis.from_url(REDIS_URL)
    assert connection.connection_pool.connection_kwargs["db"] == REDIS_DB
    job_ids = set()
    for key in connection.scan_iter(match=f"*{QUEUE_PREFIX}*", count=1000):
        kind = connection.type(key)
        if kind == b"list":
            job_ids.update(connection.lrange(key, 0, -1))
        elif kind == b"zset":
            job_ids.update(m.split(b":")[0] for m in connection.zrange(key, 0, -1))
        connection.delete(key)
    for job_id in job_ids:
        connection.delete(b"rq:job:" + job_id, b"rq:results:" + job_id)
    connection.close()


@pytest.fixture
def real(services):
    """A clean Redis database 3 and no worker left running after the test."""
    _flush_redis()
    services.proxy.refuse = 0
    services.proxy.refused = 0
    try:
        yield services
    finally:
        services.stop_workers()
