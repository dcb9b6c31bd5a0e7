"""The shell blocks of docs/ERROR_ALERTS.md, run as printed (MONITORING.md's are run by
tests/test_observability.py, the README's service install by tests/test_systemd.py)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import Project

ROOT = Path(__file__).resolve().parent.parent
ALERTS_GUIDE = ROOT / "docs" / "ERROR_ALERTS.md"
VENV = Path(sys.executable).parent.parent


def block_under(heading: str) -> list[str]:
    """The lines of the first `sh` block of ERROR_ALERTS.md's section `heading`."""
    section = ALERTS_GUIDE.read_text().split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert found is not None, f"no sh block under {heading}"
    return [line for line in found.group(1).splitlines() if line.strip()]


def shell(line: str, environ: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", line],
        check=False,
        env=environ,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_silence_commands_run_as_printed(project: Project) -> None:
    """silence prints its id; alerts lists it; unsilence <that id> removes it."""
    environ = {
        **os.environ,
        "PATH": f"{VENV / 'bin'}:{os.environ['PATH']}",
        "CONFIG": str(project.config_path),
        "NIGHTLY_BATCH_TEST_NOW": project.clock.now().isoformat(),
    }
    silence, listing, unsilence = block_under("Silences")

    made = shell(silence, environ, project.root)
    assert made.returncode == 0, made.stderr
    ident = re.match(r"silence (\S+): task_failed \(send-digest\) until ", made.stdout)
    assert ident is not None, made.stdout
    listed = shell(listing, environ, project.root)
    assert listed.returncode == 0, listed.stderr
    assert f"silence {ident.group(1)}: task_failed (send-digest)" in listed.stdout
    removed = shell(unsilence.replace("<id>", ident.group(1)), environ, project.root)
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout.strip() == f"silence {ident.group(1)} removed"


def test_the_test_failure_walkthrough_runs_as_printed(tmp_path: Path) -> None:
    """In a checkout with the shipped config: the broken digest fails send-digest with an
    error alert, the next run resolves it, and `alerts` shows both."""
    (tmp_path / "config").mkdir()
    shutil.copy(ROOT / "config" / "orchestrator_config.json", tmp_path / "config")
    (tmp_path / ".venv").symlink_to(VENV)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("NIGHTLY_BATCH_")}
    lines = block_under("Triggering a test failure")
    results = [shell(line, environ, tmp_path) for line in lines]

    for line, result in zip(lines, results, strict=True):
        expected = 1 if "# fails" in line else 0
        assert result.returncode == expected, (line, result.stderr)
    failed = results[lines.index(next(line for line in lines if "# fails" in line))]
    assert "not valid JSON" in failed.stderr
    listing = results[-1].stdout
    assert "task_failed (send-digest)" in listing
    assert "notifications: firing logged, resolved logged" in listing, listing
