"""The heartbeat task: prove liveness, retry owed deliveries, keep the runtime store small.

It reads and rewrites the shared state only after it delivered an owed digest (to stamp
`lastDigestNotificationAt`), so a quiet heartbeat's cost does not grow with the queue.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from nightly_batch.core.clock import iso_utc
from nightly_batch.errors import NightlyBatchError
from nightly_batch.observability.events import get_logger
from nightly_batch.runtime.app import App
from nightly_batch.storage.digests import business_date, prune_archive
from nightly_batch.tasks.result import RunInfo, TaskResult

TASK = "heartbeat"
log = get_logger(__name__)
HEARTBEAT_RETENTION = timedelta(days=7)
RUN_RETENTION = timedelta(days=400)


def run_heartbeat(app: App, _run: RunInfo) -> TaskResult:
    """Record a heartbeat and prune old records."""
    now = app.clock.now()
    app.store.record_heartbeat(iso_utc(now), os.getpid())
    pruned = app.store.prune(
        heartbeats_before=iso_utc(now - HEARTBEAT_RETENTION),
        runs_before=iso_utc(now - RUN_RETENTION),
    )
    _prune_archive(app, now)
    retried = _retry_owed_deliveries(app)
    if any(outcome.endswith(" sent") for outcome in retried):
        _delivered_late(app, retried)
    _watch(app, now)
    message = "heartbeat ok" + (
        f"; retried owed deliveries: {', '.join(retried)}" if retried else ""
    )
    return TaskResult(message, {"pruned": pruned, "retried": retried})


def _prune_archive(app: App, now: datetime) -> None:
    """Replaced digests beyond digestArchiveKeep go (a 1M-lead night's is 178 MB each)."""
    keep = app.config.digest_archive_keep
    removed = prune_archive(app.config.digests, keep, business_date(now, app.config.zone))
    if removed:
        log.info(
            "digest.archive_pruned",
            removed=len(removed),
            keep=keep,
            oldest=removed[-1].name,  # prune_archive gives them newest first
        )


def _watch(app: App, now: datetime) -> None:
    from nightly_batch.alerts.checks import check_clock, check_health  # noqa: PLC0415

    if app.alerts is None:
        return
    beat = app.clock.monotonic()
    if app.last_beat is not None:
        then, then_beat = app.last_beat
        check_clock(app, (now - then).total_seconds(), beat - then_beat)
    app.last_beat = (now, beat)
    check_health(app, now)
    app.alerts.remind_and_purge()


def _delivered_late(app: App, retried: list[str]) -> None:
    """An owed digest got out: everything a successful send-digest does follows, so the state,
    the alerts and the metrics agree that the morning's digest was delivered."""
    sent_at = iso_utc(app.clock.now())
    try:
        with app.state.transaction() as transaction:
            transaction.read_keys()
            transaction.write_keys({"lastDigestNotificationAt": sent_at})
    except NightlyBatchError as error:
        log.warning("delivery.state_not_updated", reason=str(error))
    if app.alerts is not None:
        app.alerts.observe_run(
            "send-digest",
            ok=True,
            message=f"delivered by a heartbeat: {', '.join(retried)}",
            run_id="heartbeat",
        )


def _retry_owed_deliveries(app: App) -> list[str]:
    # Only the runtime store is read to find out whether anything is owed, so a quiet heartbeat
    # stays cheap; the digest file is read only for a delivery that is due.
    from nightly_batch.delivery.redelivery import retry_owed  # noqa: PLC0415

    try:
        return retry_owed(app)
    except NightlyBatchError as error:
        log.warning("delivery.retry_failed", error=str(error))
        return []
