"""Periodic checks that turn quiet trouble into alerts (run from the heartbeat and the watchdog).

Daily jobs are watched by time as well as by outcome: no success by the next expected fire of
the job's own schedule (plus a grace) is an error, by the one after critical. Also: no digest
after the nightly run, a digest not delivered by its deadline, a run past `maxRuntimeMinutes`,
low disk space, a jump of the wall clock.
"""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta
from typing import Any

from nightly_batch.core.clock import parse_iso
from nightly_batch.core.tasks import task_names
from nightly_batch.errors import DigestError
from nightly_batch.rules.digest_layout import listed_total
from nightly_batch.rules.jobs import daily_jobs
from nightly_batch.runtime.app import App
from nightly_batch.storage.delivery_state import delivery_of, last_success, settle_hint
from nightly_batch.storage.digests import (
    digest_path,
    find_digest,
    list_digests,
    read_digest_head,
)
from nightly_batch.storage.installation import installed_at
from nightly_batch.storage.run_liveness import RunLiveness

# After an expected fire, how long its run may take to succeed before it counts as missed:
# a daily job is an error after 26 h without success and critical after 50 h (two missed
# runs, as Prometheus advises); a weekly one after 7 days and 2 h, and 14 days and 2 h.
SUCCESS_GRACE = timedelta(hours=2)
CLOCK_JUMP_SECONDS = 120.0


def check_health(app: App, now: datetime) -> None:
    """Fire or resolve every time-based alert."""
    alerts = app.alerts
    if alerts is None:
        return
    _success_windows(app, now)
    _digest_missing(app, now)
    check_deliveries(app, now)
    check_hung_runs(app, now)
    _disk(app)


def _success_windows(app: App, now: datetime) -> None:
    """No success by the next expected fire (plus a grace) is an error; by the one after,
    critical: limits that follow each job's own schedule, daily or weekly."""
    assert app.alerts is not None  # noqa: S101
    for job in daily_jobs(app.config):
        reference = last_success(app.store, job.task) or app.store.first_run(job.task)
        if reference is None:
            continue  # never ran here: nothing is overdue yet
        since = parse_iso(reference)
        expected = job.next_after(since)
        grace = SUCCESS_GRACE
        hours = (now - since).total_seconds() / 3600
        summary = (
            f"no successful {job.task} for {hours:.0f} h "
            f"(one was due at {expected.astimezone(job.zone):%Y-%m-%d %H:%M %Z})"
        )
        if now > job.next_after(expected) + grace:
            app.alerts.fire("no_recent_success", job.task, "critical", summary)
        elif now > expected + grace:
            app.alerts.fire("no_recent_success", job.task, "error", summary)
        else:
            app.alerts.resolve("no_recent_success", job.task)


def _digest_missing(app: App, now: datetime) -> None:
    assert app.alerts is not None  # noqa: S101
    nightly = daily_jobs(app.config)[0]
    slot = nightly.latest(now)
    late = now - slot.moment
    due = timedelta(minutes=app.config.max_runtime("nightly-batch"))
    installed = installed_at(app.store)
    # Only for slots after this installation began: a fresh install owes no earlier digest.
    expected = (
        due < late < timedelta(hours=24) and installed is not None and slot.moment >= installed
    )
    if expected and not digest_path(app.config.digests, slot.day).exists():
        app.alerts.fire(
            "digest_missing",
            "nightly-batch",
            "error",
            f"no digest for {slot.day.isoformat()}: the nightly run due at {slot.key} produced none",
        )
        return
    app.alerts.resolve("digest_missing", "nightly-batch")


def check_deliveries(app: App, now: datetime) -> None:
    """digest_undelivered and delivery_ambiguous, read from the dates' one delivery state."""
    if app.alerts is None:
        return
    found = list_digests(app.config.digests)
    try:
        digest = read_digest_head(found[0].path) if found else None
    except DigestError:
        digest = None
    if digest is None:
        app.alerts.resolve("digest_undelivered", "send-digest")
    else:
        day = str(digest.get("digestDate") or found[0].day.isoformat())
        delivery = delivery_of(app.store, day, str(digest["batchId"]), app.config.delivery_channels)
        _undelivered(app, now, found[0].path.name, digest, delivered=delivery.delivered)
    _ambiguous(app, now)


def _ambiguous(app: App, now: datetime) -> None:
    """Every delivery still ambiguous within digestMaxAgeHours (and a day), of any date: a
    newer digest does not settle an older one."""
    assert app.alerts is not None  # noqa: S101
    config = app.config
    since = (now - timedelta(hours=config.digest_max_age_hours + 24)).date().isoformat()
    unsettled = []
    for day in app.store.ambiguous_dates(since):
        current = find_digest(config.digests, date.fromisoformat(day))
        try:
            batch_id = str(read_digest_head(current.path)["batchId"]) if current else None
        except DigestError:
            batch_id = None
        delivery = delivery_of(app.store, day, batch_id, app.config.delivery_channels)
        unsettled += [(day, name) for name in delivery.ambiguous]
    if not unsettled:
        app.alerts.resolve("delivery_ambiguous", "send-digest")
        return
    where = ", ".join(f"{name} ({day})" for day, name in unsettled)
    hints = "; ".join(settle_hint(day, name, config.config_path) for day, name in unsettled)
    app.alerts.fire(
        "delivery_ambiguous",
        "send-digest",
        "warning",
        f"a digest may or may not have reached {where} (the request went out, no answer "
        f"came); {hints}",
    )


def _undelivered(
    app: App, now: datetime, name: str, digest: dict[str, Any], *, delivered: bool
) -> None:
    assert app.alerts is not None  # noqa: S101
    morning = daily_jobs(app.config)[1]
    slot = morning.latest(now)
    deadline = slot.moment + timedelta(hours=app.config.digest_deadline_hours)
    generated = parse_iso(str(digest["generatedAt"]))
    fresh = now - generated <= timedelta(hours=app.config.digest_max_age_hours)
    leads = listed_total(digest["summary"], len(digest.get("redditQueue", [])))
    owed = generated < slot.moment and fresh and bool(leads or app.config.send_empty_digest)
    if now >= deadline and owed and not delivered:
        app.alerts.fire(
            "digest_undelivered",
            "send-digest",
            "error",
            f"{name} was not delivered by {deadline.astimezone(morning.zone):%H:%M %Z}",
        )
    else:
        app.alerts.resolve("digest_undelivered", "send-digest")


def check_hung_runs(app: App, now: datetime) -> None:
    """A run still going past `maxRuntimeMinutes` (and whose process lives) is reported as hung."""
    if app.alerts is None:
        return
    hung = set()
    liveness = RunLiveness(app.store, app.environment.node, app.config.leader_lease_seconds)
    for run in app.store.running_runs():
        if not liveness.alive(run):
            continue
        minutes = (now - parse_iso(run.started_at)).total_seconds() / 60
        limit = app.config.max_runtime(run.task)
        if minutes > limit:
            hung.add(run.task)
            app.alerts.fire(
                "task_hung",
                run.task,
                "error",
                f"{run.task} has run for {minutes:.0f} min, "
                f"past maxRuntimeMinutes ({limit:g}) [run {run.id}]",
                run.id,
            )
    for task in task_names():
        if task not in hung:
            app.alerts.resolve("task_hung", task)


def _disk(app: App) -> None:
    assert app.alerts is not None  # noqa: S101
    usage = shutil.disk_usage(app.config.logs_dir)
    free = 100 * usage.free / usage.total
    if free < min(1.0, app.config.low_disk_percent):
        app.alerts.fire("low_disk", "-", "critical", f"{free:.1f}% free in {app.config.logs_dir}")
    elif free < app.config.low_disk_percent:
        app.alerts.fire("low_disk", "-", "warning", f"{free:.1f}% free in {app.config.logs_dir}")
    else:
        app.alerts.resolve("low_disk", "-")


def check_clock(app: App, wall_delta: float, monotonic_delta: float) -> None:
    """Between two heartbeats of one process, wall and monotonic time should agree."""
    if app.alerts is None:
        return
    jump = wall_delta - monotonic_delta
    if abs(jump) > CLOCK_JUMP_SECONDS:
        direction = "forward" if jump > 0 else "back"
        app.alerts.fire(
            "clock_jump", "-", "warning", f"the wall clock jumped {direction} by {abs(jump):.0f} s"
        )
    else:
        app.alerts.resolve("clock_jump", "-")
