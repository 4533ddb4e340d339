"""The RQ worker's clocks: a scheduler lock a dead worker cannot hold for a minute (and that a
living scheduler takes over within seconds), a short heartbeat grace, frequent maintenance under
a short-lived lock, so a job whose worker was killed (SIGKILL, out of memory) is found abandoned
and run again by another worker within a minute.

Each queue has its own scheduler lock. Workers started together split them at random (each
process iterates its set of queue names in its own hash order): one may hold ``photos``, the
other ``default`` and ``mail``. RQ 3.0 retries a lock it lacks from two places only — the
worker's maintenance pass, and only when its scheduler process is *not* running
(``Worker.run_maintenance_tasks``), and the scheduler's own loop, only every
``DEFAULT_SCHEDULER_FALLBACK_PERIOD`` (120 s, ``RQScheduler.should_reacquire_locks``). So when
the worker holding ``photos`` died, the survivor's running scheduler did not take that lock for
up to two minutes, and the dead worker's photo job, scheduled for retry, waited with it."""

from __future__ import annotations

# How often a running scheduler that lacks some queues' locks tries to take them (RQ: 120 s).
REACQUIRE_SECONDS = 3


def short_lease_scheduler(lease: int):
    """RQ's scheduler with a ``lease``-second lock instead of RQ's fixed 61 s, retrying the
    locks it lacks every ``REACQUIRE_SECONDS``.

    One worker's scheduler holds each queue's lock and renews it every second. When that
    worker is killed (SIGKILL, OOM), the lock outlives it for the whole lease, and every
    retry that waits on the scheduler — including the retry of the job the dead worker was
    running — waits with it; a short lease frees it ``lease`` seconds after the death, for
    a living scheduler (or the next worker's maintenance pass) to take. (Written against rq
    3.0's scheduler; rq is held below 4.)"""
    from datetime import datetime

    from rq.scheduler import RQScheduler
    from rq.scripts import ACQUIRE_OR_REFRESH_LOCK_SCRIPT, acquire_or_refresh_lock
    from rq.utils import now, utcformat

    class ShortLeaseScheduler(RQScheduler):
        @property
        def should_reacquire_locks(self):  # RQ's, with REACQUIRE_SECONDS for its 120 s
            if self._queue_names == self.acquired_locks:
                return False
            return not self.lock_acquisition_time or (
                datetime.now() - self.lock_acquisition_time).total_seconds() >= REACQUIRE_SECONDS

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
    from rq.utils import now as utcnow

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

        def clean_registries(self):
            # RQ's own, under a lock of ``maintenance_interval * 2`` instead of 899 s: a worker
            # killed while cleaning would otherwise stop every queue's cleaning (and so the
            # recovery of abandoned jobs) for a quarter of an hour.
            from rq import worker_registration
            from rq.registry import clean_registries

            lease = max(2 * int(self.maintenance_interval), 10)
            for queue in self.queues:
                if self.connection.set(queue.registry_cleaning_key, 1, nx=True, ex=lease):
                    self.log.info("Worker %s: cleaning registries for queue: %s", self.name,
                                  queue.name)
                    clean_registries(queue, self._exc_handlers)
                    worker_registration.clean_worker_registry(queue)
                    queue.intermediate_queue.cleanup(self, queue)
                    queue.release_maintenance_lock()
            self.last_cleaned_at = utcnow()

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
