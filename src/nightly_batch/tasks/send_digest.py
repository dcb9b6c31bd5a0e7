"""The send-digest task: deliver the newest digest once to each configured channel.

What each channel gets follows from the date's delivery (storage/delivery_state.py): nothing
if it has this version or may have it (ambiguous), an update with only the new leads if it had
an earlier version of the date, the digest otherwise. `--force` resends deliberately.
"""

from __future__ import annotations

from datetime import timedelta

from nightly_batch.core.clock import parse_iso
from nightly_batch.delivery.digest_messages import ChannelMessages
from nightly_batch.delivery.fanout import FanOut, fan_out
from nightly_batch.errors import ConfigError, DigestError, TaskError
from nightly_batch.observability.events import get_logger
from nightly_batch.runtime.app import App
from nightly_batch.storage.delivery_state import delivery_of, settle_hint
from nightly_batch.storage.digest_reader import DigestView, open_digest
from nightly_batch.storage.digest_sharing import bring_digests_here
from nightly_batch.storage.digests import DigestFile, find_digest, list_digests
from nightly_batch.tasks.result import Resend, RunInfo, TaskResult

TASK = "send-digest"

log = get_logger(__name__)


def run_send_digest(app: App, run: RunInfo) -> TaskResult:
    """Deliver the newest digest not older than `digestMaxAgeHours` to every channel that lacks it."""
    config = app.config
    # Two hosts: the batch may have run on the other one (storage/digest_sharing).
    bring_digests_here(app.store, config.digests, _oldest_date(app))
    chosen = _chosen_digest(app, run.resend)
    if isinstance(chosen, str):
        return TaskResult(chosen)
    newest, view = chosen
    messages = ChannelMessages(
        view, app.environment.get("APP_URL"), app.clock.now(), config.digest_routes
    )
    message = messages.whole
    if not message.total and not config.send_empty_digest and run.resend is None:
        log.warning("digest.empty", digest=newest.path.name, reason="sendEmptyDigest is false")
        return TaskResult(f"not sent: {newest.path.name} holds no leads (sendEmptyDigest is false)")
    channels = list(config.digest_notification_channel)
    if run.resend is not None and run.resend.channel is not None:
        channels = [run.resend.channel]
    outcome = fan_out(
        app,
        messages,
        channels,
        None if run.resend else config.digest_fallback_channel,
        force=run.resend is not None,
    )
    _watch_deliveries(app)
    return _result(app, messages, outcome)


def _oldest_date(app: App) -> str:
    """The oldest business date a send or a re-delivery may still need."""
    hours = app.config.digest_max_age_hours + 24
    return (app.clock.now() - timedelta(hours=hours)).date().isoformat()


def _chosen_digest(app: App, resend: Resend | None) -> tuple[DigestFile, DigestView] | str:
    """The digest to send and its content, or why there is none to send."""
    config = app.config
    if resend is not None and resend.day is not None:
        found = find_digest(config.digests, resend.day)
        if found is None:
            raise ConfigError(
                f"there is no digest of {resend.day.isoformat()} in {config.digests}."
            )
        return found, open_digest(found.path)
    listed = list_digests(config.digests)
    if not listed:
        return f"nothing to send: no digest in {config.digests}"
    newest = listed[0]
    view = open_digest(newest.path)
    try:
        generated = parse_iso(str(view.head["generatedAt"]))
    except ValueError:
        raise DigestError(
            f"{newest.path}: generatedAt {view.head['generatedAt']!r} is not an ISO-8601 time."
        ) from None
    age_hours = (app.clock.now() - generated).total_seconds() / 3600
    if age_hours > config.digest_max_age_hours and resend is None:
        return (
            f"nothing to send: the newest digest {newest.path.name} is {age_hours:.1f} h old, "
            f"older than digestMaxAgeHours ({config.digest_max_age_hours:g})"
        )
    return newest, view


def _result(app: App, messages: ChannelMessages, outcome: FanOut) -> TaskResult:
    message = messages.whole
    details = {
        "digest": message.digest_file,
        "batchId": message.batch_id,
        "sent": outcome.sent,
        "failed": outcome.failed,
        "alreadySent": outcome.skipped,
        "ambiguous": outcome.ambiguous,
        "nothingNew": outcome.nothing_new,
    }
    failures = "; ".join(f"{name}: {reason}" for name, reason in outcome.failed.items())
    settled = outcome.sent or outcome.skipped or outcome.nothing_new or outcome.ambiguous
    if outcome.failed and not settled:
        raise TaskError(f"every channel failed ({failures})")
    parts = []
    full = [name for name in outcome.sent if name not in outcome.updates]
    by_count: dict[int, list[str]] = {}
    for name in full:  # a channel with a route (digestRoutes) got its own slice
        by_count.setdefault(messages.of(name).total, []).append(name)
    for count, names in by_count.items():
        leads = f"{count:,} lead" + ("" if count == 1 else "s")
        parts.append(f"digest notification sent ({leads}) to {', '.join(names)}")
    parts += [f"update sent to {name} ({note})" for name, note in outcome.updates.items()]
    if outcome.nothing_new:
        parts.append(f"nothing new for {', '.join(outcome.nothing_new)}")
    if outcome.skipped and not outcome.sent:
        parts.append(f"{message.digest_file} was already delivered to {', '.join(outcome.skipped)}")
    parts += [
        f"{name}: ambiguous, {settle_hint(message.digest_date, name, app.config.config_path)}"
        for name in outcome.ambiguous
    ]
    parts += [f"{name}: {note}" for name, note in outcome.notes.items()]
    if failures:
        parts.append(f"failed on {failures}")
    delivery = delivery_of(app.store, message.digest_date, message.batch_id)
    updates = {}
    if (outcome.sent or outcome.nothing_new) and delivery.delivered_at:
        updates["lastDigestNotificationAt"] = delivery.delivered_at
    return TaskResult("; ".join(parts), details, state_updates=updates)


def _watch_deliveries(app: App) -> None:
    from nightly_batch.alerts.checks import check_deliveries  # noqa: PLC0415

    check_deliveries(app, app.clock.now())
