"""`alerts [--since 24h] [--json]`, `alerts silence ...`, `alerts unsilence ID`."""

from __future__ import annotations

import re
import sys
import uuid
from dataclasses import asdict
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any

from nightly_batch.core.clock import iso_utc
from nightly_batch.core.jsonio import to_text
from nightly_batch.core.names import AlertName, TaskName
from nightly_batch.delivery.factory import ALERT_CHANNEL_NAMES
from nightly_batch.errors import ConfigError
from nightly_batch.settings.config import Config
from nightly_batch.settings.environment import Environment
from nightly_batch.storage.opening import open_existing_store, open_store
from nightly_batch.storage.records import SilenceRecord

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
LONGEST_SILENCE = timedelta(days=30)
NO_TASK = "-"  # the task of an alert about the host, not a task (alerts/checks)
# Beyond this, `now - duration` would leave the calendar: a hundred years is "all of it".
LONGEST_DURATION = timedelta(days=36_500)


def parse_duration(text: str, option: str) -> timedelta:
    match = _DURATION.match(text.strip())
    if not match:
        raise ConfigError(f"{option} '{text}' is not a duration like 30m, 2h or 1d.")
    try:
        length = timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})
    except OverflowError:
        length = LONGEST_DURATION * 2
    if length > LONGEST_DURATION:
        raise ConfigError(f"{option} '{text}' is longer than a hundred years (36500d).")
    return length


def list_alerts(
    config: Config, environment: Environment, now: datetime, since: str, *, as_json: bool
) -> int:
    window = parse_duration(since, "--since")
    store = open_existing_store(config, environment)
    alerts: list[Any] = []
    notifications: list[Any] = []
    silences: list[Any] = []
    if store is not None:
        try:
            cutoff = iso_utc(now - window)
            alerts = store.alerts.all(since=cutoff)
            notifications = store.alerts.notifications(since=cutoff)
            silences = store.alerts.silences(iso_utc(now))
        finally:
            store.close()
    if as_json:
        payload = {
            "alerts": [asdict(alert) for alert in alerts],
            "notifications": [asdict(record) for record in notifications],
            "silences": [asdict(silence) for silence in silences],
        }
        sys.stdout.write(to_text(payload, indent=True) + "\n")
        return 0
    if not alerts:
        print(f"no alerts in the last {since}")
    for alert in alerts:
        sent = [n for n in notifications if n.fingerprint == alert.fingerprint]
        delivered = ", ".join(
            f"{n.kind} {n.status}{' via ' + n.channel if n.channel else ''}" for n in sent
        )
        print(
            f"{alert.state:<9} {alert.severity:<9} {alert.name} ({alert.task}) since {alert.started_at}"
        )
        print(f"          {alert.summary}")
        if delivered:
            print(f"          notifications: {delivered}")
    for silence in silences:
        until = f"until {silence.expires_at}: {silence.reason}"
        print(f"silence {silence.id}: {silence.name} ({silence.task}) {until}")
    return 0


def silence(
    config: Config,
    environment: Environment,
    now: datetime,
    *,
    name: str,
    task: str,
    duration: str,
    reason: str,
) -> int:
    length = parse_duration(duration, "--for")
    if not timedelta(0) < length <= LONGEST_SILENCE:
        raise ConfigError(
            f"--for '{duration}' must be longer than nothing and at most 30 days "
            "(a longer silence would outlive the reason for it)."
        )
    if not any(fnmatchcase(known, name) for known in AlertName):
        raise ConfigError(
            f"--name '{name}' matches no alert; the alerts are {', '.join(AlertName)} "
            "(* and ? match any text)."
        )
    subjects = [*TaskName, *ALERT_CHANNEL_NAMES, NO_TASK]
    if not any(fnmatchcase(known, task) for known in subjects):
        raise ConfigError(
            f"--task '{task}' matches no task; the tasks are {', '.join(TaskName)}, an alert "
            f"channel's name ({', '.join(ALERT_CHANNEL_NAMES)}: alert_channel_failed), and "
            f"{NO_TASK} for the alerts of none (low_disk, clock_jump; * and ? match any text)."
        )
    store = open_store(config, environment)
    try:
        record = SilenceRecord(
            id=uuid.uuid4().hex[:8],
            name=name,
            task=task,
            reason=reason,
            created_at=iso_utc(now),
            expires_at=iso_utc(now + length),
        )
        store.alerts.add_silence(record)
    finally:
        store.close()
    print(f"silence {record.id}: {name} ({task}) until {record.expires_at}")
    return 0


def unsilence(config: Config, environment: Environment, ident: str) -> int:
    store = open_existing_store(config, environment)
    try:
        removed = store is not None and store.alerts.remove_silence(ident)
    finally:
        if store is not None:
            store.close()
    if not removed:
        raise ConfigError(f"no silence with id '{ident}' (see `nightly-batch alerts`).")
    print(f"silence {ident} removed")
    return 0
