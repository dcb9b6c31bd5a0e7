"""Drives a Daemon's jobs on the fake clock, in-process, as APScheduler's loop would.

The daemon's scheduler is started paused, so no thread of its own runs a job; `drive` moves
the clock in steps and runs each job whose next fire has come (coalesced, as configured: one
run however many fires were missed), then asks the job's own trigger for its next fire. The
decisions under test (which slot a fire belongs to, the ledger's claims, catch-up, the
triggers across DST) are the daemon's own code; only the waiting is the test's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from apscheduler.job import Job

from fakes import FakeClock
from nightly_batch.daemon.sdnotify import SystemdNotifier
from nightly_batch.daemon.service import Daemon
from nightly_batch.runtime.app import App


@contextmanager
def driven_daemon(app: App) -> Iterator[Daemon]:
    """A Daemon with its jobs scheduled on `app`'s clock and its scheduler paused."""
    daemon = Daemon(app, SystemdNotifier({}))
    daemon.schedule_jobs()
    daemon.scheduler.start(paused=True)
    try:
        yield daemon
    finally:
        daemon.scheduler.shutdown(wait=False)


def run_due(daemon: Daemon, now: datetime) -> list[str]:
    """Run every job due at `now` once (earliest first), as APScheduler 3 does: fires later
    than the job's misfire grace are dropped, the rest coalesce into one run; returns the ids
    of the jobs that ran."""
    ran = []
    due = [
        job
        for job in daemon.scheduler.get_jobs()
        if job.next_run_time is not None and job.next_run_time <= now
    ]
    for job in sorted(due, key=lambda job: job.next_run_time):
        fires = _fires_until(job, now)
        grace = job.misfire_grace_time
        if any(grace is None or (now - fire).total_seconds() <= grace for fire in fires):
            job.func(*job.args, **job.kwargs)
            ran.append(job.id)
        if daemon.scheduler.get_job(job.id) is None:
            continue
        following = job.trigger.get_next_fire_time(fires[-1], now)
        if following is None:
            job.remove()  # a one-off job (catch-up) is done, or was missed
        else:
            job.modify(next_run_time=following)
    return ran


def _fires_until(job: Job, now: datetime) -> list[datetime]:
    fires = [job.next_run_time]
    while True:
        following = job.trigger.get_next_fire_time(fires[-1], now)
        if following is None or following > now or following <= fires[-1]:
            return fires
        fires.append(following)


def drive(
    daemon: Daemon, clock: FakeClock, until: datetime, step: timedelta = timedelta(minutes=5)
) -> list[tuple[str, datetime]]:
    """Move `clock` to `until` in `step`s, running what falls due; returns (job, when) in order."""
    fired = [(job, clock.now()) for job in run_due(daemon, clock.now())]
    while clock.now() < until:
        clock.advance(min(step, until - clock.now()))
        fired += [(job, clock.now()) for job in run_due(daemon, clock.now())]
    return fired
