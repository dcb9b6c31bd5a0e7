"""SIGTERM during a long nightly batch (a million leads): a bounded stop, an intact state."""

from __future__ import annotations

import time

import pytest

from conftest import Project
from daemon_process import DaemonProcess, needs_faketime, runs, wait_for
from fakes import dated
from leadgen import make_state_bytes
from nightly_batch.jsonio import parse_json

LEADS = 1_000_000


@pytest.fixture(scope="module")
def million() -> bytes:
    return make_state_bytes(LEADS)


def start_batch(project: Project, million: bytes, **config: object) -> DaemonProcess:
    project.write_config(digestTimeZone="UTC", **config)
    project.state_path.write_bytes(million)
    daemon = DaemonProcess(project, fake_utc=dated("2026-11-28 22:59:58"))
    database = project.logs / "nightly_batch.db"
    wait_for(lambda: runs(database, "nightly-batch"), 30, "the 23:00 batch to start")
    time.sleep(2)  # well inside the batch, which takes many seconds at this size
    return daemon


@pytest.mark.slow
@needs_faketime
def test_sigterm_waits_for_the_batch_then_exits_0(project: Project, million: bytes) -> None:
    """The running batch finishes within the deadline; the new state is whole."""
    daemon = start_batch(project, million, shutdownTimeoutSeconds=300)
    try:
        stopped = time.monotonic()
        code = daemon.stop(timeout=300)
        took = time.monotonic() - stopped
    finally:
        daemon.kill()

    assert code == 0
    assert took < 300
    state = parse_json(project.state_path.read_bytes())
    assert len(state["redditQueue"]) == LEADS
    assert state["lastNightlyBatchAt"].startswith(dated("2026-11-28T23:00"))
    assert "daemon.stopped" in daemon.stderr


@pytest.mark.slow
@needs_faketime
def test_a_batch_outliving_the_deadline_dumps_stacks_and_exits_1(
    project: Project, million: bytes
) -> None:
    """Past shutdownTimeoutSeconds the daemon says what is stuck and leaves; the old state stays."""
    daemon = start_batch(project, million, shutdownTimeoutSeconds=1)
    try:
        stopped = time.monotonic()
        code = daemon.stop(timeout=60)
        took = time.monotonic() - stopped
    finally:
        daemon.kill()

    assert code == 1
    assert took < 10
    assert "still running after 1 s: nightly-batch; thread stacks follow." in daemon.stderr
    assert "run_nightly_batch" in daemon.stderr  # the stuck thread's stack names the batch
    data = project.state_path.read_bytes()
    assert data == million or len(parse_json(data)["redditQueue"]) == LEADS  # old, or whole new
