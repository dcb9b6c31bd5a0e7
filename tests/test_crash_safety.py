"""A nightly batch killed with SIGKILL at random moments leaves the old state or the new one."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import Project
from leadgen import make_state
from nightly_batch.jsonio import dump_json, parse_json

TRIALS = 10
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


@pytest.mark.slow
def test_sigkill_at_random_moments_never_tears_the_state(project: Project) -> None:
    """Across many kills, the state always parses and equals the old or a complete new version."""
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

    assert seen["old"] + seen["new"] == TRIALS
    assert seen["old"] > 0  # some kills landed before the replace
