"""When this installation first did anything: the line before which nothing is owed.

Catch-up replays no slot from before it, and `digest_missing` expects no digest for one.
Kept as a fact once known, so pruning old runs cannot move it.
"""

from __future__ import annotations

from datetime import datetime

from nightly_batch.core.clock import iso_utc, parse_iso
from nightly_batch.storage.port import RuntimeStore

INSTALLED_FACT = "installedAt"


def installed_at(store: RuntimeStore) -> datetime | None:
    """The install's first moment (None: nothing has run yet, a fresh install)."""
    known = store.fact(INSTALLED_FACT) or store.first_activity()
    return parse_iso(known) if known else None


def remember_install(store: RuntimeStore, now: datetime) -> None:
    """Keep the install's first moment for good (the daemon's start calls it)."""
    if store.fact(INSTALLED_FACT) is None:
        store.set_fact(INSTALLED_FACT, store.first_activity() or iso_utc(now), iso_utc(now))
