"""SPEC 10: a command imports only what it uses.

Marking a queue needs no scheduler, HTTP client, web framework or event loop; `--help` needs
nothing beyond the command line itself. Each command runs in a fresh interpreter, which then
lists the modules it loaded.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Project

# Run main() with the given arguments, then write the loaded modules' names to a file.
PROBE = """
import sys
out, args = sys.argv[1], sys.argv[2:]
from nightly_batch.cli.main import main
try:
    code = main(args)
except SystemExit as stop:
    code = stop.code
with open(out, "w") as listing:
    listing.write("\\n".join(sorted(sys.modules)))
raise SystemExit(code)
"""
# What only the daemon, delivery or the dashboard need, and what we no longer depend on.
# pydantic is allowed: it validates the config and the environment, which every command reads.
HEAVY = (
    "apscheduler",
    "httpx",
    "httpcore",
    "ssl",
    "asyncio",
    "starlette",
    "uvicorn",
    "jinja2",
    "prometheus_client",
)
# structlog imports asyncio at module level (structlog._native and structlog.stdlib, for their
# async log methods) and asyncio imports ssl, so every command that loads our loggers loads
# both: about 21 ms of structlog's 62 ms import (bench/RESULTS.md). Commands that log nothing
# (status, --help) still load neither.
LOADED_BY_STRUCTLOG = ("asyncio", "ssl")


def loaded_modules(tmp_path: Path, *arguments: str) -> set[str]:
    listing = tmp_path / "modules.txt"
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(listing), *arguments],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return set(listing.read_text().splitlines())


def heavy(modules: set[str]) -> list[str]:
    allowed = LOADED_BY_STRUCTLOG if "structlog" in modules else ()
    return sorted(m for m in modules if m.split(".")[0] in HEAVY and m.split(".")[0] not in allowed)


@pytest.mark.parametrize(
    "arguments",
    [("run-once", "nightly-batch"), ("run-once", "heartbeat"), ("status",), ("check-config",)],
)
def test_queue_and_status_commands_load_no_scheduler_http_or_event_loop(
    project: Project, tmp_path: Path, arguments: tuple[str, ...]
) -> None:
    """Marking the queue (an empty batch fires an alert too), the heartbeat and status."""
    project.write_state({"redditQueue": [{"id": "a", "score": 2}]})  # selects nothing

    modules = loaded_modules(tmp_path, *arguments, "--config", str(project.config_path))

    assert heavy(modules) == []
    assert "nightly_batch.settings.config" in modules  # the probe did run the command
    if arguments == ("status",):  # it writes no events, so not even structlog's asyncio
        assert "structlog" not in modules


def test_help_loads_only_the_command_line(tmp_path: Path) -> None:
    """--help loads the CLI, its grammar and the task and channel registries it lists, nothing
    else of ours, nor shutil."""
    modules = loaded_modules(tmp_path, "--help")

    ours = sorted(m for m in modules if m.startswith("nightly_batch"))
    assert ours == [
        "nightly_batch",
        "nightly_batch.cli",
        "nightly_batch.cli.main",
        "nightly_batch.cli.parser",
        "nightly_batch.core",
        "nightly_batch.core.channels",  # the channel registry, for test-notify's choices
        "nightly_batch.core.names",
        "nightly_batch.core.registry",  # the registries' shared shape
        "nightly_batch.core.tasks",  # the task registry, for run-once's choices: data only
    ]
    assert heavy(modules) == []
    assert "structlog" not in modules
    assert "shutil" not in modules
