"""A nightly batch killed with SIGKILL leaves the old state or the new one, never a torn one.

The kills aimed at a point land there on any machine: the batch freezes itself when it reaches
the point (tests/stop_at.py) and is killed while frozen. The random kills add moments nobody
chose; they assert only what must hold wherever they land.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import Project
from fakes import day
from leadgen import make_state
from nightly_batch.core.jsonio import dump_json, parse_json

TRIALS = 10
STOP_AT = Path(__file__).with_name("stop_at.py")
Lead = Callable[..., dict[str, Any]]
OWNED_ITEM_FIELDS = ("selectedForDraft", "confidence", "selectedAt")


def start_batch(project: Project) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        project.command("nightly-batch"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def without_owned(state: dict[str, Any]) -> dict[str, Any]:
    foreign = {
        k: v
        for k, v in state.items()
        if k not in ("lastNightlyBatchAt", "taskHistory", "pendingDocChanges")
    }
    foreign["redditQueue"] = [
        {k: v for k, v in item.items() if k not in OWNED_ITEM_FIELDS}
        for item in state["redditQueue"]
    ]
    return foreign


def assert_old_or_new(path: Path, old: bytes, old_state: dict[str, Any]) -> str:
    data = path.read_bytes()
    if data == old:
        return "old"
    state = parse_json(data)  # a torn file would fail right here
    assert without_owned(state) == without_owned(old_state)
    assert state["pendingDocChanges"] == []
    assert state["taskHistory"][-1]["type"] == "nightly-batch"
    selected = sum(1 for item in state["redditQueue"] if item.get("selectedForDraft"))
    assert selected == sum(1 for item in state["redditQueue"] if item["confidence"] > 0.75)
    return "new"


def kill_when_frozen(argv: list[str]) -> None:
    """Start argv, wait until it freezes itself (it must), then SIGKILL it."""
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # A batch that neither freezes nor ends (it should do one or the other) is killed, so the
    # wait below cannot hang the suite; the test then fails on the exit it sees.
    guard = threading.Timer(120, process.kill)
    guard.start()
    try:
        reached = os.waitid(os.P_PID, process.pid, os.WSTOPPED | os.WEXITED | os.WNOWAIT)
    finally:
        guard.cancel()
    if reached is None or reached.si_code != os.CLD_STOPPED:
        process.wait()
        stderr = process.stderr.read().decode() if process.stderr else ""
        pytest.fail(f"the batch ended without reaching the stop point: {stderr}")
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    if process.stderr:
        process.stderr.close()


STOPS = [
    # (file, point, what the state must be after the kill, whether the new digest exists)
    ("digest", "mid-write", "old", False),
    ("digest", "before-replace", "old", False),
    ("digest", "after-replace", "old", True),
    ("state", "mid-write", "old", True),
    ("state", "before-replace", "old", True),
    ("state", "after-replace", "new", True),
]


@pytest.mark.slow
@pytest.mark.parametrize(("file", "point", "expected", "digest_written"), STOPS)
def test_sigkill_at_each_step_of_the_writes(
    project: Project, file: str, point: str, expected: str, *, digest_written: bool
) -> None:
    """Killed at each step of the digest's and the state's write: the state is whole, old or new."""
    old_state = make_state(2000)
    old = dump_json(old_state)
    project.state_path.write_bytes(old)
    target = project.state_path.name if file == "state" else f"digest-{day()}.json"

    kill_when_frozen(
        [sys.executable, str(STOP_AT), point, target, *project.cli("run-once", "nightly-batch")[3:]]
    )

    assert assert_old_or_new(project.state_path, old, old_state) == expected
    digest = project.digests / f"digest-{day()}.json"
    assert digest.exists() == digest_written
    if digest_written:
        assert parse_json(digest.read_bytes())["summary"]["queueTotal"] == 2000
    # A temp file may be left behind; the next batch sweeps it and does the whole night's work.
    assert (
        subprocess.run(
            project.command("nightly-batch"), capture_output=True, check=False
        ).returncode
        == 0
    )
    assert assert_old_or_new(project.state_path, old, old_state) == "new"
    assert [p.name for p in project.state_path.parent.glob(".orchestrator_state.json.*")] == []


@pytest.mark.slow
@pytest.mark.parametrize("point", ["mid-write", "before-replace", "after-replace"])
def test_sigkill_while_a_digest_is_replaced_keeps_the_old_version(
    project: Project, point: str
) -> None:
    """A second batch of the day, killed as it replaces the day's digest: the old version is
    the current digest or kept whole in archive/, and the next batch keeps every version."""
    old_state = make_state(2000)
    old = dump_json(old_state)
    project.state_path.write_bytes(old)
    assert subprocess.run(project.command("nightly-batch"), check=False).returncode == 0
    current = project.digests / f"digest-{day()}.json"
    first = current.read_bytes()
    first_id = parse_json(first)["batchId"]
    project.state_path.write_bytes(old)  # the queue as it was, so the second batch selects again

    kill_when_frozen(
        [
            sys.executable,
            str(STOP_AT),
            point,
            current.name,
            *project.cli("run-once", "nightly-batch")[3:],
        ]
    )

    archived = project.digests / "archive" / f"digest-{day()}.{first_id}.json"
    if point == "mid-write":
        assert current.read_bytes() == first
        assert not archived.exists()
    elif point == "before-replace":
        # Kept right before the rename that the kill stopped.
        assert current.read_bytes() == first
        assert archived.read_bytes() == first
    else:
        assert parse_json(current.read_bytes())["batchId"] != first_id
        assert archived.read_bytes() == first
    second_id = parse_json(current.read_bytes())["batchId"]

    assert subprocess.run(project.command("nightly-batch"), check=False).returncode == 0
    assert archived.read_bytes() == first
    assert (project.digests / "archive" / f"digest-{day()}.{second_id}.json").exists()
    assert parse_json(current.read_bytes())["batchId"] not in (first_id, second_id)
    leftovers = [p.name for p in project.digests.rglob("*") if p.name.startswith(".")]
    assert leftovers == []


@pytest.mark.slow
def test_sigkill_at_random_moments_never_tears_the_state(project: Project) -> None:
    """Across many kills, the state always parses and equals the old or a complete new version.

    Where the kills land depends on the machine's speed, so only what must hold wherever they
    land is asserted; the aimed kills above cover each side of the replace.
    """
    old_state = make_state(100_000)
    old = dump_json(old_state)
    project.state_path.write_bytes(old)
    started = time.monotonic()
    assert start_batch(project).wait() == 0
    full_run = time.monotonic() - started
    rng = random.Random(2026)
    seen = {"old": 0, "new": 0}

    for _ in range(TRIALS):
        project.state_path.write_bytes(old)
        process = start_batch(project)
        # Start-up and imports take the first few tenths of a second; aim at the work after them.
        time.sleep(rng.uniform(0.3, full_run))
        os.kill(process.pid, signal.SIGKILL)
        process.wait()

        seen[assert_old_or_new(project.state_path, old, old_state)] += 1
        for digest in project.digests.glob("digest-*.json"):
            assert parse_json(digest.read_bytes())["summary"]["queueTotal"] == 100_000


def test_a_sigterm_to_run_once_is_recorded_and_said(project: Project, lead: Lead) -> None:
    """A SIGTERM'd run-once exited 143 silently and status showed "interrupted" with no
    message. Frozen before the state's rename, then SIGTERM and SIGCONT: the batch's write is
    abandoned, the run is recorded as failed, "interrupted by SIGTERM" (in the run record and
    in taskHistory, whose own write is let through), and the command exits 143."""
    project.write_state({"redditQueue": [lead(f"l{i}", 0.9) for i in range(50)]})
    old_queue = project.read_state()["redditQueue"]
    argv = [
        sys.executable,
        str(STOP_AT),
        "before-replace",
        project.state_path.name,
        *project.cli("run-once", "nightly-batch")[3:],
    ]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    guard = threading.Timer(120, process.kill)
    guard.start()
    try:
        signalled = False
        while True:  # every write of the state freezes there: let each one go on
            reached = os.waitid(os.P_PID, process.pid, os.WSTOPPED | os.WEXITED | os.WNOWAIT)
            if reached is None or reached.si_code != os.CLD_STOPPED:
                break
            if not signalled:
                os.kill(process.pid, signal.SIGTERM)
                signalled = True
            os.kill(process.pid, signal.SIGCONT)
        _, err = process.communicate(timeout=60)
    finally:
        guard.cancel()

    assert process.returncode == 143
    assert "nightly-batch: failed after " in err.decode()
    assert "interrupted by SIGTERM" in err.decode()
    state = project.read_state()
    assert state["redditQueue"] == old_queue  # the batch's own write never happened
    assert (state["taskHistory"][-1]["result"], state["taskHistory"][-1]["message"]) == (
        "error",
        "interrupted by SIGTERM",
    )
    [run] = project.app().store.recent_runs(5, task="nightly-batch")
    assert (run.result, run.message) == ("error", "interrupted by SIGTERM")
