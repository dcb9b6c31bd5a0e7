"""The config file's keys as pydantic models: each key's type, default, range and meaning.

docs/CONFIGURATION.md's table of keys is written from these declarations (reference.py), and
error sentences read what a key allows from the same declarations (allowed.py), so the three
cannot drift apart. Validation is pydantic's lax mode, as operators write values: "5" and 5.0
for 5, "true" for true.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from nightly_batch.core.names import Severity
from nightly_batch.core.tasks import REGISTRY, spec_of
from nightly_batch.settings.checks import (
    ArchiveKeep,
    ChannelList,
    ChannelName,
    CronLine,
    FilePath,
    Number,
    WholeNumber,
    ZoneName,
    refusal,
)
from nightly_batch.settings.routes_model import DigestRoute

Port = Annotated[WholeNumber, Field(ge=1, le=65535)]
Fraction = Annotated[Number, Field(ge=0, le=1)]
MINUTES_A_WEEK = 7 * 24 * 60
MINUTES_A_YEAR = 365 * 24 * 60


class ConfidenceWeights(BaseModel):
    """How much the keyword and the model part count in the hybrid confidence; they sum to 1."""

    # A misspelt weight would silently keep its default, so unknown keys are refused here.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    keyword: Fraction = Field(0.4, description="the keyword score's weight")
    model: Fraction = Field(0.6, description="the model score's weight")

    @model_validator(mode="after")
    def _sum_to_one(self) -> ConfidenceWeights:
        if not math.isclose(self.keyword + self.model, 1.0, abs_tol=1e-9):
            raise refusal(
                f"is not allowed: keyword + model must sum to 1, not {self.keyword} + {self.model}"
            )
        return self


def _default_repeats() -> dict[Severity, float]:
    return {"info": 0.0, "warning": 1440.0, "error": 240.0, "critical": 60.0}


def _log_only() -> list[ChannelName]:
    return ["log"]


def _default_runtimes() -> dict[str, float]:
    """Each registered task's own limit (core/tasks.py), so a new task brings its default."""
    return {spec.name: spec.max_runtime_minutes for spec in REGISTRY.values()}


DEFAULT_REPEATS: dict[str, float] = {
    str(name): minutes for name, minutes in _default_repeats().items()
}


class Config(BaseModel):
    """Every key nightly-batch reads from `orchestrator_config.json`, validated once."""

    # Keys other programs keep in the same file are ignored (messages.py warns about near misses).
    model_config = ConfigDict(
        alias_generator=to_camel, extra="ignore", frozen=True, allow_inf_nan=False
    )

    # Set by load_config, not read from the file: relative paths resolve against its directory.
    config_path: Path = Field(exclude=True)
    state_file: FilePath = Field(description="the shared state, `orchestrator_state.json`")
    logs_dir: FilePath = Field(
        description="logs and the run database; a writable directory, created if missing"
    )
    digest_dir: FilePath | None = Field(
        None,
        description="one digest per business date; a writable directory, created if missing "
        "(none: `<logsDir>/digests`)",
    )
    digest_notification_channel: ChannelList = Field(
        default_factory=_log_only, description="where send-digest delivers"
    )
    digest_notification_target: str | None = Field(
        None,
        description="for `email`: the recipients, comma-separated; for `slack` with "
        "`SLACK_BOT_TOKEN`: the channel id (`C0123456789`); ignored otherwise",
    )
    digest_fallback_channel: ChannelName | None = Field(
        None, description="used only when every channel in `digestNotificationChannel` failed"
    )
    alert_delivery: Literal["own", "alertmanager", "both"] = Field(
        "both",
        description="with `ALERTMANAGER_URL`: `alertmanager` sends alerts only there, `own` only "
        "through our channels (Slack, e-mail, webhook, SMS), `both` through all",
    )
    digest_routes: dict[ChannelName, DigestRoute] = Field(
        default_factory=dict,
        description="each channel named gets only its slice of the digest: `subreddits`, "
        "`tags`, `minConfidence` (every filter given must pass); the others get all of it",
    )
    allowed_webhook_hosts: list[str] = Field(
        default_factory=list,
        description="extra `host` or `host:port` entries webhook and API URLs may point at "
        "(a self-hosted Slack-compatible server, a local relay); only these may use plain http",
    )
    email_region: Literal["us", "eu"] = Field(
        "us", description="SendGrid's and Mailgun's regional API endpoint"
    )
    digest_time_zone: ZoneName = Field(
        "UTC",
        description="the zone of the schedules and of the digest's business date",
    )
    nightly_batch_schedule: CronLine = Field("0 23 * * *", description="when nightly-batch runs")
    morning_notification_schedule: CronLine = Field(
        "0 6 * * *", description="when send-digest runs"
    )
    heartbeat_minutes: WholeNumber = Field(5, ge=1, le=60, description="the heartbeat interval")
    batch_node: str | None = Field(
        None,
        description="with a PostgreSQL store: the node (`NIGHTLY_BATCH_NODE`) whose host has "
        "the state file; it runs the nightly batch whether or not it leads, and the leader "
        "raises `batch_host_down` when it is gone (unset: the leader runs the batch)",
    )
    leader_lease_seconds: Number = Field(
        30.0,
        ge=3,
        le=55,  # a takeover within 55 + 18 + 5 s: inside the 90 s promised
        description="with a PostgreSQL store: the leader lease's length; renewed every third "
        "of it, and a standby takes over within about 1.5 times it (docs/HIGH_AVAILABILITY.md)",
    )
    catch_up_hours: Number = Field(
        12.0,
        ge=0,
        le=72,
        description="how late a missed daily slot may still run once (0: never catch up)",
    )
    shutdown_timeout_seconds: Number = Field(
        90.0,
        gt=0,
        le=3600,
        description="how long a stop waits for a running job; keep it below the unit's "
        "`TimeoutStopSec`",
    )
    task_history_limit: WholeNumber = Field(
        50, ge=1, le=10_000, description="how many `taskHistory` entries the state keeps"
    )
    retry_max_attempts: WholeNumber = Field(
        2,
        ge=0,
        le=10,
        description="retries within one run after a failure that may pass (a busy lock, an I/O "
        "error)",
    )
    retry_backoff_ms: WholeNumber = Field(
        500,
        ge=0,
        le=600_000,
        description="the first retry's delay in milliseconds; it doubles each time, with jitter",
    )
    draft_score_threshold: Fraction = Field(
        0.75, description="a lead is selected when its confidence is strictly above this"
    )
    keyword_score_max: Number = Field(
        10.0, gt=0, le=1_000_000, description="a raw keyword sum is divided by this (capped at 1)"
    )
    near_miss_margin: Fraction = Field(
        0.1,
        description="a lead this close below `draftScoreThreshold` is listed as a near miss",
    )
    near_miss_limit: WholeNumber = Field(
        10, ge=0, le=100, description="the most near misses a digest lists (0: none)"
    )
    max_lead_age_hours: Number | None = Field(
        None,
        gt=0,
        le=24 * 365,
        description="the digest leaves out leads posted (else queued) longer ago than this, "
        "counted as `stale`; off when unset",
    )
    precision_window_days: WholeNumber = Field(
        30,
        ge=1,
        le=365,
        description="the days of earlier selections whose drafted share the digest reports",
    )
    confidence_weights: ConfidenceWeights = Field(
        default_factory=ConfidenceWeights,
        description="the hybrid confidence's weights, `keyword` and `model`, summing to 1",
    )
    digest_max_age_hours: Number = Field(
        24.0,
        gt=0,
        le=24 * 31,
        description="send-digest does not send a digest generated longer ago than this",
    )
    digest_archive_keep: ArchiveKeep = Field(
        "14d",
        description="replaced digests kept in `archive/`: a count (`10`: the newest ten) or an "
        "age (`14d`: those of the last 14 days); the heartbeat removes the others",
    )
    send_empty_digest: bool = Field(
        default=False, description="deliver a digest that holds no leads"
    )
    alert_repeat_minutes: dict[Severity, Annotated[Number, Field(ge=0, le=MINUTES_A_YEAR)]] = Field(
        default_factory=_default_repeats,
        description="how often a firing alert is repeated, per severity, in minutes "
        "(0: no reminders)",
    )
    alert_group_wait_seconds: Number = Field(
        10.0, ge=0, le=600, description="alerts raised within this window go out as one message"
    )
    alerts_per_hour: WholeNumber = Field(
        20,
        ge=1,
        le=10_000,
        description="at most this many alert messages per hour; the rest are recorded as "
        "suppressed",
    )
    max_runtime_minutes: dict[str, Annotated[Number, Field(gt=0, le=MINUTES_A_WEEK)]] = Field(
        default_factory=_default_runtimes,
        description="minutes per task; a run past this is reported as hung",
    )
    heartbeat_stale_minutes: Number = Field(
        15.0, gt=0, le=1440, description="no heartbeat for this long is a critical alert"
    )
    watchdog_check_minutes: Number = Field(
        10.0, gt=0, le=1440, description="how often the watchdog thread looks"
    )
    digest_deadline_hours: Number = Field(
        2.0,
        gt=0,
        le=24,
        description="hours after the morning slot by which the digest must have been delivered",
    )
    invalid_lead_alert_ratio: Number = Field(
        0.2,
        ge=0,
        le=1,
        description="a batch in which more than this share of the leads is invalid raises the "
        "`invalid_leads` warning",
    )
    low_disk_percent: Number = Field(
        5.0,
        ge=0,
        le=50,
        description="free space in `logsDir` below this is a warning (below 1 % critical)",
    )
    metrics_port: Port | None = Field(
        None,
        description="serve Prometheus `/metrics` and `/healthz` from the daemon on this port "
        "(none: off)",
    )
    metrics_host: str = Field(
        "127.0.0.1",
        description="where the metrics port listens; keep it local unless a firewall guards it",
    )
    dashboard_port: Port | None = Field(
        None, description="serve the dashboard from the daemon on this port (none: off)"
    )
    dashboard_host: str = Field(
        "127.0.0.1",
        description="where the dashboard listens (put a reverse proxy with `DASHBOARD_TOKEN` in "
        "front to expose it)",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="the log level (`NIGHTLY_BATCH_LOG_LEVEL` overrides it)"
    )

    def repeat_minutes(self, severity: str) -> float:
        """Minutes between reminders of a firing alert of `severity` (0: never remind)."""
        chosen = {str(name): minutes for name, minutes in self.alert_repeat_minutes.items()}
        return float(chosen.get(severity, DEFAULT_REPEATS[severity]))

    @property
    def delivery_channels(self) -> list[str]:
        """Every channel a digest may go to: the listed ones, then the fallback (each once)."""
        fallback = [self.digest_fallback_channel] if self.digest_fallback_channel else []
        return list(dict.fromkeys([*self.digest_notification_channel, *fallback]))

    def max_runtime(self, task: str) -> float:
        """Minutes a run of `task` may take before it is reported as hung."""
        spec = spec_of(task)
        default = spec.max_runtime_minutes if spec is not None else 60.0
        return float(self.max_runtime_minutes.get(task, default))

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
        return self.model_dump(mode="json", by_alias=True)


# The keys the file may hold; configPath is load_config's, not the operator's.
KNOWN_KEYS = frozenset(
    field.alias or name for name, field in Config.model_fields.items() if not field.exclude
)
