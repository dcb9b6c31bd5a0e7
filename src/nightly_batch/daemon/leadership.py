"""Whether this daemon may start scheduled work: on one host, always; on two hosts sharing a
PostgreSQL store, only while it holds the leader lease (storage/postgres_lease).

A thread renews the lease (or, on a standby, tries to take it over) every third of its length.
Gaining it, the daemon catches up on what is owed. Losing it while leading (fenced) stops
the daemon with EXIT_FENCED, so that systemd restarts it as a standby: a job that outlived
its lease cannot write anything decisive (the store's fence), but it must not go on either.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from nightly_batch.core.names import TaskName
from nightly_batch.errors import FencedError
from nightly_batch.observability.events import get_logger
from nightly_batch.runtime.app import App

if TYPE_CHECKING:
    from nightly_batch.storage.postgres_lease import LeaderLease

EXIT_FENCED = 3

log = get_logger(__name__)


class Leadership:
    """This daemon's role: `single` (one host), `leader` or `standby`."""

    def __init__(self, app: App, on_lead: Callable[[str], None]) -> None:
        self.app = app
        self.node = app.environment.node
        # The host with the state file (batchNode) runs the batch, leading or not.
        self.batch_node = app.config.batch_node
        self.lease = app.store.leader_lease(
            self.node,
            app.clock.monotonic,
            app.config.leader_lease_seconds,
            batch_host=self.batch_node == self.node,
        )
        self.on_lead = on_lead
        self.fenced = False
        self._thread: threading.Thread | None = None
        self._said_unreachable = False
        self._said_standby = False
        self._starting = False
        self._leading_since = 0.0  # monotonic
        self._failures = 0  # attempts in a row that did not reach the database

    def may_start(self) -> bool:
        """Whether a job may start now (a standby, a fenced or an unsure leader: no)."""
        return self.lease is None or (not self.fenced and self.lease.trusted())

    def may_run(self, task: str) -> bool:
        """Whether `task`'s slot may start here now: the batch on the batch's host (while it
        reaches the database) when batchNode names one; everything else on the leader."""
        if self.lease is None or self.batch_node is None or task != TaskName.NIGHTLY_BATCH:
            return self.may_start()
        return self.batch_node == self.node and not self.fenced and self.lease.reachable

    @property
    def role(self) -> str:
        if self.lease is None:
            return "single"
        return "leader" if self.may_start() else "standby"

    def start(self) -> None:
        """The first attempt now (a lone daemon leads at once), then a thread for the rest."""
        if self.lease is None:
            return
        self._starting = True  # the daemon's own start catches up next
        self.beat()
        self._starting = False
        self._thread = threading.Thread(target=self._renew, name="leader-lease", daemon=True)
        self._thread.start()

    def beat(self) -> None:
        """One renewal or takeover attempt, and what it means for the daemon."""
        lease = self.lease
        if lease is None or self.fenced:
            return
        was_leading = lease.epoch is not None
        reason = None
        try:
            leads = lease.attempt()
        except FencedError as error:
            reason = str(error)
        if reason is not None:
            self.fenced = True
            log.error("cluster.fenced", node=self.node, error=reason, action="exiting")
            self.app.stop.set()
            return
        back = self._said_unreachable
        if not self._reachability(lease.reachable):
            return
        if leads and not was_leading:
            self._leading_since = self.app.clock.monotonic()
            log.warning("cluster.leading", node=self.node, epoch=lease.epoch)
            self._said_standby = False
        elif not leads and not self._said_standby:
            view = lease.view()
            log.info("cluster.standby", node=self.node, leader=view.holder if view else None)
            self._said_standby = True
        if leads and self.batch_node not in (None, self.node):
            self._watch_batch_host(lease)
        if leads and (back or not was_leading) and not self._starting:
            self.on_lead("leadership")  # what is owed, caught up now

    def _reachability(self, reachable: bool) -> bool:
        """Say once when the store becomes unreachable (two attempts in a row failed: one
        alone, a blip, is no news), and once when it is back; returns whether it is
        reachable."""
        if not reachable:
            self._failures += 1
            if not self._said_unreachable and self._failures >= 2:
                log.error("cluster.store_unreachable", node=self.node, action="starting no job")
                self._tell(
                    f"nightly-batch on {self.node}: the PostgreSQL store is unreachable; no job "
                    "starts on any host until it is back."
                )
                self._said_unreachable = True
            return False
        self._failures = 0
        if self._said_unreachable:
            log.info("cluster.store_reachable", node=self.node)
            self._tell(
                f"nightly-batch on {self.node}: the PostgreSQL store is reachable again; "
                "jobs resume, and what is owed is caught up."
            )
            self._said_unreachable = False
        return True

    def _watch_batch_host(self, lease: LeaderLease) -> None:
        """The leader says when the batch's host has not reached the database for three
        leases: tonight's batch will not run (its state file is there)."""
        alerts = self.app.alerts
        if alerts is None or self.batch_node is None:
            return
        age = lease.node_age(self.batch_node)
        limit = 3 * lease.lease_seconds
        # Never seen: as long as this daemon has led (both hosts may just be starting).
        waited = self.app.clock.monotonic() - self._leading_since if age is None else age
        if waited <= limit:
            alerts.resolve("batch_host_down", TaskName.NIGHTLY_BATCH)
            return
        seen = "has never reached" if age is None else f"has not reached for {age:.0f} s"
        alerts.fire(
            "batch_host_down",
            TaskName.NIGHTLY_BATCH,
            "critical",
            f"the batch's host {self.batch_node} {seen} the database; the nightly batch "
            "runs only there (batchNode), so it will not run until that host is back",
        )

    def _tell(self, text: str) -> None:
        """A notice through the alert channels, around the store: the alert tables are in the
        database that cannot be reached, so it is neither recorded nor deduplicated there
        (each host says it once per outage). On a thread, so renewals go on meanwhile."""
        sender = self.app.alert_sender
        if sender is None or not self.app.environment.alerts_enabled:
            return

        def send() -> None:
            try:
                channels = sender.channels()
            except Exception:
                log.exception("alert.channels_unusable")
                return
            for name, channel in channels.items():
                result = channel.notify(text)
                log.info("cluster.notice_sent", channel=name, delivered=result.delivered)

        threading.Thread(target=send, name="store-notice", daemon=True).start()

    def stop(self) -> None:
        """Give the lease up (a standby takes over at its next try) and close its connection."""
        if self.lease is None:
            return
        if not self.fenced:
            self.lease.resign()
        self.lease.close()

    def _renew(self) -> None:
        """Attempts on a fixed schedule (every renewal interval from the start, not from the
        end of the previous attempt), so a slow one does not push the next towards expiry."""
        assert self.lease is not None  # noqa: S101  (started only with a lease)
        every = self.lease.renew_seconds
        due = self.app.clock.monotonic() + every
        while not self.app.stop.wait(max(due - self.app.clock.monotonic(), 0.0)):
            self.beat()
            due = max(due + every, self.app.clock.monotonic())
