"""The composition root: the one place that builds the real clock, stores and channels."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar, cast

from nightly_batch.core.channels import channel_variables
from nightly_batch.core.clock import Clock, SystemClock
from nightly_batch.observability.redact import Redactor
from nightly_batch.settings.config import Config, load_config
from nightly_batch.settings.environment import Environment, read_environment
from nightly_batch.storage.port import RuntimeStore
from nightly_batch.storage.state import SharedStateStore

if TYPE_CHECKING:
    from datetime import datetime

    from nightly_batch.alerts.manager import AlertManager
    from nightly_batch.alerts.pinger import Pinger
    from nightly_batch.alerts.sender import AlertSender
    from nightly_batch.delivery.channel import Channel


Resource = TypeVar("Resource")


@dataclass
class App:
    """Everything a task needs; tests build one with fakes instead of the real pieces."""

    config: Config
    environment: Environment
    clock: Clock
    store: RuntimeStore
    state: SharedStateStore
    redactor: Redactor
    # Builds a delivery channel by name: the real factory from the composition root, or a
    # test's recording or failing channels.
    channels: ChannelFactory
    # Waiting goes through an Event, so a stop request cuts a retry back-off short; tests pass
    # a wait that returns at once.
    stop: threading.Event = field(default_factory=threading.Event)
    wait: Callable[[float], object] | None = None
    # Set by attach_alerting (the CLI and the daemon); tasks run without them in unit tests.
    alerts: AlertManager | None = None
    alert_sender: AlertSender | None = None
    pinger: Pinger | None = None
    # The previous heartbeat of this process (wall time, monotonic), to notice clock jumps.
    last_beat: tuple[datetime, float] | None = None
    # What `shared` made (the HTTP client every channel posts with), closed by `close`.
    _shared: dict[str, object] = field(default_factory=dict)
    _closing: ExitStack = field(default_factory=ExitStack)
    _shared_lock: threading.Lock = field(default_factory=threading.Lock)

    def shared(self, key: str, make: Callable[[], Resource]) -> Resource:
        """One `make()` per app under `key`, made on first use and closed with the app (the
        alert sender's thread and the tasks build channels at once, hence the lock)."""
        with self._shared_lock:
            if key not in self._shared:
                made = make()
                self._shared[key] = made
                closer = getattr(made, "close", None)
                if callable(closer):
                    self._closing.callback(closer)
            return cast("Resource", self._shared[key])

    def close(self) -> None:
        """Close what `shared` made, then the store."""
        with self._shared_lock:
            self._closing.close()
            self._shared.clear()
        self.store.close()

    def pause(self, seconds: float) -> None:
        """Wait between retries; returns early when the daemon is asked to stop."""
        (self.wait or self.stop.wait)(seconds)

    def channel(self, name: str, *, retries: bool = True) -> Channel:
        """The delivery channel configured under `name` (ConfigError if it cannot be built)."""
        return self.channels(name, self, retries=retries)


class ChannelFactory(Protocol):
    """Builds the channel configured under `name` for `app`."""

    def __call__(self, name: str, app: App, /, *, retries: bool = True) -> Channel: ...


@dataclass(frozen=True)
class Settings:
    """The validated config and environment, before anything is opened."""

    config: Config
    environment: Environment
    warnings: list[str]


def load_settings(config_path: Path, environ: Mapping[str, str] | None = None) -> Settings:
    """Validate the config file and the environment (raises ConfigError)."""
    config, warnings = load_config(config_path)
    return Settings(config, read_environment(environ, also=channel_variables()), warnings)


def build_app(
    settings: Settings,
    channels: ChannelFactory,
    clock: Clock | None = None,
    wait: Callable[[float], object] | None = None,
) -> App:
    """Open the stores named by the config (creating `logsDir` and the state file's
    directory if needed: check_directories made sure they can be).

    `channels` comes from the caller: the command line's composition root hands in the real
    factory (delivery sits above this layer), tests their own.
    """
    from nightly_batch.storage.digests import ensure_directory  # noqa: PLC0415
    from nightly_batch.storage.opening import open_store  # noqa: PLC0415

    config = settings.config
    ensure_directory(config.logs_dir)
    ensure_directory(config.state_file.parent)  # the lock file lives beside the state
    return App(
        config=config,
        environment=settings.environment,
        clock=clock or SystemClock(),
        store=open_store(config, settings.environment),
        state=SharedStateStore(config.state_file),
        redactor=Redactor(settings.environment.secret_values()),
        channels=channels,
        wait=wait,
    )
