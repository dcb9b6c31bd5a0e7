"""Run the real daemon as a subprocess, optionally under Debian's faketime."""

from __future__ import annotations

import functools
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from contextlib import closing
from pathlib import Path
from typing import ClassVar

import pytest

from conftest import Project
from nightly_batch.storage.records import RunRecord
from nightly_batch.storage.sqlite import SqliteStore

# Debian's faketime package; preloaded directly (not through the `faketime` wrapper, which
# would stand between the test and the daemon's pid and swallow its signals). The MT build:
# the plain one keeps the offset it parses in a static buffer that another thread can reset
# to "+0" mid-parse (libfaketime PR #547), so one read in a threaded daemon was the real time,
# days from the faked one, and APScheduler skipped that night as missed (seen once in CI).
LIBFAKETIME = next(iter(sorted(Path("/usr/lib").glob("*/faketime/libfaketimeMT.so.1"))), None)
needs_faketime = pytest.mark.skipif(
    LIBFAKETIME is None, reason="Debian's faketime is missing (.ci/run installs it)"
)


def without_faketime(environ: Mapping[str, str]) -> dict[str, str]:
    """`environ` without libfaketime: its preload entry and every FAKETIME setting removed.

    For a child that gets a clock of its own while the suite itself may run under an
    inherited libfaketime (`make test-year-ahead`); other preloads are kept.
    """
    kept = {name: value for name, value in environ.items() if not name.startswith("FAKETIME")}
    preload = [
        entry
        for entry in kept.pop("LD_PRELOAD", "").replace(":", " ").split()
        if "libfaketime" not in entry
    ]
    if preload:
        kept["LD_PRELOAD"] = " ".join(preload)
    return kept


def with_faketime(environ: Mapping[str, str], settings: Mapping[str, str]) -> dict[str, str]:
    """`environ` with Debian's libfaketime preloaded under `settings` alone."""
    assert LIBFAKETIME is not None
    base = without_faketime(environ)
    preload = " ".join(filter(None, (base.get("LD_PRELOAD"), str(LIBFAKETIME))))
    return {**base, "LD_PRELOAD": preload, **settings}


def real_time() -> float:
    """The machine's true time, read by a child free of any libfaketime the suite runs under."""
    result = subprocess.run(
        [sys.executable, "-c", "import time; print(time.time())"],
        env=without_faketime(os.environ),
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout)


# How long before a slot a test starts a daemon that must run that slot: start-up (imports,
# the store, the scheduler) took up to 2.4 s with two CPU burners competing, and a daemon that
# comes up after its slot on a fresh install rightly does not run it (nothing to catch up).
START_LEAD_SECONDS = 30
# How long a test waits for a slot's run: the lead, then the run itself on a busy machine.
SLOT_WAIT_SECONDS = START_LEAD_SECONDS + 60

# A service manager's variables are never passed on unless the test sets them itself: a daemon
# under test must not talk to the systemd running the suite.
SERVICE_VARIABLES = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM")


class DaemonProcess:
    """`nightly-batch run` in a subprocess, its output kept in files."""

    # Every daemon a test started; the conftest fixture kills any a failing test left running.
    started: ClassVar[list[DaemonProcess]] = []

    def __init__(
        self,
        project: Project,
        *,
        fake_utc: str | None = None,
        faketime: Mapping[str, str] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        """`fake_utc` starts the daemon's wall clock there (it then moves at real speed);
        `faketime` gives libfaketime settings of the test's own. Either replaces any libfaketime
        the suite inherited; without them the daemon shares the suite's clock."""
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
        environ = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
        if fake_utc is not None:
            # Faking the monotonic clock too would stall Python's timed waits.
            faketime = {"FAKETIME": f"@{fake_utc}", "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
        if faketime is not None:
            environ = with_faketime(environ, {**faketime, "TZ": "UTC"})
        environ |= env or {}
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


def wait_for(
    condition: Callable[[], object],
    timeout: float,
    what: str,
    explain: Callable[[], str] | None = None,
) -> None:
    """Poll `condition` until it is true; fail the test with `what` after `timeout` seconds,
    and with what `explain` returns then (the daemon's own account, for a failure in CI)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    account = f"\n{explain()}" if explain is not None else ""
    pytest.fail(f"timed out after {timeout} s waiting for {what}{account}")


def tail(path: Path, lines: int = 40) -> str:
    """The last `lines` lines of `path`, or a note that it does not exist."""
    if not path.exists():
        return f"({path.name} does not exist)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def runs(database: Path, task: str) -> list[RunRecord]:
    """The runs of `task` recorded so far; none while the daemon is still creating its tables.

    SqliteStore reads the schema version before it takes the write lock, so a probe opening a
    database the daemon is creating would run the same migrations at the same time, and one of
    the two fails ("table runs already exists"), on a loaded machine often. The probe waits.
    """
    if not database.exists():
        return []
    with closing(sqlite3.connect(database, timeout=10.0)) as db:
        if db.execute("PRAGMA user_version").fetchone()[0] < _schema_version():
            return []
    store = SqliteStore(database)
    try:
        return store.recent_runs(1000, task=task)
    finally:
        store.close()


@functools.cache
def _schema_version() -> int:
    """The version a fully created store has: that of one made in a scratch folder."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "reference.db"
        SqliteStore(path).close()
        with closing(sqlite3.connect(path)) as db:
            version: int = db.execute("PRAGMA user_version").fetchone()[0]
    return version
