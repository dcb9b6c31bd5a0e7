"""Metrics, /healthz, journald lines, and the commands of docs/MONITORING.md run for real."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import Project
from fakes import RecordingChannel
from nightly_batch.core.jsonio import parse_json
from nightly_batch.observability.events import get_logger
from nightly_batch.observability.setup import configure_logging
from nightly_batch.tasks.runner import run_task
from nightly_batch.web.metrics import MetricsServer

Lead = Callable[..., dict[str, Any]]
DOCS = Path(__file__).parent.parent / "docs" / "MONITORING.md"


@pytest.fixture
def served(project: Project) -> Iterator[tuple[Project, str]]:
    app = project.app()
    server = MetricsServer(app, "127.0.0.1", 0)
    server.start()
    try:
        yield project, f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


def metric(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    assert match, f"{name} not in the scrape"
    return float(match.group(1))


def test_metrics_after_a_batch_and_a_failed_send_digest(
    served: tuple[Project, str], lead: Lead
) -> None:
    """Last success, runs and failures per task, leads, deliveries by result, heartbeat."""
    project, base = served
    project.write_state({"redditQueue": [lead("a", 0.9), lead("b", 0.95), lead("c", 0.1)]})
    app = project.app()
    run_task(app, "heartbeat", "schedule")
    batch = run_task(app, "nightly-batch", "schedule")
    project.channels["log"] = RecordingChannel("log", status="transient", error="down")
    run_task(app, "send-digest", "schedule")

    text = httpx.get(f"{base}/metrics").text

    success = project.clock.now().timestamp()
    assert batch.ok
    assert (
        metric(text, 'nightly_batch_last_success_timestamp_seconds{task="nightly-batch"}')
        == success
    )
    assert 'nightly_batch_last_success_timestamp_seconds{task="send-digest"}' not in text
    assert metric(text, 'nightly_batch_runs_total{result="ok",task="nightly-batch"}') == 1
    assert metric(text, 'nightly_batch_runs_total{result="error",task="send-digest"}') == 1
    assert metric(text, 'nightly_batch_failures_total{task="send-digest"}') == 1
    assert metric(text, 'nightly_batch_leads{kind="queued"}') == 3
    assert metric(text, 'nightly_batch_leads{kind="selected"}') == 2
    assert metric(text, 'nightly_batch_leads{kind="marked"}') == 2
    assert metric(text, 'nightly_batch_deliveries_total{channel="log",result="failed"}') == 1
    assert metric(text, "nightly_batch_heartbeat_timestamp_seconds") == success
    assert metric(text, 'nightly_batch_alerts_firing{severity="critical"}') == 0


def test_healthz_turns_503_when_the_heartbeat_goes_stale(served: tuple[Project, str]) -> None:
    """200 while fresh; 503 with the reason once older than heartbeatStaleMinutes."""
    project, base = served
    run_task(project.app(), "heartbeat", "schedule")

    fresh = httpx.get(f"{base}/healthz")
    project.clock.advance(timedelta(minutes=16))
    stale = httpx.get(f"{base}/healthz")

    assert (fresh.status_code, fresh.text) == (200, "ok: the last heartbeat was 0 s ago\n")
    assert (stale.status_code, stale.text) == (
        503,
        "stale: the last heartbeat was 960 s ago (limit 900 s)\n",
    )
    assert httpx.get(f"{base}/other").status_code == 404


def test_a_heartbeat_stamped_in_the_future_is_never_reported_as_fresh(
    served: tuple[Project, str],
) -> None:
    """The clock stepped back 25 min after a heartbeat: /healthz and status say the stamp lies
    in the future (it was "ok: ... -1485 s ago"); the next heartbeat, stamped on the stepped
    clock, is the truth again."""
    project, base = served
    run_task(project.app(), "heartbeat", "schedule")
    project.clock.current -= timedelta(seconds=1485)

    future = httpx.get(f"{base}/healthz")
    status = parse_json(
        subprocess.run([*project.cli("status", "--json")], capture_output=True, check=True).stdout
    )
    run_task(project.app(), "heartbeat", "schedule")
    again = httpx.get(f"{base}/healthz")

    assert (future.status_code, future.text) == (
        503,
        (
            "not fresh: the last heartbeat is stamped 1485 s in the future "
            "(the clock was stepped back?)\n"
        ),
    )
    assert status["heartbeat"]["state"] == "future"
    # `--now` starts the command's clock there and lets it run at the real rate: on a busy
    # machine a tenth of a second or more passes before status reads it.
    assert -1485 <= status["heartbeat"]["ageSeconds"] < -1475
    assert (again.status_code, again.text) == (200, "ok: the last heartbeat was 0 s ago\n")


def test_under_journald_each_line_carries_its_priority() -> None:
    """With JOURNAL_STREAM, console lines start with <N> so `journalctl -p` filters."""
    console = io.StringIO()
    configure_logging(console=console, journal=True)
    log = get_logger("t")

    log.info("task.finished", task="heartbeat")
    log.warning("lead.invalid", lead="x")
    log.error("task.finished", task="send-digest")

    lines = console.getvalue().splitlines()
    assert [line[:3] for line in lines] == ["<6>", "<4>", "<3>"]
    assert lines[1] == "<4>level=warning event=lead.invalid lead=x" + lines[1].split("lead=x")[1]


def shell_blocks(text: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", text, re.DOTALL)


def test_every_command_in_the_monitoring_guide_runs(
    served: tuple[Project, str], lead: Lead
) -> None:
    """The `sh` blocks of docs/MONITORING.md run against a real project and succeed."""
    project, base = served
    # One lead that cannot be scored, so the warnings query has something to show.
    project.write_state({"redditQueue": [lead("a", 0.9), lead("b", "high")]})
    for task in ("heartbeat", "nightly-batch", "send-digest"):
        subprocess.run(
            project.command(task),
            check=True,
            capture_output=True,
        )
    environ = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "CONFIG": str(project.config_path),
        "LOG": str(project.logs / "orchestrator.log"),
        "METRICS": base.removeprefix("http://"),
        "STATE": str(project.state_path),
        # The guide's commands, as printed, run on the project's clock like the served metrics.
        "NIGHTLY_BATCH_TEST_NOW": project.clock.now().isoformat(),
    }
    blocks = shell_blocks(DOCS.read_text())
    # The journal's and systemd's commands need the service: tests/test_systemd.py runs them.
    commands = [
        line
        for block in blocks
        for line in block.splitlines()
        if line.strip() and not line.startswith(("journalctl", "systemctl"))
    ]
    assert len(commands) >= 10

    for command in commands:
        result = subprocess.run(
            ["bash", "-c", f"set -eo pipefail; {' '.join(c for c in commands[:3])}; {command}"],
            env=environ,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert result.returncode == 0, (command, result.stderr)
        if not command.startswith("export") and "# empty on a healthy night" not in command:
            assert result.stdout.strip(), command
        if command.endswith('/healthz"'):
            # The heartbeat ran a moment ago on the same timeline: healthy, not stale.
            assert result.stdout.startswith("ok: the last heartbeat was "), result.stdout
