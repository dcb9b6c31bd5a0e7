"""The shipped systemd unit and the notify protocol."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from nightly_batch.daemon.sdnotify import SystemdNotifier
from nightly_batch.settings.config import load_config

DEPLOY = Path(__file__).parent.parent / "deploy"


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed"
)
def test_the_unit_file_verifies(tmp_path: Path) -> None:
    """`systemd-analyze verify` accepts the unit (with ExecStart pointed at this checkout)."""
    executable = Path(sys.executable).parent / "nightly-batch"
    unit = (DEPLOY / "nightly-batch.service").read_text()
    (tmp_path / "nightly-batch.service").write_text(
        unit.replace("/opt/nightly-batch/.venv/bin/nightly-batch", str(executable))
    )

    result = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / "nightly-batch.service")],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_the_unit_is_a_hardened_notify_service() -> None:
    """The settings the daemon's behaviour relies on are in the unit."""
    unit = (DEPLOY / "nightly-batch.service").read_text().splitlines()

    for line in (
        "Type=notify",
        "Restart=always",
        "WatchdogSec=120s",
        "TimeoutStopSec=120s",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "StateDirectory=nightly-batch",
    ):
        assert line in unit


def test_the_stop_deadline_comes_before_systemds_sigkill() -> None:
    """shutdownTimeoutSeconds in the deployed config is shorter than TimeoutStopSec."""
    config, _ = load_config(DEPLOY / "orchestrator_config.json")
    unit = (DEPLOY / "nightly-batch.service").read_text()
    stop_seconds = int(unit.split("TimeoutStopSec=")[1].split("s")[0])

    assert config.shutdown_timeout_seconds < stop_seconds


def test_notify_reaches_an_abstract_socket() -> None:
    """A leading @ in NOTIFY_SOCKET means the abstract namespace."""
    name = f"nightly-batch-test-{os.getpid()}-{secrets.token_hex(8)}"  # unique machine-wide
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind("\0" + name)
        notifier = SystemdNotifier({"NOTIFY_SOCKET": "@" + name})

        sent = notifier.notify(READY="1", STATUS="next: nightly-batch 23:00")

        assert sent
        assert listener.recv(1024) == b"READY=1\nSTATUS=next: nightly-batch 23:00"


def test_notify_outside_systemd_does_nothing() -> None:
    """Without NOTIFY_SOCKET nothing is sent and no watchdog is expected."""
    notifier = SystemdNotifier({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "1"})

    assert notifier.notify(READY="1") is False
    assert notifier.watchdog_seconds is None  # WATCHDOG_PID names another process
