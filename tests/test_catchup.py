"""Catch-up decisions, the slot ledger, and one task never running twice at once."""

from __future__ import annotations

import os
from typing import Any

import pytest

from conftest import Project
from fakes import at, dated
from nightly_batch.cli.main import main
from nightly_batch.core.jsonio import parse_json
from nightly_batch.core.locks import FileLock
from nightly_batch.daemon.catchup import missed_slots
from nightly_batch.daemon.sdnotify import SystemdNotifier
from nightly_batch.daemon.service import Daemon
from nightly_batch.daemon.triggers import trigger_for
from nightly_batch.rules.jobs import DailyJob, daily_jobs
from nightly_batch.runtime.app import App
from nightly_batch.tasks.runner import run_task

NIGHT = dated("2026-11-28T23:00")


def setup(project: Project, *, history: bool = True) -> tuple[App, tuple[DailyJob, ...]]:
    project.write_config(digestTimeZone="UTC", catchUpHours=12)
    app = project.app()
    if history:
        app.store.claim_slot(
            "nightly-batch",
            dated("2026-11-27T23:00"),
            dated("2026-11-27T23:00:00.000Z"),
            "schedule",
        )
        app.store.claim_slot(
            "send-digest", dated("2026-11-28T06:00"), dated("2026-11-28T06:00:00.000Z"), "schedule"
        )
    return app, daily_jobs(app.config)


@pytest.mark.parametrize(
    ("now", "started", "expected"),
    [
        # Down at 23:00, back at 01:00: the night is owed.
        (
            dated("2026-11-29T01:00:00Z"),
            dated("2026-11-29T00:59:00Z"),
            [("nightly-batch", NIGHT, dated("the daemon was not running at 2026-11-28 23:00 UTC"))],
        ),
        # Back after the night's window has closed: only the morning's digest is still owed.
        (
            dated("2026-11-29T11:30:00Z"),
            dated("2026-11-29T11:29:00Z"),
            [
                (
                    "send-digest",
                    dated("2026-11-29T06:00"),
                    dated("the daemon was not running at 2026-11-29 06:00 UTC"),
                )
            ],
        ),
        # Up all along and the slot is a minute old: the trigger is running it right now.
        (dated("2026-11-28T23:01:00Z"), dated("2026-11-28T20:00:00Z"), []),
        # Up all along but the run never started (a stalled scheduler, a clock jump).
        (
            dated("2026-11-29T00:10:00Z"),
            dated("2026-11-28T20:00:00Z"),
            [
                (
                    "nightly-batch",
                    NIGHT,
                    dated(
                        "the run due at 2026-11-28 23:00 UTC did not start (a missed fire or a clock change)"
                    ),
                )
            ],
        ),
        # Both jobs owed after a long outage, oldest first.
        (
            dated("2026-11-29T06:30:00Z"),
            dated("2026-11-29T06:29:00Z"),
            [
                (
                    "nightly-batch",
                    NIGHT,
                    dated("the daemon was not running at 2026-11-28 23:00 UTC"),
                ),
                (
                    "send-digest",
                    dated("2026-11-29T06:00"),
                    dated("the daemon was not running at 2026-11-29 06:00 UTC"),
                ),
            ],
        ),
    ],
)
def test_missed_slots(
    project: Project, now: str, started: str, expected: list[tuple[str, str, str]]
) -> None:
    """A slot is owed when it is recent, unclaimed, and the task ran here before."""
    app, jobs = setup(project)

    missed = missed_slots(jobs, app.store, at(now), 12, at(started))

    assert [(m.slot.task, m.slot.key, m.cause) for m in missed] == expected


def owed_at_one_after_a_restart(app: App, jobs: tuple[DailyJob, ...]) -> list[Any]:
    """What catch-up owes at 01:00 to a daemon started a minute before."""
    return missed_slots(
        jobs, app.store, at(dated("2026-11-29T01:00:00Z")), 12, at(dated("2026-11-29T00:59:00Z"))
    )


def test_a_claimed_slot_is_not_owed_and_cannot_be_claimed_twice(project: Project) -> None:
    """The ledger: the first claim wins, later claims of the same slot are refused; a slot
    whose run is going (in a live process) is not owed."""
    app, jobs = setup(project)

    assert app.store.claim_slot(
        "nightly-batch", NIGHT, dated("2026-11-29T01:00:00.000Z"), "catch-up"
    )
    app.store.start_run(
        "nightly-batch", "catch-up", dated("2026-11-29T01:00:00.000Z"), os.getpid(), NIGHT
    )
    assert not app.store.claim_slot(
        "nightly-batch", NIGHT, dated("2026-11-29T01:00:01.000Z"), "schedule"
    )
    assert owed_at_one_after_a_restart(app, jobs) == []


def test_a_fresh_install_does_not_replay_yesterday(project: Project) -> None:
    """Without any earlier run of a task, nothing is caught up (like a timer's first start)."""
    app, jobs = setup(project, history=False)

    assert owed_at_one_after_a_restart(app, jobs) == []


def test_run_once_refuses_while_the_same_task_runs_elsewhere(project: Project) -> None:
    """A manual run never overlaps the daemon's run of the same task; the reason names the pid."""
    app = project.app()
    holder = FileLock(project.logs / "send-digest.lock")
    assert holder.acquire(record_pid=True)
    try:
        outcome = run_task(app, "send-digest", "manual")
        other = run_task(app, "heartbeat", "manual")
    finally:
        holder.release()

    assert not outcome.ok
    assert outcome.exit_code == 1
    assert outcome.message.startswith("send-digest is already running in another process (pid ")
    assert outcome.message.endswith("); this run was not started.")
    assert other.ok
    assert app.store.recent_runs(10, task="send-digest") == []


def test_schedule_lists_the_daemons_fire_times_across_a_dst_change(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    """`schedule` uses the daemon's triggers: a 02:30 job on Berlin's spring day runs at 03:00."""
    project.write_config(digestTimeZone="Europe/Berlin", nightlyBatchSchedule="30 2 * * *")

    code = main(
        [
            "schedule",
            "--from",
            "2026-03-28T12:00",
            "--count",
            "2",
            "--json",
            "--config",
            str(project.config_path),
        ]
    )

    fires = parse_json(capsys.readouterr().out.encode())["fires"]
    nightly = [(f["local"], f["utc"], f["slot"]) for f in fires if f["task"] == "nightly-batch"]
    assert code == 0
    assert nightly == [
        ("2026-03-29T03:00:00+02:00", "2026-03-29T01:00:00.000Z", "2026-03-29T02:30"),
        ("2026-03-30T02:30:00+02:00", "2026-03-30T00:30:00.000Z", "2026-03-30T02:30"),
    ]
    heartbeats = [f["utc"] for f in fires if f["task"] == "heartbeat"]
    assert heartbeats == ["2026-03-28T11:05:00.000Z", "2026-03-28T11:10:00.000Z"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--from", "yesterday"], "--from 'yesterday' is not an ISO time"),
        (["--count", "0"], "--count 0 is not allowed: use a number from 1 to 1000."),
    ],
)
def test_schedule_bad_arguments_are_one_sentence(
    project: Project, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    """A bad --from or --count is exit 2 with one sentence."""
    code = main(["schedule", *arguments, "--config", str(project.config_path)])

    assert code == 2
    assert message in capsys.readouterr().err


def test_the_daemons_jobs_come_from_the_config(project: Project) -> None:
    """The daily jobs carry the configured zone and expressions."""
    project.write_config(digestTimeZone="America/New_York")
    nightly, morning = daily_jobs(project.settings().config)

    fire = trigger_for(nightly).get_next_fire_time(None, at("2026-07-01T12:00:00Z"))

    assert fire == at("2026-07-02T03:00:00Z")  # 23:00 EDT
    assert morning.latest(at("2026-07-02T11:00:00Z")).key == "2026-07-02T06:00"


def test_catch_up_is_scheduled_again_after_apscheduler_drops_one_as_missed(
    project: Project,
) -> None:
    """A one-off catch-up job that APScheduler discards (it missed its grace time) must not
    stop every later catch-up: the next heartbeat schedules a new one. One still waiting to run
    is kept, so the start's check is not replaced by a heartbeat's."""
    daemon = Daemon(project.app(), SystemdNotifier({}))

    daemon._catch_up_soon("start")
    daemon._catch_up_soon("heartbeat")
    pending = daemon.scheduler.get_job("catch-up")
    assert pending is not None
    assert pending.args == ("start",)
    daemon.scheduler.remove_job("catch-up")  # what a misfire does to a one-off job

    daemon._catch_up_soon("heartbeat")

    again = daemon.scheduler.get_job("catch-up")
    assert again is not None
    assert again.args == ("heartbeat",)
