"""A digest on disk as a message, read through the streaming reader (storage/digest_reader):
the head and the first leads only, with the count of the rest."""

from __future__ import annotations

from datetime import datetime

from nightly_batch.rules.message import MESSAGE_LEADS_MAX, DigestMessage, build_message
from nightly_batch.storage.digest_reader import DigestView


def message_of(view: DigestView, app_url: str | None, now: datetime) -> DigestMessage:
    """The message every channel renders: at most MESSAGE_LEADS_MAX leads, and the total;
    each lead's age told at `now`, the send time."""
    digest = {**view.head, "redditQueue": list(view.leads(limit=MESSAGE_LEADS_MAX))}
    return build_message(digest, view.path.name, app_url, total=view.total(), now=now)
