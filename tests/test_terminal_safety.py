"""Untrusted text at a real terminal (a pty): no control character gets through, any command.

A lead id is the sweeper's, so a Reddit author's: an OSC escape in it could retitle the
terminal and an ANSI one recolour it, or a carriage return forge a line. Both the log lines
a command prints and what it prints on stdout show such characters as `\\xNN`.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time
from collections.abc import Callable
from typing import Any

from conftest import Project
from servers import webhook_server

Lead = Callable[..., dict[str, Any]]

HOSTILE = "evil\x1b]0;pwned\x07\x1b[31mred\rforged"


def at_a_terminal(command: list[str], env: dict[str, str] | None = None) -> str:
    """What `command` printed on a pty (stdout and stderr), read until it exited (at most a
    minute: a hung command fails the test instead of hanging the suite)."""
    primary, secondary = pty.openpty()
    environ = {**os.environ, "NO_COLOR": "1", **(env or {})}  # our colours are not the point
    process = subprocess.Popen(command, stdout=secondary, stderr=secondary, env=environ)
    os.close(secondary)
    output = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([primary], [], [], 1.0)
        if not ready:
            continue
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # EIO: the other end closed
            break
        if not chunk:
            break
        output += chunk
    else:
        process.kill()
    process.wait(timeout=60)
    os.close(primary)
    return output.decode("utf-8", "replace")


def test_an_escape_in_a_lead_id_reaches_no_terminal(project: Project, lead: Lead) -> None:
    """run-once's log lines and `alerts` both show the id's controls as text."""
    project.write_config(invalidLeadAlertRatio=0.1)
    project.write_state({"redditQueue": [lead(HOSTILE, "high"), lead("ok", 0.9)]})

    batch = at_a_terminal(project.command("nightly-batch"))
    alerts = at_a_terminal(project.cli("alerts"))

    for output in (batch, alerts):
        assert "\x1b" not in output
        assert "\x07" not in output
        assert "x1b]0;pwned" in output  # shown as text (logfmt doubles the backslash)
    assert "lead.invalid" in batch
    assert "invalid_leads" in alerts
    # The pty turns each line feed into CR LF; no other carriage return is left.
    assert "\r" not in batch.replace("\r\n", "\n")
    assert "\r" not in alerts.replace("\r\n", "\n")


def test_an_escape_in_a_services_answer_reaches_no_terminal(project: Project) -> None:
    """A webhook that answers 400 with an OSC and an ANSI escape: test-notify's failure line
    (on stderr) shows them as text."""
    hostile = b"oops \x1b]0;pwned\x07\x1b[31mRED"
    with webhook_server(lambda: (400, {}, hostile)) as (port, _):
        project.write_config(
            digestNotificationChannel="slack", allowedWebhookHosts=[f"127.0.0.1:{port}"]
        )
        output = at_a_terminal(
            project.cli("test-notify", "--channel", "slack"),
            {"SLACK_WEBHOOK_URL": f"http://127.0.0.1:{port}/hook"},
        )

    assert "HTTP 400" in output
    assert "x1b]0;pwned" in output
    assert "\x1b" not in output
    assert "\x07" not in output
