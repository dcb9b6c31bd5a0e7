"""Digests between two hosts: the batch's host keeps a copy of each digest in the PostgreSQL
store, and the leader brings into its own digest folder the ones it lacks, before it sends or
re-delivers; every reader then reads files as on one host.

On one host (SQLite) both are no-ops.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path

from nightly_batch.errors import DigestError, StoreError
from nightly_batch.observability.events import get_logger
from nightly_batch.storage.digests import read_digest_head, write_digest
from nightly_batch.storage.port import RuntimeStore
from nightly_batch.storage.records import SharedDigest

log = get_logger(__name__)


def share_digest(
    store: RuntimeStore, path: Path, head: Mapping[str, object], now: str, keep_after: str
) -> None:
    """Keep the digest just written for the other host; a store that fails says so and the
    batch goes on (the digest is on this host, and the next batch shares its own)."""
    if not store.shared_by_hosts:
        return
    try:
        store.share_digest(path, str(head["batchId"]), str(head["digestDate"]), now, keep_after)
    except (StoreError, OSError) as error:
        log.warning("digest.not_shared", digest=path.name, error=str(error))
        return
    log.info("digest.shared", digest=path.name, batch_id=head["batchId"])


def bring_digests_here(store: RuntimeStore, directory: Path, since_date: str) -> list[Path]:
    """Write into `directory` each kept digest (its newest version per date) that this host
    lacks or holds an older version of; returns what was written."""
    if not store.shared_by_hosts:
        return []
    newest: dict[str, SharedDigest] = {}
    for shared in store.shared_digests(since_date):
        newest[shared.file] = shared  # ordered by date, then when stored: the last wins
    brought = []
    for shared in newest.values():
        local = directory / shared.file
        if _holds(local, shared):
            continue
        path, kept = write_digest(
            directory,
            date.fromisoformat(shared.digest_date),
            store.digest_bytes(shared.batch_id),
            sweep=False,  # this host's own batch may be writing a digest now
        )
        log.info("digest.brought", digest=path.name, batch_id=shared.batch_id, kept=str(kept))
        brought.append(path)
    return brought


def _holds(local: Path, shared: SharedDigest) -> bool:
    """This host has that version, or a newer one of the same date (generated after the
    kept one was stored: a batch whose copy could not be kept)."""
    if not local.exists():
        return False
    try:
        head = read_digest_head(local)
    except DigestError:
        return False
    return (
        head.get("batchId") == shared.batch_id
        or str(head.get("generatedAt", "")) > shared.stored_at
    )
