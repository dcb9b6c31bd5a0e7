"""`digests list` and `digests show DATE`."""

from __future__ import annotations

import shutil
import sys
from datetime import date, datetime

from nightly_batch.errors import ConfigError, DigestError
from nightly_batch.rules import escape
from nightly_batch.rules.digest_layout import listed_total
from nightly_batch.rules.message import build_message, lead_of
from nightly_batch.rules.message_lines import also_in_text, note_lines
from nightly_batch.settings.config import Config
from nightly_batch.settings.environment import Environment
from nightly_batch.storage.delivery_state import delivery_of
from nightly_batch.storage.digest_reader import open_digest
from nightly_batch.storage.digests import find_digest, list_digests, read_digest_head
from nightly_batch.storage.opening import open_existing_store


def list_command(config: Config, environment: Environment) -> int:
    """One line per digest, newest first, with its delivery as status reads it."""
    found = list_digests(config.digests)
    if not found:
        print(f"no digests in {config.digests}")
        return 0
    channels = config.delivery_channels
    store = open_existing_store(config, environment)
    try:
        print(
            f"{'date':<11} {'leads':>6} {'new':>5} {'queue':>8}  {'generated (UTC)':<25} "
            f"{'delivery':<12} file"
        )
        for entry in found:
            try:
                digest = read_digest_head(entry.path)
            except DigestError as error:
                print(f"{entry.day.isoformat():<11} unreadable: {error}")
                continue
            summary = digest["summary"]
            day = entry.day.isoformat()
            delivery = (
                delivery_of(store, day, str(digest["batchId"]), channels).state
                if store
                else "not sent"
            )
            print(
                f"{day:<11} {listed_total(summary):>6} "
                f"{summary.get('markedForDraft', 0):>5} {summary.get('queueTotal', 0):>8}  "
                f"{digest['generatedAt']:<25} {delivery:<12} {entry.path.name}"
            )
    finally:
        if store is not None:
            store.close()
    return 0


def show_command(
    config: Config,
    day_text: str,
    now: datetime,
    *,
    as_json: bool,
    limit: int = 100,
    offset: int = 0,
) -> int:
    """The digest of one business date: a readable summary and `limit` of its leads from the
    `offset`-th (each with its age at `now` and where else it was asked), or the file itself
    with --json. Only the leads shown are read."""
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        raise ConfigError(f"DATE '{day_text}' is not a date of the form YYYY-MM-DD.") from None
    entry = find_digest(config.digests, day)
    if entry is None:  # a wrong date is the caller's mistake (exit 2), not a failed task
        raise ConfigError(f"there is no digest of {day.isoformat()} in {config.digests}.")
    if as_json:
        with entry.path.open("rb") as digest_file:  # copied through, never held whole
            shutil.copyfileobj(digest_file, sys.stdout.buffer)
        sys.stdout.buffer.write(b"\n")
        return 0
    view = open_digest(entry.path)
    total = view.total()
    message = build_message({**view.head, "redditQueue": []}, entry.path.name, None, total=total)
    head = view.head
    threshold = head["summary"].get("threshold")
    decides = float(threshold) if isinstance(threshold, int | float) else None
    print(escape.terminal(message.title))
    print(escape.terminal(message.summary))
    print(
        escape.terminal(
            f"batch {head['batchId']}, generated {head['generatedAt']}, file {entry.path}"
        )
    )
    shown = [lead_of(item, decides, now) for item in view.leads(offset=offset, limit=limit)]
    for rank, lead in enumerate(shown, start=offset + 1):
        confidence = lead.confidence_text or "?"
        where = f"r/{lead.subreddit}" if lead.subreddit else ""
        facts = "".join(f" · {fact}" for fact in (lead.age, also_in_text(lead, str)) if fact)
        said = f"{lead.title} {where}".rstrip()
        print(
            escape.terminal(f"{rank:>4}. [{confidence}] {said}{facts} {lead.link or ''}".rstrip())
        )
    listed = offset + len(shown)
    if len(shown) < limit and total > listed:
        # The file ended before the count its summary gives: edited by hand, or cut short.
        counted = f"{listed:,}" if shown or not offset else f"fewer than {offset + 1:,}"
        print(f"      the summary counts {total:,} leads, but the file lists {counted}")
    elif limit and total > listed:
        print(f"      +{total - listed:,} more: --offset {listed} shows the next")
    elif limit and offset and not shown:
        print(f"      no lead from --offset {offset}: the digest lists {total:,}")
    notes = note_lines(message, str, lambda link, label: f"{label} {link or ''}".rstrip())
    for line in [*notes, message.left_out or ""]:
        if line:
            print(escape.terminal(line))
    return 0
