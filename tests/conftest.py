"""Shared fixtures: a project folder in tmp_path with a config, a state file and an App."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, SupportsIndex

import pytest

from fakes import FakeClock, RecordingChannel, dated, hours
from nightly_batch.cli.main import main
from nightly_batch.core.jsonio import dump_json, parse_json
from nightly_batch.delivery.factory import build_channel
from nightly_batch.runtime.app import App, ChannelFactory, Settings, build_app, load_settings
from nightly_batch.settings.environment import PLAIN_NAMES, SECRET_NAMES
from nightly_batch.tasks.runner import run_task

BASE_CONFIG: dict[str, Any] = {
    "stateFile": "../orchestrator_state.json",
    "logsDir": "../logs",
    "digestNotificationChannel": "log",
    "digestTimeZone": "UTC",
    "retryBackoffMs": 0,
    # Keys the original file holds for other programs: accepted, left alone.
    "docsPath": "../docs",
    "approvalRequiredTaskTypes": ["agent-deploy"],
    "openaiModel": "gpt-4",
}


# Under Debian's libfaketime 0.9.10 with the monotonic clock left real (`make test-year-ahead`),
# clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME), which time.sleep and Popen.wait(timeout) use,
# fails with EINVAL (fixed upstream in 0.9.11). A timed Event wait uses another call that works,
# so this process sleeps through it; our daemon code never calls time.sleep.
if (
    "libfaketime" in os.environ.get("LD_PRELOAD", "")
    and os.environ.get("FAKETIME_DONT_FAKE_MONOTONIC") == "1"
):

    def _sleep_on_an_event(seconds: float | SupportsIndex) -> None:
        threading.Event().wait(float(seconds))

    time.sleep = _sleep_on_an_event

# Variables the daemon reads (or a service manager sets) that the machine running the suite
# may have: a test sees only what it sets itself.
OUTSIDE_VARIABLES = (
    *SECRET_NAMES,
    *PLAIN_NAMES,
    *(f"{name}_FILE" for name in (*SECRET_NAMES, *PLAIN_NAMES)),
    "NIGHTLY_BATCH_CONFIG",
    "NIGHTLY_BATCH_LOG_LEVEL",
    "NIGHTLY_BATCH_TEST_NOW",
    "NOTIFY_SOCKET",
    "WATCHDOG_USEC",
    "WATCHDOG_PID",
    "JOURNAL_STREAM",
    "INVOCATION_ID",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in OUTSIDE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    # Help text is wrapped to the terminal's width; the tests read it at a fixed one.
    monkeypatch.setenv("COLUMNS", "80")


@pytest.fixture(autouse=True)
def _no_daemon_left_running() -> Iterator[None]:
    from daemon_process import DaemonProcess  # noqa: PLC0415

    yield
    while DaemonProcess.started:
        DaemonProcess.started.pop().kill()


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    yield
    root = logging.getLogger()
    for handler in root.handlers[:]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(logging.WARNING)


class Project:
    """A workspace laid out like a deployment: config/, logs/, the state file."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.config_path = root / "config" / "orchestrator_config.json"
        self.state_path = root / "orchestrator_state.json"
        self.logs = root / "logs"
        self.digests = root / "logs" / "digests"
        self.clock = FakeClock()
        self.channels: dict[str, RecordingChannel] = {}
        self.write_config()

    def write_config(self, **overrides: Any) -> Path:
        self.config_path.parent.mkdir(parents=True, exist_ok=True)
        config = {**BASE_CONFIG, **overrides}
        self.config_path.write_bytes(dump_json(config, indent=True))
        return self.config_path

    def write_state(self, state: dict[str, Any]) -> bytes:
        data = dump_json(state, indent=True)
        self.state_path.write_bytes(data)
        return data

    def read_state(self) -> Any:
        return parse_json(self.state_path.read_bytes())

    def read_json(self, path: Path) -> Any:
        return parse_json(path.read_bytes())

    def decode(self, data: bytes) -> Any:
        return parse_json(data)

    def command(self, task: str) -> list[str]:
        """`run-once TASK` for this project, as a separate process would run it.

        The process's clock starts where the project's fake clock stands, so what it writes
        and what the test made in-process share one timeline.
        """
        return [*self.cli("run-once", task)]

    def cli(self, *arguments: str) -> list[str]:
        """A `nightly-batch` command line for this project, on the project's clock."""
        return [
            sys.executable,
            "-m",
            "nightly_batch",
            *arguments,
            "--config",
            str(self.config_path),
            "--now",
            self.clock.now().isoformat(),
        ]

    def main_args(self, *arguments: str) -> list[str]:
        """Arguments for an in-process `main()`, on the project's clock."""
        return [
            *arguments,
            "--config",
            str(self.config_path),
            "--now",
            self.clock.now().isoformat(),
        ]

    def settings(self, environ: dict[str, str] | None = None) -> Settings:
        return load_settings(self.config_path, environ or {})

    def app(
        self,
        environ: dict[str, str] | None = None,
        *,
        real_channels: bool = False,
        wait: Callable[[float], object] = lambda _: None,
    ) -> App:
        """An App on the project's clock whose waits return at once (or go to `wait`);
        recording channels unless asked for the real ones."""
        channels: ChannelFactory = self.channel
        if real_channels:
            channels = build_channel
        return build_app(self.settings(environ), channels, clock=self.clock, wait=wait)

    def live_a_day(self) -> App:
        """A heartbeat, the night's batch, and seven hours later the morning's send-digest."""
        app = self.app()
        run_task(app, "heartbeat", "schedule")
        run_task(app, "nightly-batch", "schedule")
        self.clock.advance(hours(7))
        run_task(app, "send-digest", "schedule")
        return app

    def channel(self, name: str, _app: App, *, retries: bool = True) -> RecordingChannel:
        return self.channels.setdefault(name, RecordingChannel(name))

    def digest_files(self) -> list[str]:
        if not self.digests.exists():
            return []
        return sorted(p.name for p in self.digests.iterdir() if p.is_file())


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path)


@pytest.fixture
def lead() -> Callable[..., dict[str, Any]]:
    def make(lead_id: str, score: Any = 0.5, **fields: Any) -> dict[str, Any]:
        return {
            "id": lead_id,
            "subreddit": "selfhosted",
            "question": f"Question {lead_id}?",
            "link": f"https://www.reddit.com/r/selfhosted/comments/{lead_id}/",
            "queuedAt": dated("2026-11-28T10:00:00.000Z"),
            "score": score,
            **fields,
        }

    return make


@dataclass(frozen=True)
class Said:
    """What a command run in-process answered: its exit code and what it printed."""

    code: int
    out: str
    err: str


Cli = Callable[..., Said]


@pytest.fixture
def cli(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Cli:
    """Runs `nightly-batch COMMAND --config <the project's>` in-process, with `environ` set
    (as an operator's shell or unit would), and gives what it answered."""

    def run(command: str, environ: Mapping[str, str] | None = None) -> Said:
        for name, value in (environ or {}).items():
            monkeypatch.setenv(name, value)
        code = main([command, "--config", str(project.config_path)])
        captured = capsys.readouterr()
        return Said(code, captured.out, captured.err)

    return run
