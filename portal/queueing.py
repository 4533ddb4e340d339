"""Queueing through the outbox: enqueue() writes a row in the caller's transaction; after
commit the row is relayed to RQ (or, in the embedded default, run in process).

portal/ names jobs by dotted path ("jobs.mail.send_email") so it never imports jobs/.
"""

from __future__ import annotations

import importlib
import logging
import uuid
from datetime import datetime

from flask import current_app
from sqlalchemy import or_, select

from .extensions import db
from .models import OutboxMessage, utcnow
from .observability import bound, current_request_id
from .tenancy import active_tenant_id, unscoped

log = logging.getLogger(__name__)

_clients: dict = {}


def redis_connection():
    """The Redis client for the configured URL, built on first use (never at import)."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    client = _clients.get(url)
    if client is None:
        from redis import Redis

        client = _clients[url] = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    return client


def enqueue(job: str, *args, queue: str = "default", run_at: datetime | None = None,
            job_id: str | None = None) -> OutboxMessage:
    """Write a job to the outbox in the current transaction. It runs after commit.

    ``args`` must be JSON-serialisable ids and strings. The active tenant's id is passed
    to the job as its first argument; the current request id rides along (RQ job meta) so
    the job's log lines carry it. ``job_id`` makes the enqueue idempotent.
    """
    message = OutboxMessage(
        tenant_id=active_tenant_id(), queue=queue, job=job, args=list(args),
        job_id=job_id or uuid.uuid4().hex, run_at=run_at, request_id=current_request_id(),
    )
    db.session.add(message)
    db.session.flush()
    db.session.info.setdefault("outbox_ids", []).append(message.id)
    return message


def _call(message: OutboxMessage) -> None:
    module_name, _, func_name = message.job.rpartition(".")
    func = getattr(importlib.import_module(module_name), func_name)
    with bound(request_id=message.request_id):
        func(message.tenant_id, *message.args)


IN_PROCESS_ATTEMPTS = 5


def relay_pending(ids: list[int] | None = None, limit: int = 500) -> int:
    """Move committed outbox messages to RQ (or run them in process). Returns how many moved.

    Safe to call from several processes at once (web requests, every worker's relay thread):
    each message is taken under a row lock that other relays skip, and its RQ job id is the
    message's stable id, so a message whose "relayed" mark was lost in a crash is not pushed
    a second time while its job still exists. Commits after each message. When Redis is down
    the pass stops at the first failure; the message stays pending for the next pass.
    """
    now = utcnow()
    redis_mode = _has_redis()
    with unscoped():
        query = select(OutboxMessage.id).where(OutboxMessage.relayed_at.is_(None))
        if ids is not None:
            query = query.where(OutboxMessage.id.in_(ids))
        if not redis_mode:  # in process, only what is due (RQ's scheduler holds the rest),
            # and not forever: a job that failed five times stays visible in the outbox.
            query = query.where(or_(OutboxMessage.run_at.is_(None), OutboxMessage.run_at <= now),
                                OutboxMessage.attempts < IN_PROCESS_ATTEMPTS)
        candidates = list(db.session.scalars(query.order_by(OutboxMessage.id).limit(limit)))
        db.session.commit()
        moved = 0
        for message_id in candidates:
            message = db.session.scalar(
                select(OutboxMessage)
                .where(OutboxMessage.id == message_id, OutboxMessage.relayed_at.is_(None))
                .with_for_update(skip_locked=True)
            )
            if message is None:  # relayed meanwhile, or another relay holds it right now
                db.session.commit()
                continue
            try:
                if redis_mode:
                    _push(message)
                else:
                    _call(message)
                message.relayed_at = utcnow()
                moved += 1
            except Exception as exc:  # noqa: BLE001 — kept for the next relay pass
                message.attempts += 1
                message.last_error = repr(exc)[:2000]
                log.warning("outbox message %s not relayed: %r", message.id, exc)
                if redis_mode:
                    db.session.commit()
                    break  # Redis is likely down; the relay loop tries again
            db.session.commit()
    return moved


def queue_name(name: str) -> str:
    """The RQ queue a logical queue ("photos", "mail") maps to under RQ_QUEUE_PREFIX."""
    return (current_app.config.get("RQ_QUEUE_PREFIX") or "") + name


def _has_redis() -> bool:
    return bool(current_app.config.get("REDIS_URL"))


def _push(message: OutboxMessage) -> None:
    from rq import Queue, Retry
    from rq.job import Job

    connection = redis_connection()
    if Job.exists(message.job_id, connection=connection):
        return  # pushed before, and the commit recording it was lost: one job, not two
    queue = Queue(queue_name(message.queue), connection=connection)
    intervals = list(current_app.config.get("RQ_RETRY_INTERVALS") or [5, 15, 60, 300, 900])
    kwargs = dict(job_id=message.job_id, retry=Retry(max=len(intervals), interval=intervals),
                  failure_ttl=30 * 24 * 3600, meta={"request_id": message.request_id},
                  # RQ logs the description; the default lists the arguments, and a mail's
                  # body holds sign-in links. The name and the outbox id are enough.
                  description=f"{message.job} (outbox {message.id})")
    args = (message.tenant_id, *message.args)
    if message.run_at and message.run_at > utcnow():
        queue.enqueue_at(message.run_at, message.job, *args, **kwargs)
    else:
        queue.enqueue(message.job, *args, **kwargs)
