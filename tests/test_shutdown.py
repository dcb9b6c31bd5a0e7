"""SIGTERM during a long nightly batch (a million leads): a bounded stop, an intact state.

The test holds the state's lock, so the batch is certainly under way (started, waiting for the
lock inside run_nightly_batch) when SIGTERM arrives, on a fast machine or a busy one.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator

import pytest

from conftest import Project
from daemon_process import SLOT_WAIT_SECONDS, DaemonProcess, needs_faketime, runs, wait_for
from fakes import dated
from leadgen import make_state_bytes
from nightly_batch.core.jsonio import parse_json
from nightly_batch.core.locks import FileLock

LEADS = 1_000_000


@pytest.fixture(scope="module")
def million() -> bytes:
    return make_state_bytes(LEADS)


def start_batch(
    project: Project, million: bytes, lock: FileLock, **config: object
) -> DaemonProcess:
    """The daemon with its 23:00 batch started and held at the state lock the test holds."""
    project.write_config(digestTimeZone="UTC", **config)
    project.state_path.write_bytes(million)
    assert lock.acquire()
    daemon = DaemonProcess(project, fake_utc=dated("2026-11-28 22:59:30"))  # START_LEAD_SECONDS
    database = project.logs / "nightly_batch.db"
    wait_for(lambda: runs(database, "nightly-batch"), SLOT_WAIT_SECONDS, "the 23:00 batch to start")
    return daemon


@pytest.fixture
def state_lock(project: Project) -> Iterator[FileLock]:
    lock = FileLock(project.state_path.with_name(project.state_path.name + ".lock"))
    yield lock
    lock.release()


@pytest.mark.slow
@needs_faketime
def test_sigterm_waits_for_the_batch_then_exits_0(
    project: Project, million: bytes, state_lock: FileLock
) -> None:
    """The running batch finishes within the deadline; the new state is whole."""
    daemon = start_batch(project, million, state_lock, shutdownTimeoutSeconds=300)
    try:
        stopped = time.monotonic()
        daemon.process.send_signal(signal.SIGTERM)
        wait_for(lambda: "daemon.stopping" in daemon.stderr, 30, "the daemon to begin stopping")
        state_lock.release()  # the batch goes on now, after the stop was asked for
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
    project: Project, million: bytes, state_lock: FileLock
) -> None:
    """Past shutdownTimeoutSeconds the daemon says what is stuck and leaves; the old state stays."""
    daemon = start_batch(project, million, state_lock, shutdownTimeoutSeconds=1)
    try:
        stopped = time.monotonic()
        code = daemon.stop(timeout=60)
        took = time.monotonic() - stopped
    finally:
        daemon.kill()

    assert code == 1
    # Far sooner than systemd's SIGKILL (TimeoutStopSec=120 in the unit) even on a busy machine; the batch,
    # held at the lock, would have run until the lock's 60 s timeout.
    assert took < 45
    assert "still running after 1 s: nightly-batch; thread stacks follow." in daemon.stderr
    assert "run_nightly_batch" in daemon.stderr  # the stuck thread's stack names the batch
    assert project.state_path.read_bytes() == million  # held at the lock, it never wrote
