"""The wall clock of a running daemon jumps a day forward, then an hour back.

libfaketime reads the offset from a file on every call, so the test moves the daemon's clock
while it runs. Expected: the night before and the night jumped to each run once (none lost,
none doubled), and the heartbeat reports the jump.
"""

from __future__ import annotations

import json
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest

from conftest import Project
from daemon_process import (
    SLOT_WAIT_SECONDS,
    START_LEAD_SECONDS,
    DaemonProcess,
    needs_faketime,
    real_time,
    runs,
    tail,
    wait_for,
)
from fakes import EPOCH, dated

pytestmark = [pytest.mark.fault, pytest.mark.slow]


def set_offset(offset_file: Path, seconds: int) -> None:
    """Move the daemon's clock. Replaced, not rewritten: libfaketime reads the file on every
    call, and one read of a truncated file is the real time (a jump of its own)."""
    temp = offset_file.with_suffix(".tmp")
    temp.write_text(f"{seconds:+d}\n")
    os.replace(temp, offset_file)


@needs_faketime
def test_a_day_forward_and_an_hour_back(project: Project) -> None:
    """Two nights, two runs; a clock_jump warning; the daemon keeps going and stops cleanly."""
    project.write_config(digestTimeZone="Europe/Berlin", heartbeatMinutes=1)
    project.write_state({"redditQueue": [{"id": "a", "score": 0.9}]})
    offset_file = project.root / "faketime.rc"
    # 22:59:30 in Berlin: START_LEAD_SECONDS before the slot.
    start = (EPOCH - timedelta(hours=1, seconds=START_LEAD_SECONDS)).timestamp()
    # The file's offsets count from the machine's true time, which the suite's own clock may
    # not tell (it can run under a shifted libfaketime itself).
    offset = round(start - real_time())
    set_offset(offset_file, offset)
    daemon = DaemonProcess(
        project,
        faketime={
            "FAKETIME_TIMESTAMP_FILE": str(offset_file),
            "FAKETIME_NO_CACHE": "1",
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        },
    )
    database = project.logs / "nightly_batch.db"

    def nightly_slots() -> list[str]:
        return sorted(
            str(run.slot) for run in runs(database, "nightly-batch") if run.result == "ok"
        )

    def events() -> list[dict[str, str]]:
        path = project.logs / "orchestrator.log"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def account() -> str:
        recorded = [
            (run.task, str(run.slot), run.result) for run in runs(database, "nightly-batch")
        ]
        return (
            f"nightly runs: {recorded}\n"
            f"offset file: {offset_file.read_text().strip()} (start offset {offset:+d})\n"
            f"daemon stderr:\n{tail(daemon.err_path)}\n"
            f"orchestrator.log:\n{tail(project.logs / 'orchestrator.log')}"
        )

    try:
        wait_for(
            lambda: nightly_slots() == [dated("2026-11-28T23:00")],
            SLOT_WAIT_SECONDS,
            "the first night's batch",
            account,
        )
        set_offset(offset_file, offset + 86400)  # a day forward: 23:00 the next night
        wait_for(lambda: len(nightly_slots()) == 2, 150, "the second night's batch", account)
        wait_for(
            lambda: any(
                e["event"] == "alert.firing" and e.get("alert") == "clock_jump" for e in events()
            ),
            150,
            "the clock_jump warning",
            account,
        )
        beats = len(runs(database, "heartbeat"))
        set_offset(offset_file, offset + 86400 - 3600)  # an hour back
        wait_for(
            lambda: len(runs(database, "heartbeat")) > beats,
            150,
            "a heartbeat after the jump back",
            account,
        )
    finally:
        code = daemon.stop()

    assert code == 0
    assert nightly_slots() == [dated("2026-11-28T23:00"), dated("2026-11-29T23:00")]
    jumps = [
        e["summary"]
        for e in events()
        if e.get("alert") == "clock_jump" and e["event"] == "alert.firing"
    ]
    # The day forward is reported as such, to the second or so: the jump is the wall clock's
    # step less the monotonic one, read a moment apart, and on a busy machine that moment
    # made it 86399 s once. Not necessarily first: once in CI, under the plain (not MT)
    # libfaketime, one read returned the machine's real time, days from the faked one (a race
    # between threads on its parse buffer), and that heartbeat reported a jump of its own. The
    # MT build is used now; the check stays tolerant of a second report.
    forward = [
        float(found[1])
        for jump in jumps
        if (found := re.fullmatch(r"the wall clock jumped forward by (\d+) s", jump))
    ]
    assert any(abs(seconds - 86400) <= 60 for seconds in forward), jumps
