"""The daemon's decisions in-process, on the fake clock: firing, slot claims, catch-up after a
suspend, and the clock guard. The subprocess tests under libfaketime stay as the end-to-end
proof; these say exactly which run each decision made."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from conftest import Project
from fakes import at, dated, day, hours
from nightly_batch.daemon.clock_guard import ClockGuard
from scheduler_driver import drive, driven_daemon, run_due

Lead = Callable[..., dict[str, Any]]


def assert_the_mornings_digest_was_sent(project: Project, app: Any) -> None:
    """The 06:00 slot of the day after the epoch ran on schedule and sent that night's digest."""
    assert runs_of(project, app, "send-digest")[-1] == (dated("2026-11-30T06:00"), "schedule", "ok")
    assert [message.digest_date for message in project.channels["log"].sent] == [
        dated("2026-11-29")
    ]


def runs_of(project: Project, app: Any, task: str) -> list[tuple[str | None, str, str]]:
    """(slot, trigger, result) of each run of `task`, oldest first."""
    return [
        (run.slot, run.trigger, run.result)
        for run in reversed(app.store.recent_runs(100, task=task))
    ]


def test_three_days_in_berlin_fire_each_slot_once(project: Project, lead: Lead) -> None:
    project.write_config(digestTimeZone="Europe/Berlin", heartbeatMinutes=60)
    project.write_state({"redditQueue": [lead("a", 0.9)]})
    app = project.app()

    with driven_daemon(app) as daemon:
        fired = drive(daemon, project.clock, project.clock.now() + timedelta(days=3))

    # The clock starts at 00:00 Berlin on the epoch's next day: 23:00 and 06:00 local, daily.
    batches = runs_of(project, app, "nightly-batch")
    assert [slot for slot, _, _ in batches] == [f"{day(n)}T23:00" for n in (1, 2, 3)]
    assert {(trigger, result) for _, trigger, result in batches} == {("schedule", "ok")}
    sends = runs_of(project, app, "send-digest")
    assert [slot for slot, _, _ in sends] == [f"{day(n)}T06:00" for n in (1, 2, 3)]
    assert sum(1 for job, _ in fired if job == "heartbeat") == 3 * 24 + 1
    # Each morning sends the digest of the night before; the first morning has none yet.
    sent = [message.digest_date for message in project.channels["log"].sent]
    assert sent == [day(1), day(2)]


def test_a_suspend_across_both_slots_runs_each_once_when_the_host_wakes(
    project: Project, lead: Lead
) -> None:
    """Asleep from 22:50 to 07:50: on waking, the clock guard sees the jump and runs the
    heartbeat at once (APScheduler dropped its fires as missed), the overdue daily fires run the
    batch's slot, then the morning's, once each; the heartbeat's catch-up finds nothing owed."""
    project.write_config(heartbeatMinutes=60)
    project.write_state({"redditQueue": [lead("a", 0.9)]})
    app = project.app()
    clock = project.clock

    with driven_daemon(app) as daemon:
        guard = ClockGuard(clock, daemon._rescheduled_after_jump)
        drive(daemon, clock, at(dated("2026-11-29T22:50:00Z")))
        clock.current += hours(9)  # suspended: the wall clock moves, the monotonic one does not
        assert guard.check() == 9 * 3600
        woke = run_due(daemon, clock.now())
        later = drive(daemon, clock, clock.now() + hours(2))

    assert woke == ["nightly-batch", "send-digest", "heartbeat"]
    assert runs_of(project, app, "nightly-batch")[-1] == (
        dated("2026-11-29T23:00"),
        "schedule",
        "ok",
    )
    assert_the_mornings_digest_was_sent(project, app)
    assert "catch-up" in [job for job, _ in later]
    assert len(runs_of(project, app, "nightly-batch")) == 1  # the catch-up ran nothing again


def test_a_restart_catches_up_a_slot_missed_within_the_window_and_not_one_beyond_it(
    project: Project, lead: Lead
) -> None:
    """Down from 22:50 to 00:20 (catchUpHours 2): the new daemon's start check runs the 23:00
    batch as a catch-up. Down again until 08:20: the 06:00 slot is past the window, so it is
    left (the heartbeat's checks report the digest instead), and nothing runs twice."""
    project.write_config(heartbeatMinutes=60, catchUpHours=2)
    project.write_state({"redditQueue": [lead("a", 0.9)]})
    app = project.app()
    clock = project.clock

    with driven_daemon(app) as daemon:
        drive(daemon, clock, at(dated("2026-11-29T22:50:00Z")))
    clock.current += hours(1.5)
    with driven_daemon(app) as restarted:
        restarted._catch_up_soon("start")
        assert sorted(run_due(restarted, clock.now())) == ["catch-up", "heartbeat"]
        drive(restarted, clock, at(dated("2026-11-30T00:50:00Z")))
    clock.current += hours(7.5)
    with driven_daemon(app) as again:
        again._catch_up_soon("start")
        drive(again, clock, clock.now() + hours(1))

    assert runs_of(project, app, "nightly-batch") == [(dated("2026-11-29T23:00"), "catch-up", "ok")]
    assert [slot for slot, _, _ in runs_of(project, app, "send-digest")] == [
        dated("2026-11-29T06:00")
    ]


def test_the_clock_guard_runs_the_heartbeat_now_after_the_clock_is_stepped_back(
    project: Project,
) -> None:
    app = project.app()
    clock = project.clock

    with driven_daemon(app) as daemon:
        run_due(daemon, clock.now())
        guard = ClockGuard(clock, daemon._rescheduled_after_jump)
        clock.advance(timedelta(seconds=20))
        assert guard.check() is None  # both clocks moved together
        heartbeat = daemon.scheduler.get_job("heartbeat")
        assert heartbeat is not None
        assert heartbeat.next_run_time == at(dated("2026-11-28T23:05:00Z"))  # every 5 minutes

        clock.current -= hours(1)  # an NTP step back

        assert guard.check() == -3600
        stepped = daemon.scheduler.get_job("heartbeat")
        assert stepped is not None
        assert stepped.next_run_time == clock.now()
        assert guard.check() is None  # noticed once


def test_after_a_suspend_send_digest_runs_after_the_nights_batch_whichever_fires_first(
    project: Project, lead: Lead
) -> None:
    """Awake after both slots, the pool may start send-digest first: it found only the
    previous digest, claimed its slot, and that night's digest was never sent. It now runs the
    owed batch first, then sends that night's digest; the batch's own fire finds it done."""
    project.write_config(heartbeatMinutes=60)
    project.write_state({"redditQueue": [lead("a", 0.9)]})
    app = project.app()
    clock = project.clock

    with driven_daemon(app) as daemon:
        drive(daemon, clock, at(dated("2026-11-29T22:50:00Z")))
        clock.current += hours(9)
        morning = daemon.scheduler.get_job("send-digest")
        night = daemon.scheduler.get_job("nightly-batch")
        assert morning is not None
        assert night is not None
        morning.func(*morning.args)  # the send-digest thread wins the race
        night.func(*night.args)

    assert runs_of(project, app, "nightly-batch") == [(dated("2026-11-29T23:00"), "catch-up", "ok")]
    assert_the_mornings_digest_was_sent(project, app)


def test_a_slot_whose_run_was_killed_is_run_again_at_the_next_start(
    project: Project, lead: Lead
) -> None:
    """The batch's process died mid-run (its run stays 'running', its pid is gone): the slot
    stayed claimed and was never retried. The next start reruns it, saying why."""
    from structlog.testing import capture_logs  # noqa: PLC0415

    project.write_state({"redditQueue": [lead("a", 0.9)]})
    app = project.app()
    clock = project.clock
    with driven_daemon(app):
        pass  # the install's first start
    clock.set(at(dated("2026-11-29T23:00:00Z")))
    key = dated("2026-11-29T23:00")
    assert app.store.claim_slot("nightly-batch", key, iso(clock), "schedule")
    app.store.start_run("nightly-batch", "schedule", iso(clock), dead_pid(), key)
    clock.advance(hours(1))

    with driven_daemon(app) as restarted, capture_logs() as logs:
        restarted._catch_up_soon("start")
        run_due(restarted, clock.now())

    assert [result for slot, _, result in runs_of(project, app, "nightly-batch")] == [
        "running",
        "ok",
    ]
    [warning] = [entry for entry in logs if entry["event"] == "schedule.rerun_interrupted"]
    assert warning["slot"] == key
    assert "was interrupted (process" in warning["cause"]
    assert project.digest_files() == [dated("digest-2026-11-29.json")]


def iso(clock: Any) -> str:
    from nightly_batch.core.clock import iso_utc  # noqa: PLC0415

    return iso_utc(clock.now())


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(finished.stdout)
