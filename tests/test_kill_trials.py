"""SIGKILL at random moments of nightly-batch and send-digest: 200 trials in all.

After every kill the state and the digests are whole (old or new), no digest is lost, and a
digest reaches the webhook at most twice, twice only when the kill fell between the POST and its
record (the one documented case).
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from conftest import Project
from leadgen import make_state_bytes
from nightly_batch.core.clock import iso_utc
from nightly_batch.core.jsonio import dump_json
from servers import webhook_server

NIGHTLY_TRIALS = 150
SEND_TRIALS = 50
pytestmark = [pytest.mark.fault, pytest.mark.slow]


def kill_after(argv: list[str], delay: float, env: dict[str, str] | None = None) -> None:
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    time.sleep(delay)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()


def test_nightly_batch_killed_150_times(project: Project) -> None:
    """The state is always the old bytes or a whole new version; digests always parse."""
    old = make_state_bytes(5000)
    project.state_path.write_bytes(old)
    started = time.monotonic()
    assert (
        subprocess.run(
            project.command("nightly-batch"), capture_output=True, check=False
        ).returncode
        == 0
    )
    full = time.monotonic() - started
    rng = random.Random(9)
    outcomes = {"old": 0, "new": 0}

    for _ in range(NIGHTLY_TRIALS):
        project.state_path.write_bytes(old)
        kill_after(project.command("nightly-batch"), rng.uniform(0, full * 1.2))
        data = project.state_path.read_bytes()
        if data == old:
            outcomes["old"] += 1
        else:
            state = json.loads(data)
            assert len(state["redditQueue"]) == 5000
            assert state["taskHistory"][-1]["type"] == "nightly-batch"
            outcomes["new"] += 1
        for digest in project.digests.glob("**/digest-*.json"):
            assert json.loads(digest.read_bytes())["summary"]["queueTotal"] == 5000

    # Where random kills land depends on the machine's speed, so no share of them is required
    # on either side of the replace: test_crash_safety aims kills at each side instead. Every
    # trial above asserted its state whole.
    print(f"\nnightly-batch kills: {outcomes}")  # noqa: T201  (the figures for RELIABILITY.md)


def test_send_digest_killed_50_times(project: Project) -> None:
    """Each digest is delivered; at most twice, and twice only after a kill left it pending."""
    rng = random.Random(11)
    with webhook_server() as (port, received):
        project.write_config(
            digestNotificationChannel="slack", allowedWebhookHosts=[f"127.0.0.1:{port}"]
        )
        env = {
            **os.environ,
            "SLACK_WEBHOOK_URL": f"http://127.0.0.1:{port}/hook",
            "APP_URL": "https://x.example",
        }
        project.digests.mkdir(parents=True)
        duplicates = pending_after_kill = 0
        for trial in range(SEND_TRIALS):
            day = f"2027-01-{1 + trial % 28:02d}" if trial < 28 else f"2027-02-{1 + trial % 28:02d}"
            write_digest(project, day, trial)
            kill_after(project.command("send-digest"), rng.uniform(0.0, 0.8), env)
            status = delivery_status(project.logs / "nightly_batch.db", f"batch-{trial}")
            pending_after_kill += status == "pending"
            subprocess.run(
                project.command("send-digest"), env=env, capture_output=True, check=False
            )
            posts = sum(f"digest-{day}.json".encode() in body for _, body in received)
            assert 1 <= posts <= (2 if status == "pending" else 1), (trial, status, posts)
            duplicates += posts - 1
            assert delivery_status(project.logs / "nightly_batch.db", f"batch-{trial}") == "sent"
    summary = (
        f"kills: {SEND_TRIALS}, left pending: {pending_after_kill}, repeated posts: {duplicates}"
    )
    print(f"\nsend-digest {summary}")  # noqa: T201  (the figures for RELIABILITY.md)


def write_digest(project: Project, day: str, trial: int) -> None:
    """A digest made now on the project's clock, the one the send-digest processes run on."""
    directory = project.digests
    for old in directory.glob("digest-*.json"):
        old.unlink()
    digest = {
        "generatedAt": iso_utc(project.clock.now()),
        "batchId": f"batch-{trial}",
        "digestDate": day,
        "timeZone": "UTC",
        "summary": {"selectedTotal": 1, "queueTotal": 1, "markedForDraft": 1},
        "redditQueue": [{"id": f"t{trial}", "question": f"Lead {trial}?", "confidence": 0.9}],
        "docChanges": [],
    }
    (directory / f"digest-{day}.json").write_bytes(dump_json(digest, indent=True))


def delivery_status(database: Path, batch_id: str) -> str | None:
    if not database.exists():
        return None
    with sqlite3.connect(database) as db:
        # A kill during the first open can leave the file without its tables yet (the next
        # process creates them): nothing was recorded.
        if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'deliveries'").fetchone():
            return None
        row = db.execute("SELECT status FROM deliveries WHERE batch_id = ?", (batch_id,)).fetchone()
    return row[0] if row else None
