"""The RQ worker's clocks: a scheduler lock a dead worker cannot hold for a minute, a short
heartbeat grace and frequent maintenance, so a job whose worker was killed (SIGKILL, out of
memory) is found abandoned and run again by another worker within a minute."""

from __future__ import annotations


def short_lease_scheduler(lease: int):
    """RQ's scheduler with a ``lease``-second lock instead of RQ's fixed 61 s.

    One worker's scheduler holds each queue's lock and renews it every second. When that
    worker is killed (SIGKILL, OOM), the lock outlives it for the whole lease, and every
    retry that waits on the scheduler — including the retry of the job the dead worker was
    running — waits with it. Renewing to a short lease after RQ's own renewal keeps the
    lock while the scheduler lives and frees it ``lease`` seconds after it dies, for the
    next worker's maintenance pass to take. (Written against rq 3.0's scheduler; rq is
    held below 4.)"""
    from datetime import datetime

    from rq.scheduler import RQScheduler
    from rq.scripts import ACQUIRE_OR_REFRESH_LOCK_SCRIPT, acquire_or_refresh_lock
    from rq.utils import now, utcformat

    class ShortLeaseScheduler(RQScheduler):
        # RQ's acquire_locks() and heartbeat() with ``lease`` in place of interval + 60, in
        # one step each (renewing to 61 s and shortening after would leave a window).
        def acquire_locks(self, auto_start=False):
            self._acquired_locks = {
                name for name in self._queue_names
                if acquire_or_refresh_lock(self.connection, self.get_locking_key(name),
                                           self.name, lease) in ("acquired", "refreshed")}
            self._scheduled_job_registries = []
            self.lock_acquisition_time = datetime.now()
            if self._acquired_locks and auto_start and (
                    not self._process or not self._process.is_alive()):
                self.start()
            return self._acquired_locks

        def heartbeat(self):
            self.last_heartbeat = now()
            names = sorted(self._acquired_locks)
            script = self.connection.register_script(ACQUIRE_OR_REFRESH_LOCK_SCRIPT)
            with self.connection.pipeline() as pipeline:
                pipeline.hset(self.key, "last_heartbeat", utcformat(self.last_heartbeat))
                pipeline.expire(self.key, self.interval + 60)
                for name in names:
                    script(keys=[self.get_locking_key(name)], args=[self.name, lease],
                           client=pipeline)
                results = pipeline.execute()
            lost = {name for name, outcome in zip(names, results[2:], strict=True)
                    if outcome == 0}
            if lost:  # taken over by another scheduler after ours lapsed: stop scheduling them
                self.log.warning("Scheduler locks for %s were taken over", ", ".join(lost))
                self._acquired_locks -= lost
                self._scheduled_job_registries = []

    return ShortLeaseScheduler


def worker_class(config):
    """RQ's Worker with the app's clocks: a shorter heartbeat grace and a scheduler whose
    lock is short-leased (see ``short_lease_scheduler``)."""
    from rq import Worker

    grace = int(config.get("RQ_HEARTBEAT_GRACE", 15))
    scheduler_class = short_lease_scheduler(int(config.get("RQ_SCHEDULER_LOCK_SECONDS", 15)))

    class ClosingLoopWorker(Worker):
        # RQ adds a fixed 60 s to every heartbeat; a configurable grace lets a killed worker's
        # job be found abandoned (and retried) in seconds rather than minutes.
        def get_heartbeat_ttl(self, job, working_time: float = 0.0) -> int:
            return super().get_heartbeat_ttl(job, working_time) - 60 + grace

        @property
        def dequeue_timeout(self) -> int:
            # An idle worker blocks in BLPOP for this long and runs maintenance (which finds
            # abandoned jobs) only between waits: RQ's worker_ttl - 15 (405 s) is too late.
            return max(1, min(self.worker_ttl - 15, int(self.maintenance_interval)))

        def _start_scheduler(self, burst=False, logging_level="INFO", date_format=None,
                             log_format=None):
            # RQ's own, with a scheduler whose lock a dead worker cannot hold for a minute.
            self.scheduler = scheduler_class(self.queues, connection=self.connection,
                                             logging_level=logging_level or self.log.level,
                                             serializer=self.serializer)
            self.scheduler.acquire_locks()
            if not self.scheduler.acquired_locks:
                return
            if not burst:
                self.scheduler.start()
                return
            try:
                self.scheduler.register_birth()
                self.scheduler.enqueue_scheduled_jobs()
            finally:
                self.scheduler.release_locks()
                self.scheduler.register_death()

    return ClosingLoopWorker
