"""Two daemons, two "hosts" (each its own folder and state), one real PostgreSQL: exactly one
leads; a killed leader is replaced; a paused one comes back fenced and runs nothing.

The lease is 3 s here (leaderLeaseSeconds), so each takeover takes seconds; the waits are
generous because a busy machine may be slow, and no assertion depends on its speed.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

from conftest import Project
from daemon_process import DaemonProcess, tail, wait_for
from pg import postgres_url  # noqa: F401  (a fixture)

pytestmark = pytest.mark.slow

LEASE_SECONDS = 3


def start(root: Path, url: str, node: str) -> tuple[Project, DaemonProcess]:
    project = Project(root)
    project.write_config(leaderLeaseSeconds=LEASE_SECONDS)
    environ = {"NIGHTLY_BATCH_DATABASE_URL": url, "NIGHTLY_BATCH_NODE": node}
    return project, DaemonProcess(project, env=environ)


def said(daemon: DaemonProcess, event: str) -> list[str]:
    """The daemon's log lines of `event` (logfmt on a pipe)."""
    return [line for line in daemon.stderr.splitlines() if f"event={event} " in line]


def says(daemon: DaemonProcess, event: str) -> object:
    """A wait's condition: `event` logged, or the daemon gone (the wait then fails at once
    with the daemon's account instead of timing out)."""
    if said(daemon, event):
        return True
    if daemon.process.poll() is not None:
        pytest.fail(f"the daemon exited ({daemon.process.returncode}):\n{tail(daemon.err_path)}")
    return False


def epoch_of(line: str) -> int:
    found = re.search(r"\bepoch=(\d+)", line)
    assert found is not None, line
    return int(found.group(1))


def status(project: Project, url: str, node: str) -> dict[str, object]:
    environ = {**os.environ, "NIGHTLY_BATCH_DATABASE_URL": url, "NIGHTLY_BATCH_NODE": node}
    result = subprocess.run(
        project.cli("status", "--json"),
        capture_output=True,
        text=True,
        check=True,
        env=environ,
    )
    cluster = json.loads(result.stdout)["cluster"]
    assert isinstance(cluster, dict)
    return cluster


def accounts(*daemons: DaemonProcess) -> str:
    return "\n".join(f"--- daemon {n}:\n{tail(d.err_path)}" for n, d in enumerate(daemons))


def test_of_two_daemons_one_leads_and_a_killed_leader_is_replaced(
    tmp_path: Path,
    postgres_url: str,  # noqa: F811
) -> None:
    first_project, first = start(tmp_path / "a", postgres_url, "host-a")
    wait_for(lambda: says(first, "cluster.leading"), 60, "host-a to lead", lambda: accounts(first))
    second_project, second = start(tmp_path / "b", postgres_url, "host-b")
    wait_for(
        lambda: says(second, "cluster.standby"), 60, "host-b to stand by", lambda: accounts(second)
    )

    assert status(second_project, postgres_url, "host-b")["role"] == "standby"
    leader_view = status(first_project, postgres_url, "host-a")
    assert (leader_view["role"], leader_view["leader"], leader_view["epoch"]) == (
        "leader",
        "host-a",
        1,
    )
    assert said(second, "cluster.leading") == []

    first.kill()  # SIGKILL: no resignation, the lease must expire by the database's clock
    wait_for(
        lambda: says(second, "cluster.leading"),
        60,
        "host-b to take over",
        lambda: accounts(first, second),
    )

    assert epoch_of(said(second, "cluster.leading")[0]) == 2
    assert status(second_project, postgres_url, "host-b")["role"] == "leader"
    # The new leader catches up on what is owed, as a started daemon does.
    wait_for(
        lambda: "schedule.start_checked" in second.stderr or said(second, "task.started"),
        60,
        "host-b's heartbeat or catch-up",
        lambda: accounts(second),
    )
    assert second.stop() == 0


def test_a_paused_leader_comes_back_fenced_and_exits_without_running_anything(
    tmp_path: Path,
    postgres_url: str,  # noqa: F811
) -> None:
    _, first = start(tmp_path / "a", postgres_url, "host-a")
    wait_for(lambda: says(first, "cluster.leading"), 60, "host-a to lead", lambda: accounts(first))
    _, second = start(tmp_path / "b", postgres_url, "host-b")
    wait_for(
        lambda: says(second, "cluster.standby"), 60, "host-b to stand by", lambda: accounts(second)
    )

    first.process.send_signal(signal.SIGSTOP)  # a VM paused, a process frozen
    try:
        wait_for(
            lambda: says(second, "cluster.leading"),
            60,
            "host-b to take over from the paused leader",
            lambda: accounts(first, second),
        )
        started_before = len(said(first, "task.started"))
    finally:
        first.process.send_signal(signal.SIGCONT)

    assert first.process.wait(60) == 3  # EXIT_FENCED: systemd restarts it as a standby
    assert said(first, "cluster.fenced"), accounts(first)
    assert len(said(first, "task.started")) == started_before
    assert epoch_of(said(second, "cluster.leading")[0]) == 2
    assert second.stop() == 0
