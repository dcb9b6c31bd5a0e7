"""The configuration file: typed msgspec structs over the original camelCase keys.

Relative paths resolve against the directory that holds the config file, so a command behaves
the same whatever directory it is started from. msgspec validates the types and ranges (it is
already here for the state file and costs a few milliseconds to import and check, where a
model library cost a fifth of a second on every run); config_types checks zones, cron lines and
channel lists, and config_errors turns any refusal into one sentence.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import msgspec

from nightly_batch.core.jsonio import JsonSyntaxError, parse_json
from nightly_batch.core.names import Severity
from nightly_batch.errors import ConfigError
from nightly_batch.settings.checks import (
    ChannelName,
    check_channels,
    check_cron,
    check_zone,
    decode_hook,
    encode_hook,
    one_or_many,
)
from nightly_batch.settings.messages import (
    describe_validation_error,
    near_miss_warnings,
    show_value,
)

CONFIG_ENV = "NIGHTLY_BATCH_CONFIG"
DEFAULT_CONFIG = Path("config/orchestrator_config.json")

# msgspec checks each range; config_errors reads the same ranges back to say what is allowed.
Meta = msgspec.Meta
Port = Annotated[int, Meta(ge=1, le=65535)]
Fraction = Annotated[float, Meta(ge=0, le=1)]
MINUTES_A_WEEK = 7 * 24 * 60
MINUTES_A_YEAR = 365 * 24 * 60


class ConfidenceWeights(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """How much the keyword and the model part count in the hybrid confidence; they sum to 1."""

    keyword: Fraction = 0.4
    model: Fraction = 0.6

    def __post_init__(self) -> None:
        if not math.isclose(self.keyword + self.model, 1.0, abs_tol=1e-9):
            raise ValueError(f"keyword + model must sum to 1, not {self.keyword} + {self.model}")


def _default_repeats() -> dict[Severity, float]:
    return {"info": 0.0, "warning": 1440.0, "error": 240.0, "critical": 60.0}


DEFAULT_REPEATS = {str(name): minutes for name, minutes in _default_repeats().items()}


def _default_runtimes() -> dict[str, float]:
    return {"nightly-batch": 60.0, "send-digest": 15.0, "heartbeat": 5.0}


class Config(msgspec.Struct, rename="camel", frozen=True):
    """Every key nightly-batch reads from `orchestrator_config.json`, validated once."""

    config_path: Path
    state_file: Path
    logs_dir: Path
    digest_dir: Path | None = None
    digest_notification_channel: list[ChannelName] = msgspec.field(default_factory=lambda: ["log"])
    digest_notification_target: str | None = None
    digest_fallback_channel: ChannelName | None = None
    digest_time_zone: str = "UTC"
    nightly_batch_schedule: str = "0 23 * * *"
    morning_notification_schedule: str = "0 6 * * *"
    heartbeat_minutes: Annotated[int, Meta(ge=1, le=60)] = 5
    catch_up_hours: Annotated[float, Meta(ge=0, le=72)] = 12.0
    shutdown_timeout_seconds: Annotated[float, Meta(gt=0, le=3600)] = 90.0
    task_history_limit: Annotated[int, Meta(ge=1, le=10_000)] = 50
    retry_max_attempts: Annotated[int, Meta(ge=0, le=10)] = 2
    retry_backoff_ms: Annotated[int, Meta(ge=0, le=600_000)] = 500
    draft_score_threshold: Fraction = 0.75
    keyword_score_max: Annotated[float, Meta(gt=0, le=1_000_000)] = 10.0
    confidence_weights: ConfidenceWeights = msgspec.field(default_factory=ConfidenceWeights)
    digest_max_age_hours: Annotated[float, Meta(gt=0, le=24 * 31)] = 24.0
    send_empty_digest: bool = False
    allowed_webhook_hosts: list[str] = msgspec.field(default_factory=list)
    alert_repeat_minutes: dict[Severity, Annotated[float, Meta(ge=0, le=MINUTES_A_YEAR)]] = (
        msgspec.field(default_factory=_default_repeats)
    )
    alert_group_wait_seconds: Annotated[float, Meta(ge=0, le=600)] = 10.0
    alerts_per_hour: Annotated[int, Meta(ge=1, le=10_000)] = 20
    max_runtime_minutes: dict[str, Annotated[float, Meta(gt=0, le=MINUTES_A_WEEK)]] = msgspec.field(
        default_factory=_default_runtimes
    )
    heartbeat_stale_minutes: Annotated[float, Meta(gt=0, le=1440)] = 15.0
    watchdog_check_minutes: Annotated[float, Meta(gt=0, le=1440)] = 10.0
    digest_deadline_hours: Annotated[float, Meta(gt=0, le=24)] = 2.0
    low_disk_percent: Annotated[float, Meta(ge=0, le=50)] = 5.0
    metrics_port: Port | None = None
    metrics_host: str = "127.0.0.1"
    dashboard_port: Port | None = None
    dashboard_host: str = "127.0.0.1"
    email_region: Literal["us", "eu"] = "us"
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    def __post_init__(self) -> None:
        checks: tuple[tuple[str, Any, Callable[[Any], None]], ...] = (
            ("digestNotificationChannel", self.digest_notification_channel, check_channels),
            ("digestTimeZone", self.digest_time_zone, check_zone),
            ("nightlyBatchSchedule", self.nightly_batch_schedule, check_cron),
            ("morningNotificationSchedule", self.morning_notification_schedule, check_cron),
        )
        for key, value, check in checks:
            try:
                check(value)
            except ValueError as problem:
                raise ValueError(f"{key} = {show_value(value)} {problem}") from None

    def repeat_minutes(self, severity: str) -> float:
        """Minutes between reminders of a firing alert of `severity` (0: never remind)."""
        chosen = {str(name): minutes for name, minutes in self.alert_repeat_minutes.items()}
        return float(chosen.get(severity, DEFAULT_REPEATS[severity]))

    def max_runtime(self, task: str) -> float:
        """Minutes a run of `task` may take before it is reported as hung."""
        return float(self.max_runtime_minutes.get(task, _default_runtimes().get(task, 60.0)))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.digest_time_zone)

    @property
    def digests(self) -> Path:
        """`digestDir`, resolved (never None after load_config)."""
        assert self.digest_dir is not None  # noqa: S101  (set by load_config)
        return self.digest_dir

    @property
    def database_path(self) -> Path:
        return self.logs_dir / "nightly_batch.db"

    @property
    def log_file(self) -> Path:
        return self.logs_dir / "orchestrator.log"

    def shown(self) -> dict[str, Any]:
        """The effective config under its file keys, as check-config prints it."""
        shown: dict[str, Any] = msgspec.to_builtins(self, enc_hook=encode_hook)
        shown.pop("configPath", None)
        return shown


KNOWN_KEYS = frozenset(field.encode_name for field in msgspec.structs.fields(Config)) - {
    "configPath"
}


def config_path_from(argument: str | None, environ: dict[str, str] | os._Environ[str]) -> Path:
    """The config file to use: the --config argument, else $NIGHTLY_BATCH_CONFIG, else the default."""
    return Path(argument or environ.get(CONFIG_ENV) or DEFAULT_CONFIG).absolute()


def load_config(path: Path) -> tuple[Config, list[str]]:
    """Read and validate the config file; returns it with warnings about likely misspelt keys."""
    try:
        raw = parse_json(path.read_bytes())
    except FileNotFoundError:
        raise ConfigError(f"{path}: the config file does not exist.") from None
    except OSError as error:
        raise ConfigError(f"{path}: the config file cannot be read ({error.strerror}).") from None
    except JsonSyntaxError as fault:
        raise ConfigError(f"{path}: the config file is {fault}.") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the config file must hold a JSON object of keys and values.")
    warnings = near_miss_warnings(path, raw, set(KNOWN_KEYS))
    given = {**raw, "configPath": str(path)}
    if "digestNotificationChannel" in given:
        given["digestNotificationChannel"] = one_or_many(given["digestNotificationChannel"])
    try:
        # Not strict: "5" for 5 and 5.0 for a whole number are accepted, as operators write them.
        config = msgspec.convert(given, Config, strict=False, dec_hook=decode_hook)
    except msgspec.ValidationError as error:
        raise ConfigError(describe_validation_error(path, raw, Config, error)) from None
    config = _resolve_paths(config)
    check_directories(config)
    return config, warnings


def _resolve_paths(config: Config) -> Config:
    base = config.config_path.parent

    def resolve(path: Path) -> Path:
        # normpath, not resolve(): "../logs" reads better than a followed symlink.
        return Path(os.path.normpath(path if path.is_absolute() else base / path))

    logs_dir = resolve(config.logs_dir)
    return msgspec.structs.replace(
        config,
        state_file=resolve(config.state_file),
        logs_dir=logs_dir,
        digest_dir=logs_dir / "digests"
        if config.digest_dir is None
        else resolve(config.digest_dir),
    )


def check_directories(config: Config) -> None:
    """Every directory we write to must be writable, or creatable inside a writable parent."""
    places = {
        "logsDir": config.logs_dir,
        "digestDir": config.digests,
        "stateFile": config.state_file.parent,
    }
    for key, directory in places.items():
        problem = _unwritable(directory)
        if problem:
            raise ConfigError(
                f"{config.config_path}: {key} = '{directory}' is not usable: {problem}."
            )


def _unwritable(directory: Path) -> str | None:
    probe = directory
    while not probe.exists():
        if probe.parent == probe:
            return "no part of the path exists"
        probe = probe.parent
    if not probe.is_dir():
        return f"'{probe}' is not a directory"
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"'{probe}' is not writable by this user"
    return None
