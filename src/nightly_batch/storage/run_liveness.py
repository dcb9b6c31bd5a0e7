"""Whether a run recorded as running is still going.

On one host: its process lives. On two hosts, a pid of the other machine means nothing here:
a run is alive while the daemon that recorded it (its node and start, `instance`) is still
seen in the database, and a run of this host is judged by its pid as on one host.
"""

from __future__ import annotations

from nightly_batch.core.processes import process_alive
from nightly_batch.storage.port import RuntimeStore
from nightly_batch.storage.records import RunRecord


class RunLiveness:
    """One look at the store, then any number of runs judged against it."""

    def __init__(self, store: RuntimeStore, node: str | None, lease_seconds: float) -> None:
        self.node = node
        # Three leases unseen: the daemon is gone (the leader watches batchNode the same way).
        self.live = store.live_processes(3 * lease_seconds) if store.shared_by_hosts else None

    def alive(self, run: RunRecord) -> bool:
        if self.live is None or run.instance is None or run.node == self.node:
            return process_alive(run.pid)
        return run.instance in self.live
