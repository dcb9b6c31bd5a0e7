"""The composition root: the one place that builds the real clock, stores and channels."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from nightly_batch.clock import Clock, SystemClock
from nightly_batch.config import Config, load_config
from nightly_batch.environment import Environment, read_environment
from nightly_batch.records import RuntimeStore
from nightly_batch.redact import Redactor
from nightly_batch.state import SharedStateStore

if TYPE_CHECKING:
    from datetime import datetime

    from nightly_batch.alert_sender import AlertSender
    from nightly_batch.alerts import AlertManager
    from nightly_batch.channels import Channel
    from nightly_batch.pinger import Pinger


@dataclass
class App:
    """Everything a task needs; tests build one with fakes instead of the real pieces."""

    config: Config
    environment: Environment
    clock: Clock
    store: RuntimeStore
    state: SharedStateStore
    redactor: Redactor
    # Waiting goes through an Event, so a stop request cuts a retry back-off short.
    stop: threading.Event = field(default_factory=threading.Event)
    wait: Callable[[float], object] | None = None
    # Builds a channel by name; tests hand in recording or failing channels here.
    channel_factory: Callable[[str, App], Channel] | None = None
    # Set by attach_alerting (the CLI and the daemon); tasks run without them in unit tests.
    alerts: AlertManager | None = None
    alert_sender: AlertSender | None = None
    pinger: Pinger | None = None
    # The previous heartbeat of this process (wall time, monotonic), to notice clock jumps.
    last_beat: tuple[datetime, float] | None = None

    def pause(self, seconds: float) -> None:
        """Wait between retries; returns early when the daemon is asked to stop."""
        (self.wait or self.stop.wait)(seconds)

    def channel(self, name: str, *, retries: bool = True) -> Channel:
        """The delivery channel configured under `name` (ConfigError if it cannot be built)."""
        if self.channel_factory is not None:
            return self.channel_factory(name, self)
        from nightly_batch.channel_factory import build_channel  # noqa: PLC0415

        return build_channel(name, self, retries=retries)


@dataclass(frozen=True)
class Settings:
    """The validated config and environment, before anything is opened."""

    config: Config
    environment: Environment
    warnings: list[str]


def load_settings(config_path: Path, environ: Mapping[str, str] | None = None) -> Settings:
    """Validate the config file and the environment (raises ConfigError)."""
    config, warnings = load_config(config_path)
    return Settings(config, read_environment(environ), warnings)


def build_app(settings: Settings, clock: Clock | None = None) -> App:
    """Open the stores named by the config (creating `logsDir` if needed)."""
    from nightly_batch.digest import ensure_directory  # noqa: PLC0415
    from nightly_batch.sqlite_store import SqliteStore  # noqa: PLC0415

    config = settings.config
    ensure_directory(config.logs_dir)
    return App(
        config=config,
        environment=settings.environment,
        clock=clock or SystemClock(),
        store=SqliteStore(config.database_path),
        state=SharedStateStore(config.state_file),
        redactor=Redactor(settings.environment.secret_values()),
    )
