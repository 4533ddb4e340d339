"""The embedded default (no Redis) runs due outbox work in process, and gives up on a job
after a few failures instead of retrying it forever."""

from datetime import timedelta

from sqlalchemy import select

from portal.models import OutboxMessage, utcnow
from portal.queueing import IN_PROCESS_ATTEMPTS, relay_pending
from portal.tenancy import unscoped


def _message(db, **fields):
    with unscoped():
        message = OutboxMessage(job="no.such.module.job", args=[], job_id=fields.pop("job_id"),
                                **fields)
        db.session.add(message)
        db.session.flush()
        return message.id


def test_failing_job_is_retried_then_left_alone(app, db):
    ident = _message(db, job_id="fails")
    with app.test_request_context():
        for _ in range(IN_PROCESS_ATTEMPTS + 3):
            relay_pending()
    with unscoped():
        message = db.session.get(OutboxMessage, ident)
        db.session.refresh(message)
    assert message.attempts == IN_PROCESS_ATTEMPTS
    assert message.relayed_at is None and "no" in message.last_error


def test_work_not_yet_due_waits(app, db):
    ident = _message(db, job_id="later", run_at=utcnow() + timedelta(hours=1))
    with app.test_request_context():
        assert relay_pending() == 0
    with unscoped():
        message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.id == ident))
    assert message.attempts == 0 and message.relayed_at is None
