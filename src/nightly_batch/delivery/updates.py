"""What an update carries: the leads of the newest version a channel has not been shown.

A channel has seen every lead of every version of the date that reached it; those versions
are read back from the digest folder (a re-run keeps the replaced file under archive/).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from nightly_batch.core.clock import parse_iso
from nightly_batch.core.names import RecordStatus
from nightly_batch.errors import DigestError
from nightly_batch.observability.events import get_logger
from nightly_batch.rules.message import MESSAGE_LEADS_MAX, DigestMessage, Lead, build_message
from nightly_batch.runtime.app import App
from nightly_batch.storage.digest_reader import open_digest
from nightly_batch.storage.digests import version_path
from nightly_batch.storage.records import DeliveryRecord

log = get_logger(__name__)


def new_leads(
    app: App,
    message: DigestMessage,
    delivered: Iterable[DeliveryRecord],
    keep: Callable[[dict[str, Any]], bool] | None = None,
) -> tuple[tuple[Lead, ...], int]:
    """The first of the message's leads that no delivered version showed, and how many there
    are (all of them if a version is gone from the folder: better a repeat than a lead never
    announced). With `keep` (a channel's route), only the leads of its slice, in every
    version. Every version is streamed, never held whole."""
    seen: set[str] = set()
    for record in delivered:
        shown = _lead_ids(app, record, keep)
        if shown is None:
            return message.leads, message.total
        seen.update(shown)
    path = version_path(app.config.digests, message.digest_date, message.batch_id)
    if path is None:
        return message.leads, message.total
    try:
        view = open_digest(path)
        first: list[dict[str, object]] = []
        count = 0
        for lead in view.leads(keep=keep):
            if str(lead.get("id", "")) not in seen:
                count += 1
                if len(first) < MESSAGE_LEADS_MAX:
                    first.append(lead)
    except DigestError:
        return message.leads, message.total
    unseen = build_message(
        {**view.head, "redditQueue": first}, message.digest_file, None, now=app.clock.now()
    )
    return unseen.leads, count


def _lead_ids(
    app: App, record: DeliveryRecord, keep: Callable[[dict[str, Any]], bool] | None
) -> set[str] | None:
    """The lead ids of the version `record` delivered (of its slice, with `keep`); None if
    that version cannot be read."""
    path = version_path(app.config.digests, record.digest_date, record.batch_id)
    reason = f"version {record.batch_id} of {record.digest_date} is gone"
    if path is not None:
        try:
            return {str(lead.get("id", "")) for lead in open_digest(path).leads(keep=keep)}
        except DigestError as error:
            reason = str(error)
    log.warning(
        "delivery.update_unknown_seen",
        channel=record.channel,
        batch_id=record.batch_id,
        reason=reason,
    )
    return None


def since_text(app: App, delivered: Iterable[DeliveryRecord]) -> str:
    """When the channel last got a message of this date, as the operator's clock reads it
    ("06:00"); a nothing-new record sent no message, so it does not count."""
    last = max(
        (record.updated_at for record in delivered if record.status == RecordStatus.SENT),
        default=None,
    )
    if last is None:
        return "the last digest"
    return f"{parse_iso(last).astimezone(app.config.zone):%H:%M}"
