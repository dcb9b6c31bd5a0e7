"""Alerts modelled on Alertmanager: identity, state, notifications on transitions only.

An alert is identified by its name and task (the fingerprint). It notifies once when it starts
firing, once more if its severity rises, with reminders every `alertRepeatMinutes` of its
severity while it fires, and once when it resolves. Everything is kept in the runtime store, so a
restart or another process neither loses nor repeats a notification. Alerts below
ALERT_SEVERITY_THRESHOLD are ignored; silences and inhibition mute notifications (the alert is
still recorded); ALERTS_ENABLED=false records and logs but sends nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import timedelta
from fnmatch import fnmatchcase

from nightly_batch.core.clock import Clock, iso_utc, parse_iso
from nightly_batch.core.names import severity_rank
from nightly_batch.observability.events import get_logger
from nightly_batch.observability.redact import Redactor
from nightly_batch.settings.config import Config
from nightly_batch.settings.environment import Environment
from nightly_batch.storage.port import AlertStore
from nightly_batch.storage.records import AlertRecord

RETENTION = timedelta(hours=48)
# How often a transition is decided again when another writer changed the alert meanwhile.
TRANSITION_TRIES = 5
SUMMARY_MAX = 400
# A stalled scheduler makes every task look failed or late: while one of these fires, the task
# alerts it causes are muted (Alertmanager's inhibition).
INHIBITORS = ("heartbeat_stale",)
INHIBITED = (
    "task_failed",
    "no_recent_success",
    "digest_missing",
    "digest_undelivered",
    "task_hung",
)

log = get_logger(__name__)


def rank(severity: str) -> int:
    return severity_rank(severity)


@dataclass(frozen=True, slots=True)
class Notice:
    """One notification for the sender; `avoid` names channels it must not go through."""

    ident: int
    fingerprint: str
    kind: str
    severity: str
    text: str
    avoid: frozenset[str] = frozenset()


class AlertManager:
    """Decides what to notify and hands notices to `outbox` (the sender thread's queue)."""

    def __init__(
        self,
        store: AlertStore,
        clock: Clock,
        config: Config,
        environment: Environment,
        redactor: Redactor,
        outbox: Callable[[Notice], None],
    ) -> None:
        self.store = store
        self.clock = clock
        self.config = config
        self.enabled = environment.alerts_enabled
        self.threshold = environment.alert_severity_threshold
        self.redactor = redactor
        self.outbox = outbox
        # Told of every firing alert by each heartbeat and watchdog pass (the sender's queue
        # for the channels that forget an alert not re-posted: Alertmanager).
        self.reposter: Callable[[list[AlertRecord]], None] | None = None

    def fire(
        self,
        name: str,
        task: str,
        severity: str,
        summary: str,
        run_id: str | None = None,
        *,
        avoid: Iterable[str] = (),
    ) -> None:
        """Raise or update the alert `name` for `task`."""
        if rank(severity) < rank(self.threshold):
            return
        fingerprint = f"{name}:{task}"
        text = self.redactor.text(" ".join(summary.split()))[:SUMMARY_MAX]
        for _ in range(TRANSITION_TRIES):
            now = iso_utc(self.clock.now())
            current = self.store.get(fingerprint)
            if current is not None and current.state == "firing":
                higher = max(severity, current.severity, key=rank)
                updated = replace(
                    current, severity=higher, summary=text, run_id=run_id, updated_at=now
                )
                notified = current.notified_severity or current.severity
                if rank(higher) > rank(notified):
                    done = self._notify(current, updated, "escalated", avoid)
                else:
                    done = self.store.transition(current, updated, None) is not False
            else:
                alert = AlertRecord(
                    fingerprint,
                    name,
                    task,
                    severity,
                    "firing",
                    text,
                    run_id,
                    now,
                    now,
                    None,
                    None,
                    None,
                )
                done = self._notify(current, alert, "firing", avoid)
            if done:
                return
        log.warning("alert.contended", alert=name, task=task, tries=TRANSITION_TRIES)

    def resolve(self, name: str, task: str) -> None:
        """End the alert, with one resolved notice if it had been notified."""
        for _ in range(TRANSITION_TRIES):
            current = self.store.get(f"{name}:{task}")
            if current is None or current.state != "firing":
                return
            now = iso_utc(self.clock.now())
            resolved = replace(current, state="resolved", resolved_at=now, updated_at=now)
            if current.last_notified_at is None:
                done = self.store.transition(current, resolved, None) is not False
            else:
                done = self._notify(current, resolved, "resolved", ())
            if done:
                return

    def observe_run(self, task: str, *, ok: bool, message: str, run_id: str) -> None:
        """Count-based escalation: the 1st failed run is an error, the 3rd in a row critical."""
        if ok:
            self.store.reset_failures(task)
            self.resolve("task_failed", task)
            return
        streak = self.store.count_failure(task, iso_utc(self.clock.now()))
        severity = "critical" if streak >= 3 else "error"
        times = f" ({streak} runs in a row)" if streak > 1 else ""
        self.fire(
            "task_failed", task, severity, f"{task} failed{times}: {message} [run {run_id}]", run_id
        )

    def remind_and_purge(self) -> None:
        """Reminders for alerts still firing after their repeat interval; forget old resolved ones."""
        now = self.clock.now()
        for alert in self.store.firing():
            minutes = self.config.repeat_minutes(alert.severity)
            if minutes <= 0 or alert.last_notified_at is None:
                continue
            if now - parse_iso(alert.last_notified_at) >= timedelta(minutes=minutes):
                # A reminder another thread or process sent meanwhile makes this one moot.
                self._notify(alert, alert, "reminder", ())
        self.store.purge_resolved(iso_utc(now - RETENTION))
        if self.reposter is not None and self.enabled:
            # Every firing alert, muted or not: Alertmanager does its own silencing and
            # inhibition (docs/ERROR_ALERTS.md), and one not told again would resolve there.
            self.reposter(self.store.firing())

    def _muted_by(self, alert: AlertRecord) -> str | None:
        for silence in self.store.silences(iso_utc(self.clock.now())):
            if fnmatchcase(alert.name, silence.name) and fnmatchcase(alert.task, silence.task):
                return f"silence {silence.id} until {silence.expires_at}"
        if alert.name in INHIBITED:
            for source in self.store.firing():
                if source.name in INHIBITORS:
                    return f"inhibited by {source.name}"
        return None

    def _notify(
        self, expected: AlertRecord | None, alert: AlertRecord, kind: str, avoid: Iterable[str]
    ) -> bool:
        """Record `alert` with a `kind` notice, if nobody changed it since it read `expected`.

        The decision and its record are one compare-and-set in the store, so the heartbeat, the
        watchdog thread and another process cannot send the same notice twice. False: it had
        changed; nothing was recorded or sent.
        """
        now = iso_utc(self.clock.now())
        muted = self._muted_by(alert)
        status = "muted" if muted else ("queued" if self.enabled else "disabled")
        label = "RESOLVED" if kind == "resolved" else alert.severity.upper()
        text = f"[{label}] {alert.name} ({alert.task}): {alert.summary}"
        notified = replace(
            alert, last_notified_at=now, notified_severity=alert.severity, updated_at=now
        )
        ident = self.store.transition(expected, notified, (kind, alert.severity, text, status, now))
        if ident is False or ident is None:
            return False
        # The log level follows the severity, so `journalctl -p crit` finds critical alerts.
        levels = {"info": "info", "warning": "warning", "error": "error", "critical": "critical"}
        log_method = getattr(log, "info" if kind == "resolved" else levels[alert.severity])
        log_method(
            f"alert.{kind}",
            alert=alert.name,
            task=alert.task,
            severity=alert.severity,
            summary=alert.summary,
            status=status,
            muted_by=muted,
        )
        if status == "queued":
            self.outbox(
                Notice(ident, alert.fingerprint, kind, alert.severity, text, frozenset(avoid))
            )
        return True
