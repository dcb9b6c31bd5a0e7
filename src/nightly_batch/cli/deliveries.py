"""`deliveries confirm|resend DATE --channel C` and `run-once send-digest --force`: what the
operator does with a delivery only they can judge (an ambiguous one), or wants again."""

from __future__ import annotations

import argparse
from datetime import date, datetime
from pathlib import Path

from nightly_batch.core.clock import iso_utc
from nightly_batch.core.names import RecordStatus
from nightly_batch.errors import ConfigError
from nightly_batch.settings.config import Config
from nightly_batch.settings.environment import Environment
from nightly_batch.storage.delivery_state import ChannelState, delivery_of
from nightly_batch.storage.digests import find_digest, read_digest_head
from nightly_batch.storage.opening import open_existing_store
from nightly_batch.storage.state import SharedStateStore
from nightly_batch.tasks.result import Resend, RunInfo


def parse_date(text: str, what: str = "DATE") -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{what} '{text}' is not a date of the form YYYY-MM-DD.") from None


def require_digest(config: Config, day: date) -> Path:
    """The digest of `day`; a date with none is the caller's mistake (exit 2), said before
    any task runs, so it never counts as a failed send or raises an alert."""
    found = find_digest(config.digests, day)
    if found is None:
        raise ConfigError(f"there is no digest of {day.isoformat()} in {config.digests}.")
    return found.path


def run_info(arguments: argparse.Namespace) -> RunInfo:
    """run-once's RunInfo: a deliberate resend with --force (send-digest only)."""
    force, channel, day = arguments.force, arguments.channel, arguments.date
    if not force:
        if channel or day:
            raise ConfigError("--channel and --date go with --force (a deliberate resend).")
        return RunInfo("manual")
    if arguments.task != "send-digest":
        raise ConfigError(
            f"--force resends a digest: it goes with send-digest, not {arguments.task}."
        )
    return RunInfo("force", resend=Resend(channel, parse_date(day, "--date") if day else None))


def confirm(
    config: Config, environment: Environment, now: datetime, day_text: str, channel: str
) -> int:
    """Record that an ambiguous delivery arrived, so every reader calls the date delivered."""
    day = parse_date(day_text)
    batch_id = str(read_digest_head(require_digest(config, day))["batchId"])
    store = open_existing_store(config, environment)
    if store is None:
        raise ConfigError(f"nothing was delivered yet: {config.database_path} does not exist.")
    try:
        state = delivery_of(store, day.isoformat(), batch_id, [channel]).channels[channel]
        if state.state != ChannelState.AMBIGUOUS or state.record is None:
            raise ConfigError(
                f"the delivery of {day.isoformat()} to {channel} is {state.state}, not ambiguous: "
                "there is nothing to confirm."
            )
        note = f"confirmed by the operator at {iso_utc(now)}"
        record = state.record
        if not store.resolve_ambiguous(record.batch_id, channel, RecordStatus.SENT, note):
            raise ConfigError(
                f"the delivery of {day.isoformat()} to {channel} changed meanwhile; "
                "run `nightly-batch status` and try again."
            )
    finally:
        store.close()
    _note_delivery(config, record.updated_at)
    print(f"{day.isoformat()} on {channel}: sent ({note})")
    return 0


def require_ambiguous(config: Config, environment: Environment, day: date, channel: str) -> None:
    """`deliveries resend` is for a delivery that may not have arrived; anything else is a
    deliberate resend, `run-once send-digest --force`."""
    batch_id = str(read_digest_head(require_digest(config, day))["batchId"])
    store = open_existing_store(config, environment)
    try:
        state = (
            delivery_of(store, day.isoformat(), batch_id, [channel]).channels[channel].state
            if store
            else ChannelState.NOT_SENT
        )
    finally:
        if store is not None:
            store.close()
    if state != ChannelState.AMBIGUOUS:
        raise ConfigError(
            f"the delivery of {day.isoformat()} to {channel} is {state}, not ambiguous: to send "
            f"it anyway, `nightly-batch run-once send-digest --force --date {day.isoformat()} "
            f"--channel {channel}`."
        )


def _note_delivery(config: Config, sent_at: str) -> None:
    """The state's lastDigestNotificationAt follows a confirmed delivery, as it follows a send."""
    state_store = SharedStateStore(config.state_file)
    with state_store.transaction() as transaction:
        state = transaction.read_keys("lastDigestNotificationAt")
        if str(state.get("lastDigestNotificationAt") or "") < sent_at:
            transaction.write_keys({"lastDigestNotificationAt": sent_at})
