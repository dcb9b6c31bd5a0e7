"""The README's service install, performed literally in a Debian machine with a real systemd.

The machine boots under systemd-nspawn (tests/nspawn.py) with this repository at /src. Every
line of the README's "Running as a service" block runs as printed (the only substitution: the
repository's address, `<this repository>`, is /src), and then the unit is checked as an
operator would: readiness, status, the file system it may write, a run-once as its user, the
watchdog, a clean stop and the journal's priorities.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import pytest

from nspawn import Machine, booted, needs_nspawn

pytestmark = [pytest.mark.systemd, pytest.mark.slow, needs_nspawn]

ROOT = Path(__file__).resolve().parent.parent
UNIT = "nightly-batch"
CONFIG = "/etc/nightly-batch/orchestrator_config.json"
CLI = "/opt/nightly-batch/.venv/bin/nightly-batch"


def service_install_lines() -> list[str]:
    """The shell lines of the README's "Running as a service" block, comments dropped."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Running as a service", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block is not None, "the README's service section has no sh block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def monitoring_lines() -> list[str]:
    """Every line of docs/MONITORING.md's `sh` blocks."""
    text = (ROOT / "docs" / "MONITORING.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)```", text, re.DOTALL)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def following(line: str) -> str:
    """A line that follows a log until Ctrl-C, ended after two seconds (exit 124 is that)."""
    command = line.split("#", 1)[0].strip()
    if command.endswith(" -f"):
        return f"timeout 2 {command} || test $? -eq 124"
    return line


def show(machine: Machine, *properties: str) -> dict[str, str]:
    output = machine.run(f"systemctl show {UNIT} " + " ".join(f"-p {p}" for p in properties))
    return dict(line.split("=", 1) for line in output.stdout.splitlines())


def wait_for(machine: Machine, what: str, condition: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if machine.run(condition, check=False).returncode == 0:
            return
        time.sleep(1)
    journal = machine.run(f"journalctl -u {UNIT} --no-pager -n 40", check=False).stdout
    pytest.fail(f"timed out after {timeout} s waiting for {what}\n{journal}")


def run_session(machine: Machine, lines: list[str]) -> dict[str, str]:
    """`lines` in one shell session, as an operator pastes a block (a `cd` carries on), with
    `set -e`; each line's output, told apart by a marker printed before it."""
    script = "set -eo pipefail\n" + "".join(
        f"echo '@@ {number}'\n{line}\n" for number, line in enumerate(lines)
    )
    printed = re.split(r"^@@ (\d+)\n", machine.run(script).stdout, flags=re.MULTILINE)
    return {lines[int(n)]: out for n, out in zip(printed[1::2], printed[2::2], strict=True)}


def said_by(outputs: dict[str, str], start: str) -> str:
    return next(out for line, out in outputs.items() if line.startswith(start))


def test_the_readme_service_install_runs_under_systemd(tmp_path: Path) -> None:
    """Install as printed, then: ready, writable only where named, the monitoring guide, the
    watchdog, a clean stop, the journal's priorities and the quick start's `make run`."""
    source = tmp_path / "source"
    # A clone of what is committed, as an operator's `git clone` would see it.
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(source)], check=True)
    with booted(source, tmp_path) as machine:
        lines = [line.replace("<this repository>", "/src") for line in service_install_lines()]
        installed = run_session(machine, lines)
        main_pid = check_ready(machine, installed)
        check_writable_paths(machine, main_pid)
        check_run_once_and_monitoring(machine)
        check_watchdog(machine)
        check_stop_and_journal(machine)
        check_quick_start(machine)


def check_ready(machine: Machine, installed: dict[str, str]) -> str:
    """Type=notify: `enable --now` returned after READY=1, which came with the next runs."""
    assert "active (running)" in said_by(installed, "systemctl status")
    state = show(machine, "ActiveState", "SubState", "StatusText", "MainPID")
    assert (state["ActiveState"], state["SubState"]) == ("active", "running")
    assert "next" in state["StatusText"], state["StatusText"]
    health = said_by(installed, "curl")
    assert health.startswith("ok: the last heartbeat was "), health
    assert "heartbeat" in said_by(installed, "sudo -u nightly-batch nightly-batch status")
    return state["MainPID"]


def check_writable_paths(machine: Machine, main_pid: str) -> None:
    """ProtectSystem=strict: in the service's own mount namespace only its state directory
    (and its private /tmp) can be written."""
    for path, writable in (
        ("/var/lib/nightly-batch/probe", True),
        ("/tmp/probe", True),
        ("/opt/nightly-batch/probe", False),
        ("/etc/nightly-batch/probe", False),
        ("/usr/probe", False),
        ("/root/probe", False),
    ):
        touched = machine.run(f"nsenter -t {main_pid} -m touch {path}", check=False)
        assert (touched.returncode == 0) == writable, (path, touched.stderr)


def check_run_once_and_monitoring(machine: Machine) -> None:
    """A run-once as the service's user; then docs/MONITORING.md's commands as root, in one
    session with the guide's own defaults (this install's paths), `nightly-batch` on PATH."""
    machine.run(f"sudo -u nightly-batch {CLI} run-once nightly-batch --config {CONFIG}")
    # The deployed config's digestTimeZone is UTC: the night's digest has today's UTC date.
    machine.run('test -f "/var/lib/nightly-batch/logs/digests/digest-$(date -u +%F).json"')
    found = machine.run("command -v nightly-batch").stdout.strip()
    assert found == "/usr/local/bin/nightly-batch"
    said = run_session(machine, [following(line) for line in monitoring_lines()])
    assert said_by(said, 'curl -s "http://$METRICS/healthz"').startswith("ok: the last heartbeat")
    assert "active (running)" in said_by(said, "systemctl status nightly-batch")
    metrics = said_by(said, 'curl -s "http://$METRICS/metrics"')
    assert "nightly_batch_last_success_timestamp_seconds{" in metrics
    # What root's commands opened (the run database) is still the service's to write.
    machine.run(f"sudo -u nightly-batch nightly-batch run-once heartbeat --config {CONFIG}")


def check_watchdog(machine: Machine) -> None:
    """A stalled daemon (stopped outright) stops pinging; the watchdog kills and restarts it."""
    machine.put(
        f"/etc/systemd/system/{UNIT}.service.d/quick-watchdog.conf",
        b"[Service]\nWatchdogSec=6s\nTimeoutAbortSec=5s\nRestartSec=1s\n",
    )
    machine.run(f"systemctl daemon-reload && systemctl restart {UNIT}")
    before = show(machine, "MainPID", "NRestarts")
    machine.run(f"kill -STOP {before['MainPID']}")
    wait_for(
        machine,
        "the watchdog's restart",
        f"test $(systemctl show {UNIT} -p NRestarts --value) -gt {before['NRestarts']}"
        f" && systemctl is-active --quiet {UNIT}",
        90,
    )
    assert show(machine, "MainPID")["MainPID"] != before["MainPID"]
    assert "Watchdog timeout" in machine.run(f"journalctl -u {UNIT} --no-pager -o cat").stdout


def check_stop_and_journal(machine: Machine) -> None:
    """systemctl stop: SIGTERM, a clean exit 0. The journal holds each of the daemon's own
    lines (its stdout, not systemd's messages about the unit) at its priority."""
    machine.run(f"systemctl stop {UNIT}")
    stopped = show(machine, "ActiveState", "Result", "ExecMainStatus")
    assert stopped == {"ActiveState": "inactive", "Result": "success", "ExecMainStatus": "0"}
    own = machine.run(
        f"journalctl -u {UNIT} _TRANSPORT=stdout --no-pager -o json"
        " --output-fields=PRIORITY,MESSAGE"
    ).stdout
    lines = [json.loads(line) for line in own.splitlines() if line.strip()]
    priority = {
        event: {line["PRIORITY"] for line in lines if f"event={event} " in line["MESSAGE"]}
        for event in ("daemon.ready", "alerts.log_only")
    }
    assert priority == {"daemon.ready": {"6"}, "alerts.log_only": {"4"}}, priority
    warnings = machine.run(
        f"journalctl -u {UNIT} _TRANSPORT=stdout --no-pager -p warning -o cat"
    ).stdout
    assert "event=alerts.log_only" in warnings
    assert "level=info" not in warnings


def check_quick_start(machine: Machine) -> None:
    """The README's quick start in the installed checkout: `make run` starts the daemon in
    the foreground, and Ctrl-C (SIGINT to its process group) stops it cleanly."""
    quick = machine.run(
        # A background job of a non-interactive shell starts with SIGINT ignored: env gives
        # make (and the daemon under it) the default action, as at a terminal.
        "cd /opt/nightly-batch\n"
        "setsid env --default-signal=INT make run > /tmp/make-run.txt 2>&1 &\n"
        "pid=$!\n"
        "for _ in $(seq 60); do grep -q daemon.ready /tmp/make-run.txt && break; sleep 1; done\n"
        "kill -INT -- -$pid\n"
        "wait $pid || true\n"
        "cat /tmp/make-run.txt",
        timeout=180,
    ).stdout
    assert "daemon.ready" in quick
    assert "daemon.stopped" in quick
    assert "Traceback" not in quick
