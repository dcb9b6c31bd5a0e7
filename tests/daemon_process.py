"""Run the real daemon as a subprocess, optionally under Debian's faketime."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import pytest

from conftest import Project
from nightly_batch.records import RunRecord
from nightly_batch.sqlite_store import SqliteStore

# Debian's faketime package; preloaded directly (not through the `faketime` wrapper, which
# would stand between the test and the daemon's pid and swallow its signals).
LIBFAKETIME = next(iter(sorted(Path("/usr/lib").glob("*/faketime/libfaketime.so.1"))), None)
needs_faketime = pytest.mark.skipif(
    LIBFAKETIME is None, reason="Debian's faketime is missing (.ci/run installs it)"
)


class DaemonProcess:
    """`nightly-batch run` in a subprocess, its output kept in files."""

    # Every daemon a test started; the conftest fixture kills any a failing test left running.
    started: ClassVar[list[DaemonProcess]] = []

    def __init__(
        self, project: Project, *, fake_utc: str | None = None, env: dict[str, str] | None = None
    ) -> None:
        self.project = project
        index = len(list(project.root.glob("daemon-*.err")))
        self.out_path = project.root / f"daemon-{index}.out"
        self.err_path = project.root / f"daemon-{index}.err"
        command = [
            sys.executable,
            "-m",
            "nightly_batch",
            "run",
            "--config",
            str(project.config_path),
        ]
        environ = {**os.environ, **(env or {})}
        if fake_utc is not None:
            assert LIBFAKETIME is not None
            # The fake wall clock starts at `fake_utc` and moves at real speed; faking the
            # monotonic clock too would stall Python's timed waits.
            environ |= {
                "LD_PRELOAD": str(LIBFAKETIME),
                "FAKETIME": f"@{fake_utc}",
                "FAKETIME_DONT_FAKE_MONOTONIC": "1",
                "TZ": "UTC",
            }
        with self.out_path.open("wb") as out, self.err_path.open("wb") as err:
            self.process = subprocess.Popen(command, stdout=out, stderr=err, env=environ)
        DaemonProcess.started.append(self)

    @property
    def stderr(self) -> str:
        return self.err_path.read_text()

    def stop(self, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> None:
    """Poll `condition` until it is true; fail the test with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def runs(database: Path, task: str) -> list[RunRecord]:
    if not database.exists():
        return []
    store = SqliteStore(database)
    try:
        return store.recent_runs(1000, task=task)
    finally:
        store.close()
