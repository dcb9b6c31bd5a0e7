"""The configuration file: pydantic models over the original camelCase keys.

Relative paths resolve against the directory that holds the config file, so a command behaves
the same whatever directory it is started from.
"""

from __future__ import annotations

import math
import os

# pydantic looks for plugins through the installed packages' entry points on first use, a
# tenth of a second on a small VPS; this daemon uses none. An operator can still set it.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_camel

from nightly_batch.config_errors import describe_validation_error, near_miss_warnings
from nightly_batch.errors import ConfigError
from nightly_batch.jsonio import JsonSyntaxError, parse_json

CONFIG_ENV = "NIGHTLY_BATCH_CONFIG"
DEFAULT_CONFIG = Path("config/orchestrator_config.json")
ChannelName = Literal["slack", "discord", "email", "log"]


def _log_only() -> list[ChannelName]:
    return ["log"]


class ConfidenceWeights(BaseModel):
    """How much the keyword and the model part count in the hybrid confidence; they sum to 1."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    keyword: Annotated[float, Field(ge=0, le=1)] = 0.4
    model: Annotated[float, Field(ge=0, le=1)] = 0.6

    @model_validator(mode="after")
    def _sum_to_one(self) -> ConfidenceWeights:
        if not math.isclose(self.keyword + self.model, 1.0, abs_tol=1e-9):
            raise ValueError(f"keyword + model must sum to 1, not {self.keyword} + {self.model}")
        return self


class Config(BaseModel):
    """Every key nightly-batch reads from `orchestrator_config.json`, validated once."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True
    )

    config_path: Path = Field(exclude=True)
    state_file: Path
    logs_dir: Path
    digest_dir: Path | None = None
    digest_notification_channel: list[ChannelName] = Field(default_factory=_log_only)
    digest_notification_target: str | None = None
    digest_fallback_channel: ChannelName | None = None
    digest_time_zone: str = "UTC"
    nightly_batch_schedule: str = "0 23 * * *"
    morning_notification_schedule: str = "0 6 * * *"
    heartbeat_minutes: Annotated[int, Field(ge=1, le=60)] = 5
    catch_up_hours: Annotated[float, Field(ge=0, le=72, allow_inf_nan=False)] = 12.0
    shutdown_timeout_seconds: Annotated[float, Field(gt=0, le=3600, allow_inf_nan=False)] = 90.0
    task_history_limit: Annotated[int, Field(ge=1, le=10_000)] = 50
    retry_max_attempts: Annotated[int, Field(ge=0, le=10)] = 2
    retry_backoff_ms: Annotated[int, Field(ge=0, le=600_000)] = 500
    draft_score_threshold: float = 0.75
    keyword_score_max: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 10.0
    confidence_weights: ConfidenceWeights = Field(default_factory=ConfidenceWeights)
    digest_max_age_hours: Annotated[float, Field(gt=0, le=24 * 31, allow_inf_nan=False)] = 24.0
    send_empty_digest: bool = False
    allowed_webhook_hosts: list[str] = Field(default_factory=list)
    alert_repeat_minutes: dict[str, Annotated[float, Field(ge=0)]] = Field(
        default_factory=lambda: {"info": 0.0, "warning": 1440.0, "error": 240.0, "critical": 60.0}
    )
    alert_group_wait_seconds: Annotated[float, Field(ge=0, le=600)] = 10.0
    alerts_per_hour: Annotated[int, Field(ge=1, le=10_000)] = 20
    max_runtime_minutes: dict[str, Annotated[float, Field(gt=0)]] = Field(
        default_factory=lambda: {"nightly-batch": 60.0, "send-digest": 15.0, "heartbeat": 5.0}
    )
    heartbeat_stale_minutes: Annotated[float, Field(gt=0, le=1440)] = 15.0
    watchdog_check_minutes: Annotated[float, Field(gt=0, le=1440)] = 10.0
    digest_deadline_hours: Annotated[float, Field(gt=0, le=24)] = 2.0
    low_disk_percent: Annotated[float, Field(ge=0, le=50)] = 5.0
    metrics_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    metrics_host: str = "127.0.0.1"
    dashboard_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    dashboard_host: str = "127.0.0.1"
    email_region: Literal["us", "eu"] = "us"
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    @field_validator("digest_notification_channel", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list) and not value:
            raise ValueError("must name at least one channel: slack, discord, email or log")
        return value

    @field_validator("digest_notification_channel", mode="after")
    @classmethod
    def _no_repeats(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("names a channel twice")
        return value

    @field_validator("digest_time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                "is not a known IANA time zone (for example 'UTC' or 'Europe/Berlin')"
            ) from None
        return value

    @field_validator("nightly_batch_schedule", "morning_notification_schedule")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        from cronsim import CronSim, CronSimError  # noqa: PLC0415  (only needed to validate)

        if len(value.split()) != 5:
            raise ValueError(
                "is not a cron expression of five fields (minute hour day month weekday)"
            )
        try:
            CronSim(value, datetime(2026, 1, 1, tzinfo=UTC))
        except CronSimError as error:
            raise ValueError(f"is not a valid cron expression ({str(error).lower()})") from None
        return value

    @field_validator("alert_repeat_minutes")
    @classmethod
    def _known_severities(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - {"info", "warning", "error", "critical"})
        if unknown:
            raise ValueError(
                f"names unknown severities {unknown}: use info, warning, error, critical"
            )
        return value

    @field_validator("draft_score_threshold")
    @classmethod
    def _unit_interval(cls, value: float) -> float:
        if not 0 <= value <= 1:
            raise ValueError("must be a number from 0 to 1")
        return value

    @model_validator(mode="after")
    def _resolve_paths(self) -> Config:
        base = self.config_path.parent

        def resolve(path: Path) -> Path:
            # normpath, not resolve(): "../logs" reads better than a followed symlink.
            return Path(os.path.normpath(path if path.is_absolute() else base / path))

        object.__setattr__(self, "state_file", resolve(self.state_file))
        object.__setattr__(self, "logs_dir", resolve(self.logs_dir))
        digest_dir = (
            self.logs_dir / "digests" if self.digest_dir is None else resolve(self.digest_dir)
        )
        object.__setattr__(self, "digest_dir", digest_dir)
        return self

    def repeat_minutes(self, severity: str) -> float:
        defaults = {"info": 0.0, "warning": 1440.0, "error": 240.0, "critical": 60.0}
        return float(self.alert_repeat_minutes.get(severity, defaults[severity]))

    def max_runtime(self, task: str) -> float:
        """Minutes a run of `task` may take before it is reported as hung."""
        defaults = {"nightly-batch": 60.0, "send-digest": 15.0, "heartbeat": 5.0}
        return float(self.max_runtime_minutes.get(task, defaults.get(task, 60.0)))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.digest_time_zone)

    @property
    def digests(self) -> Path:
        """`digestDir`, resolved (never None after validation)."""
        assert self.digest_dir is not None  # noqa: S101  (set by _resolve_paths)
        return self.digest_dir

    @property
    def database_path(self) -> Path:
        return self.logs_dir / "nightly_batch.db"

    @property
    def log_file(self) -> Path:
        return self.logs_dir / "orchestrator.log"


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
    known = {field.alias or name for name, field in Config.model_fields.items()}
    warnings = near_miss_warnings(path, raw, known - {"configPath"})
    try:
        config = Config.model_validate({**raw, "configPath": path})
    except ValidationError as error:
        raise ConfigError(describe_validation_error(path, error)) from None
    check_directories(config)
    return config, warnings


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
