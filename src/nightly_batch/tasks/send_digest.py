"""The send-digest task: deliver the newest digest once to each configured channel.

Delivery records (see `delivery`) make re-runs, manual runs and restarts safe: a channel that
already received any digest of the same business date is not sent another one.
"""

from __future__ import annotations

from nightly_batch.core.clock import iso_utc, parse_iso
from nightly_batch.delivery.fanout import fan_out
from nightly_batch.errors import DigestError, TaskError
from nightly_batch.observability.events import get_logger
from nightly_batch.rules.message import build_message
from nightly_batch.runtime.app import App
from nightly_batch.storage.digests import DigestFile, list_digests, read_digest
from nightly_batch.tasks.result import RunInfo, TaskResult

TASK = "send-digest"

log = get_logger(__name__)


def run_send_digest(app: App, _run: RunInfo) -> TaskResult:
    """Deliver the newest digest not older than `digestMaxAgeHours` to every channel that lacks it."""
    config = app.config
    now = app.clock.now()
    found = list_digests(config.digests)
    if not found:
        return TaskResult(f"nothing to send: no digest in {config.digests}")
    newest: DigestFile = found[0]
    digest = read_digest(newest.path)
    try:
        generated = parse_iso(digest["generatedAt"])
    except ValueError:
        raise DigestError(
            f"{newest.path}: generatedAt {digest['generatedAt']!r} is not an ISO-8601 time."
        ) from None
    age_hours = (now - generated).total_seconds() / 3600
    if age_hours > config.digest_max_age_hours:
        return TaskResult(
            f"nothing to send: the newest digest {newest.path.name} is {age_hours:.1f} h old, "
            f"older than digestMaxAgeHours ({config.digest_max_age_hours:g})"
        )
    message = build_message(digest, newest.path.name, app.environment.get("APP_URL"))
    if not message.leads and not config.send_empty_digest:
        log.warning("digest.empty", digest=newest.path.name, reason="sendEmptyDigest is false")
        return TaskResult(f"not sent: {newest.path.name} holds no leads (sendEmptyDigest is false)")
    outcome = fan_out(
        app, message, list(config.digest_notification_channel), config.digest_fallback_channel
    )
    details = {
        "digest": newest.path.name,
        "batchId": message.batch_id,
        "sent": outcome.sent,
        "failed": outcome.failed,
        "alreadySent": outcome.skipped,
    }
    failures = "; ".join(f"{name}: {reason}" for name, reason in outcome.failed.items())
    if outcome.failed and not outcome.sent and not outcome.skipped:
        raise TaskError(f"every channel failed ({failures})")
    if not outcome.sent:
        text = f"{newest.path.name} was already delivered to {', '.join(outcome.skipped)}"
        return TaskResult(text + (f"; failed on {failures}" if failures else ""), details)
    text = f"digest notification sent ({len(message.leads)} leads) to {', '.join(outcome.sent)}"
    if outcome.notes:
        text += "; " + "; ".join(f"{name}: {note}" for name, note in outcome.notes.items())
    if outcome.failed:
        text += f"; failed on {failures}"
    return TaskResult(
        text, details, state_updates={"lastDigestNotificationAt": iso_utc(app.clock.now())}
    )
