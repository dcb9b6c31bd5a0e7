"""The real daemon: scheduled runs at local times, catch-up, one instance, systemd, stopping."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

import pytest

from conftest import Project
from daemon_process import SLOT_WAIT_SECONDS, DaemonProcess, needs_faketime, runs, wait_for
from fakes import dated
from nightly_batch.core.jsonio import parse_json


@pytest.fixture
def berlin(project: Project) -> Project:
    project.write_config(digestTimeZone="Europe/Berlin", heartbeatMinutes=1)
    project.write_state({"redditQueue": [{"id": "a", "score": 0.9}, {"id": "b", "score": 0.2}]})
    return project


def database(project: Project) -> Path:
    return project.logs / "nightly_batch.db"


@pytest.mark.slow
@needs_faketime
def test_runs_at_local_time_refuses_a_second_instance_and_catches_up_once(berlin: Project) -> None:
    """23:00 in Berlin runs the batch; a second daemon exits; a missed night is made up once."""
    # 22:59:30 in Berlin: START_LEAD_SECONDS before the slot.
    first = DaemonProcess(berlin, fake_utc=dated("2026-11-28 21:59:30"))
    try:
        wait_for(
            (berlin.digests / dated("digest-2026-11-28.json")).exists,
            SLOT_WAIT_SECONDS,
            "the 23:00 batch",
        )
        wait_for(
            lambda: runs(database(berlin), "nightly-batch")[0].result == "ok", 10, "the run record"
        )
        second = DaemonProcess(berlin, fake_utc=dated("2026-11-28 22:00:30"))
        assert second.process.wait(30) == 2
        assert first.process.poll() is None
    finally:
        assert first.stop() == 0

    [scheduled] = runs(database(berlin), "nightly-batch")
    assert (scheduled.trigger, scheduled.slot) == ("schedule", dated("2026-11-28T23:00"))
    assert scheduled.started_at >= dated("2026-11-28T22:00:00")
    assert (
        f"another nightly-batch daemon (pid {first.process.pid}) is already running for {berlin.state_path}; this one exits."
        in second.stderr
    )
    assert "Traceback" not in second.stderr

    # Down over the next night: started at 01:00 on the 30th, the 29th's 23:00 is owed.
    late = DaemonProcess(berlin, fake_utc=dated("2026-11-30 00:00:00"))
    try:
        wait_for(
            lambda: (
                len(runs(database(berlin), "nightly-batch")) == 2
                and runs(database(berlin), "nightly-batch")[0].result == "ok"
            ),
            30,
            "the catch-up run",
        )
    finally:
        assert late.stop() == 0
    again = DaemonProcess(berlin, fake_utc=dated("2026-11-30 00:05:00"))
    try:
        wait_for(
            lambda: "schedule.start_checked" in again.stderr,
            30,
            "the restarted daemon's catch-up check",
        )
        wait_for(
            lambda: any(
                run.pid == again.process.pid for run in runs(database(berlin), "heartbeat")
            ),
            30,
            "a heartbeat of the restarted daemon",
        )
    finally:
        assert again.stop() == 0

    nightly = runs(database(berlin), "nightly-batch")
    assert [(run.trigger, run.slot) for run in nightly] == [
        ("catch-up", dated("2026-11-29T23:00")),
        ("schedule", dated("2026-11-28T23:00")),
    ]
    assert (berlin.digests / dated("digest-2026-11-29.json")).exists()
    assert dated("the daemon was not running at 2026-11-29 23:00 CET") in late.stderr
    assert "schedule.catch_up" not in again.stderr


def test_systemd_hears_ready_watchdog_and_stopping_in_order(
    project: Project, tmp_path: Path
) -> None:
    """With NOTIFY_SOCKET set, the daemon says READY=1, then WATCHDOG=1, then STOPPING=1."""
    address = tmp_path / "notify.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(address))
    listener.settimeout(0.5)
    messages: list[str] = []

    def receive_until(word: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not any(word in m for m in messages):
            try:
                messages.append(listener.recv(4096).decode())
            except TimeoutError:
                continue
        assert any(word in m for m in messages), (word, messages)

    daemon = DaemonProcess(project, env={"NOTIFY_SOCKET": str(address), "WATCHDOG_USEC": "1000000"})
    try:
        receive_until("READY=1", 30)
        receive_until("WATCHDOG=1", 10)
        daemon.process.send_signal(signal.SIGTERM)
        receive_until("STOPPING=1", 10)
        assert daemon.process.wait(30) == 0
    finally:
        daemon.kill()
        listener.close()

    def first(word: str) -> int:
        return next(i for i, m in enumerate(messages) if word in m)

    assert first("READY=1") < first("WATCHDOG=1") < first("STOPPING=1")
    ready = messages[first("READY=1")]
    status = ready.split("STATUS=", 1)[1]
    assert "next: " in status
    assert "nightly-batch 20" in status
    assert "send-digest 20" in status


def test_sigint_stops_an_idle_daemon_cleanly(project: Project) -> None:
    """Ctrl-C on a terminal is the same graceful stop as SIGTERM: exit 0, a stopped event."""
    daemon = DaemonProcess(project)
    try:
        wait_for(lambda: "daemon.ready" in daemon.stderr, 30, "the daemon to start")
        daemon.process.send_signal(signal.SIGINT)
        assert daemon.process.wait(30) == 0
    finally:
        daemon.kill()

    assert "daemon.stopped" in daemon.stderr
    lines = [
        parse_json(line.encode())
        for line in (project.logs / "orchestrator.log").read_text().splitlines()
    ]
    assert [line["event"] for line in lines if line["event"].startswith("daemon.")] == [
        "daemon.ready",
        "daemon.stopping",
        "daemon.stopped",
    ]
