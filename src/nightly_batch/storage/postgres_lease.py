"""One leader among the daemons that share a PostgreSQL store: a lease row, renewed on a schedule.

The database decides: the lease's expiry is its `now()` plus LEASE_SECONDS, so no host's clock
counts. Every takeover adds one to the epoch. The leader trusts its lease only until
LEASE_SECONDS - SAFETY_SECONDS after it *sent* its last successful renewal, by its own
monotonic clock: a leader paused (SIGSTOP, a VM migration) or cut off stops starting work
before any standby can take over. And every decisive write checks the holder and the epoch in
its own transaction (Fence), so a leader that missed its loss still cannot write.

The times (docs/HIGH_AVAILABILITY.md): a standby tries every RENEW_SECONDS, so after the
leader's death it takes over within LEASE_SECONDS + RENEW_SECONDS (40 s), plus a connection
attempt that the connect timeout bounds (5 s): well inside the 90 s promised. A renewal may
fail (a slow statement, a brief partition) and the next one still keeps the lease.
"""

from __future__ import annotations

import contextlib
import math
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nightly_batch.errors import FencedError, StoreError
from nightly_batch.storage.sql_database import Execute, placeholders_for_psycopg

# The defaults (leaderLeaseSeconds sets the length; the other two are a third of it each).
LEASE_SECONDS = 30.0
RENEW_SECONDS = LEASE_SECONDS / 3
SAFETY_SECONDS = LEASE_SECONDS / 3
LEASE_NAME = "leader"

# Renew our own unexpired lease (same epoch), or take over an expired one (epoch + 1). Of two
# standbys racing for an expired lease, the second waits on the row lock, then finds it
# unexpired and held by another: no row, no lease.
_ACQUIRE = """
INSERT INTO leader_lease AS lease
    (name, holder, instance, epoch, acquired_at, renewed_at, expires_at)
VALUES (%(name)s, %(holder)s, %(instance)s, 1, now(), now(),
    now() + make_interval(secs => %(seconds)s))
ON CONFLICT (name) DO UPDATE SET
    holder = excluded.holder,
    instance = excluded.instance,
    epoch = CASE WHEN lease.instance = excluded.instance AND lease.expires_at > now()
        THEN lease.epoch ELSE lease.epoch + 1 END,
    acquired_at = CASE WHEN lease.instance = excluded.instance AND lease.expires_at > now()
        THEN lease.acquired_at ELSE now() END,
    renewed_at = now(),
    expires_at = excluded.expires_at
WHERE lease.expires_at <= now() OR lease.instance = excluded.instance
RETURNING epoch
"""

_SEEN = (
    "INSERT INTO cluster_nodes (node, instance, seen_at) VALUES (%s, %s, now()) "
    "ON CONFLICT (node) DO UPDATE SET instance = excluded.instance, seen_at = now()"
)
_NODE_AGE = "SELECT EXTRACT(EPOCH FROM now() - seen_at)::float8 FROM cluster_nodes WHERE node = %s"

_RESIGN = "UPDATE leader_lease SET expires_at = now() WHERE name = %s AND instance = %s"

# `?`: also run through the store's pool (Database placeholders), by `status`.
VIEW = """
SELECT holder, instance, epoch,
    EXTRACT(EPOCH FROM now() - renewed_at)::float8 AS age_s,
    EXTRACT(EPOCH FROM expires_at - now())::float8 AS expires_in_s
FROM leader_lease WHERE name = ?
"""


@dataclass(frozen=True, slots=True)
class LeaseView:
    """The lease as the database holds it now."""

    holder: str
    instance: str
    epoch: int
    age_s: float  # since its last renewal
    expires_in_s: float  # negative once expired


@dataclass(frozen=True, slots=True)
class Fence:
    """The lease this daemon leads under, checked inside each decisive write's transaction.

    FOR SHARE: a takeover's update of the lease row waits until the write commits, and a
    takeover already committed makes the check fail, so no write lands under a lost lease.
    """

    instance: str
    epoch: int | None  # None: a standby, which decides nothing

    def check(self, execute: Execute) -> None:
        if self.epoch is None:
            raise FencedError(
                "this daemon is a standby: only the leader writes; nothing was written."
            )
        rows = execute(
            "SELECT 1 AS held FROM leader_lease WHERE name = ? AND instance = ? AND epoch = ? "
            "AND expires_at > now() FOR SHARE",
            (LEASE_NAME, self.instance, self.epoch),
        ).rows
        if not rows:
            raise FencedError(
                f"this daemon's leader lease (epoch {self.epoch}) is lost or expired; "
                "nothing was written."
            )


class LeaderLease:
    """This daemon's side of the lease, on a connection of its own (apart from the pool), so
    renewals never queue behind the jobs' statements."""

    def __init__(
        self,
        conninfo: str,
        node: str,
        monotonic: Callable[[], float],
        *,
        lease_seconds: float = LEASE_SECONDS,
        on_change: Callable[[LeaderLease], None] | None = None,
        instance: str | None = None,
    ) -> None:
        import psycopg  # noqa: PLC0415  (only a two-host install loads it)

        self._psycopg = psycopg
        self.conninfo = conninfo
        self.node = node
        self.instance = instance or f"{node}/{uuid.uuid4().hex[:12]}"
        self.monotonic = monotonic
        self.lease_seconds = lease_seconds
        self.renew_seconds = lease_seconds / 3
        self.safety_seconds = lease_seconds / 3
        # A statement unanswered this long is given up on, so that an attempt (two statements
        # at most) ends before the next one is due.
        self.answer_seconds = self.renew_seconds / 3
        self.reachable = True  # whether the last attempt reached the database
        self.epoch: int | None = None  # the epoch we lead under; None as a standby
        self.trusted_until = -math.inf  # monotonic: start no work after this
        self._connection: Any = None
        # Told when this daemon starts leading: the store then fences its decisive writes.
        # (A lost lease leaves the old fence in place, so every later write fails.)
        self.on_change = on_change
        if on_change is not None:
            on_change(self)  # a standby until the first attempt says otherwise

    def attempt(self) -> bool:
        """Renew (as leader) or try to take over (as standby). True when this daemon leads.

        Raises FencedError when the lease we led under was taken, or lapsed and was taken
        anew: a job of ours may have outlived it, so the daemon must exit. A database that
        cannot be reached changes nothing here: the trust runs out by itself.
        """
        sent = self.monotonic()
        try:
            row = self._execute(
                _ACQUIRE,
                {
                    "name": LEASE_NAME,
                    "holder": self.node,
                    "instance": self.instance,
                    "seconds": self.lease_seconds,
                },
            )
            self._execute(_SEEN, (self.node, self.instance), returns=False)
        except StoreError:
            self.reachable = False
            return False
        self.reachable = True
        led = self.epoch
        if row is None or (led is not None and int(row[0]) != led):
            self.epoch, self.trusted_until = None, -math.inf
            if row is not None:
                # Our own lease had lapsed and this attempt took it anew: we are leaving, so
                # it is given back at once rather than left to expire with nobody leading.
                with contextlib.suppress(StoreError):
                    self._execute(_RESIGN, (LEASE_NAME, self.instance), returns=False)
            if led is not None:
                raise FencedError(
                    f"the leader lease of epoch {led} was taken over (or lapsed) while "
                    "this daemon led; it stops its jobs and exits."
                )
            return False
        self.trusted_until = sent + self.lease_seconds - self.safety_seconds
        if led is None:
            self.epoch = int(row[0])
            if self.on_change is not None:
                self.on_change(self)
        return True

    def trusted(self) -> bool:
        """Whether this daemon may start work now: it leads, and its last renewal is recent
        enough by its own clock that no standby can have taken over."""
        return self.epoch is not None and self.monotonic() < self.trusted_until

    def fence(self) -> Fence:
        return Fence(self.instance, self.epoch)

    def view(self) -> LeaseView | None:
        """The lease as the database sees it (None: nobody ever led, or unreachable)."""
        try:
            found = self._execute(placeholders_for_psycopg(VIEW), (LEASE_NAME,))
        except StoreError:
            return None
        if found is None:
            return None
        holder, instance, epoch, age, expires_in = found
        return LeaseView(holder, instance, int(epoch), float(age), float(expires_in))

    def node_age(self, node: str) -> float | None:
        """Seconds since `node`'s daemon last reached the database (None: never, or the
        database cannot be asked)."""
        try:
            found = self._execute(_NODE_AGE, (node,))
        except StoreError:
            return None
        return float(found[0]) if found else None

    def resign(self) -> None:
        """Give the lease up at a clean stop, so a standby takes over at its next try."""
        if self.epoch is None:
            return
        with contextlib.suppress(StoreError):  # it expires by itself
            self._execute(_RESIGN, (LEASE_NAME, self.instance), returns=False)
        self.epoch, self.trusted_until = None, -math.inf

    def close(self) -> None:
        self._drop()

    def _execute(self, sql: str, parameters: Any, *, returns: bool = True) -> Any:
        """One statement on the lease's connection, answered within a renewal interval.

        A silent partition leaves a statement unanswered for as long as the kernel's
        timeouts allow; the attempt is then given up on here, and its connection with it
        (closing one that is in use could block too), so the next attempt starts afresh.
        """
        outcome: list[Any] = []

        def run() -> None:
            for fresh in (False, True):
                reused = self._connection is not None and not fresh
                try:
                    if fresh:
                        self._drop()
                    cursor = self._connect().execute(sql, parameters)
                    outcome.append(cursor.fetchone() if returns else None)
                except (self._psycopg.Error, StoreError) as error:
                    if reused:
                        continue  # a connection the server ended (a restart): once more, anew
                    outcome.append(error)
                return

        worker = threading.Thread(target=run, name="lease-statement", daemon=True)
        worker.start()
        worker.join(self.answer_seconds)
        if not outcome:
            self._connection = None
            raise StoreError(f"the leader lease got no answer within {self.answer_seconds:g} s.")
        if isinstance(outcome[0], Exception):
            self._drop()
            raise StoreError(f"the leader lease cannot be renewed ({outcome[0]}).") from None
        return outcome[0]

    def _connect(self) -> Any:
        if self._connection is None or self._connection.closed:
            try:
                self._connection = self._psycopg.connect(self.conninfo, autocommit=True)
            except self._psycopg.Error as error:
                raise StoreError(f"the leader lease's connection failed ({error}).") from None
        return self._connection

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(self._psycopg.Error):
                connection.close()
