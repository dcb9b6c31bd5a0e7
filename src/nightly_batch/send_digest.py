"""The send-digest task: deliver the newest digest once to each configured channel.

Each delivery is recorded before and after the attempt, keyed by (batchId, channel), and a
channel that already received any digest of the same business date is not sent another one,
so re-runs, manual runs and restarts never double-send.
"""

from __future__ import annotations

import structlog

from nightly_batch.app import App
from nightly_batch.channels import Channel
from nightly_batch.clock import iso_utc, parse_iso
from nightly_batch.digest import DigestFile, list_digests, read_digest
from nightly_batch.errors import DigestError, TaskError
from nightly_batch.message import DigestMessage, build_message
from nightly_batch.task_result import RunInfo, TaskResult

TASK = "send-digest"

log = structlog.get_logger(__name__)


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
    sent: list[str] = []
    failed: list[str] = []
    skipped: list[str] = []
    for name in config.digest_notification_channel:
        if _already_sent(app, message.batch_id, message.digest_date, name):
            skipped.append(name)
            continue
        delivered, error = _deliver(app, app.channel(name), message, newest)
        (sent if delivered else failed).append(f"{name}: {error}" if error else name)
    details = {
        "digest": newest.path.name,
        "batchId": message.batch_id,
        "sent": sent,
        "failed": failed,
        "alreadySent": skipped,
    }
    if failed and not sent:
        raise TaskError(f"send-digest failed: every channel failed ({'; '.join(failed)})")
    if not sent:
        return TaskResult(
            f"{newest.path.name} was already delivered to {', '.join(skipped)}", details
        )
    text = f"digest notification sent ({len(message.leads)} leads) to {', '.join(sent)}"
    if failed:
        text += f"; failed on {'; '.join(failed)}"
    return TaskResult(
        text, details, state_updates={"lastDigestNotificationAt": iso_utc(app.clock.now())}
    )


def _already_sent(app: App, batch_id: str, digest_date: str, channel: str) -> bool:
    record = app.store.delivery(batch_id, channel)
    if record is not None and record.status == "sent":
        log.info("delivery.skipped", channel=channel, batch_id=batch_id, reason="already sent")
        return True
    earlier = app.store.sent_for_date(digest_date, channel)
    if earlier is not None:
        log.info(
            "delivery.skipped",
            channel=channel,
            batch_id=batch_id,
            reason=f"digest of {digest_date} already sent as batch {earlier.batch_id}",
        )
        return True
    return False


def _deliver(
    app: App, channel: Channel, message: DigestMessage, digest: DigestFile
) -> tuple[bool, str | None]:
    record = app.store.begin_delivery(
        message.batch_id,
        channel.name,
        message.digest_date,
        digest.path.name,
        iso_utc(app.clock.now()),
    )
    result = channel.send(message)
    error = app.redactor.text(result.error) if result.error else None
    status = (
        "sent" if result.delivered else ("ambiguous" if result.status == "ambiguous" else "failed")
    )
    app.store.finish_delivery(
        message.batch_id,
        channel.name,
        status=status,
        provider_id=result.provider_id,
        error=error,
        now=iso_utc(app.clock.now()),
    )
    log.info(
        "delivery.finished",
        channel=channel.name,
        batch_id=message.batch_id,
        status=status,
        attempt=record.attempts,
        error=error,
    )
    return result.delivered, error
