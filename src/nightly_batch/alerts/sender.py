"""Sends alert notices on a thread of its own, so a slow or dead alert channel never holds a job.

A burst within `alertGroupWait` becomes one message. A critical notice goes to every alert
channel (Slack at SLACK_ERROR_WEBHOOK, e-mail to ALERT_EMAIL_TO); any other goes to the first
that works. A channel that fails raises an alert of its own, which avoids that very channel, so
Slack's failure is never reported to Slack. At most `alertsPerHour` messages leave per hour; the
rest are recorded as suppressed. The log gets every alert regardless (the manager logs them).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from nightly_batch.alerts.manager import AlertManager, Notice, rank
from nightly_batch.core.clock import Clock, iso_utc
from nightly_batch.delivery.channel import Channel, Delivery, TakesAlerts
from nightly_batch.observability.events import get_logger
from nightly_batch.storage.port import AlertStore
from nightly_batch.storage.records import AlertRecord

log = get_logger(__name__)
_STOP = object()


class _Repost:
    """A queue item: re-post these firing alerts (AlertSender.submit_repost)."""

    def __init__(self, firing: list[AlertRecord]) -> None:
        self.firing = firing


class AlertSender:
    """A queue and the thread that drains it into the alert channels."""

    def __init__(
        self,
        channels: Callable[[], Mapping[str, Channel]],
        store: AlertStore,
        clock: Clock,
        *,
        group_wait: float,
        per_hour: int,
    ) -> None:
        self._channels = channels
        self._built: Mapping[str, Channel] | None = None
        self.store = store
        self.clock = clock
        self.group_wait = group_wait
        self.per_hour = per_hour
        self.manager: AlertManager | None = None  # set once both exist; raises channel failures
        self._queue: queue.Queue[object] = queue.Queue()
        self._hurry = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._build_lock = threading.Lock()

    def submit(self, notice: Notice | _Repost) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._hurry.clear()
                self._thread = threading.Thread(target=self._loop, name="alert-sender", daemon=True)
                self._thread.start()
        self._queue.put(notice)

    def submit_repost(self, firing: list[AlertRecord]) -> None:
        """Queue a re-post of the alerts still firing, for the channels that forget an alert
        not told again (Alertmanager): sent by the sender thread, after what is queued before
        it, so it neither holds the caller nor overtakes a resolution."""
        try:
            wanted = any(hasattr(channel, "repost") for channel in self.channels().values())
        except Exception:
            log.exception("alert.channels_unusable")
            return
        if wanted:
            self.submit(_Repost(firing))

    def flush(self, timeout: float) -> None:
        """Send what is queued now, without the group wait, and stop the thread."""
        with self._lock:
            thread = self._thread
            if thread is None or not thread.is_alive():
                return  # every submit starts the thread, so nothing is waiting
            self._hurry.set()
            self._queue.put(_STOP)
        thread.join(timeout)

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            if isinstance(first, _Repost):
                self._repost(first.firing)
                continue
            batch, stop = self._gather(first)
            self._send_batch([n for n in batch if isinstance(n, Notice)])
            for item in batch:
                if isinstance(item, _Repost):
                    # After the notices queued with it: a resolution is never overtaken by a
                    # re-post of the alert as firing (the store is read again there too).
                    self._repost(item.firing)
            if stop:
                return

    def _gather(self, first: object) -> tuple[list[object], bool]:
        """`first` and what arrives within the group wait (or is waiting already); whether
        a stop came with them."""
        batch = [first]
        waited = 0.0
        while not self._hurry.is_set() and waited < self.group_wait:
            try:
                item = self._queue.get(timeout=min(0.25, self.group_wait - waited))
            except queue.Empty:
                waited += 0.25
                continue
            if item is _STOP:
                return batch + [item for item in self._waiting() if item is not _STOP], True
            batch.append(item)
        rest = self._waiting()
        stop = _STOP in rest
        return batch + [item for item in rest if item is not _STOP], stop

    def _waiting(self) -> list[object]:
        """Everything already in the queue: it joins this message."""
        items = []
        while not self._queue.empty():
            items.append(self._queue.get_nowait())
        return items

    def channels(self) -> Mapping[str, Channel]:
        with self._build_lock:  # built once, whichever thread asks first
            if self._built is None:
                self._built = self._channels()
            return self._built

    def _send_batch(self, notices: list[Notice]) -> None:
        now = self.clock.now()
        if self.store.sent_since(iso_utc(now - timedelta(hours=1))) >= self.per_hour:
            for notice in notices:
                self.store.finish_notification(
                    notice.ident, "suppressed", None, "alertsPerHour reached"
                )
            log.warning("alert.suppressed", count=len(notices), reason="alertsPerHour reached")
            return
        groups: dict[frozenset[str], list[Notice]] = {}
        for notice in notices:
            groups.setdefault(notice.avoid, []).append(notice)
        for avoid, group in groups.items():
            self._send_group(group, avoid)

    def _send_group(self, notices: list[Notice], avoid: frozenset[str]) -> None:
        try:
            available = {n: c for n, c in self.channels().items() if n not in avoid}
        except Exception:
            log.exception("alert.channels_unusable")
            available = {}
        critical = any(rank(n.severity) >= rank("critical") for n in notices)
        taken_by: dict[int, list[str]] = {notice.ident: [] for notice in notices}
        tried: set[int] = set()
        errors: dict[str, str] = {}
        primary_done = False
        for name, channel in available.items():
            # The signed webhook and SMS are tried for every alert (SMS picks those worth a
            # text); the others take turns, unless the alert is critical.
            every = getattr(channel, "receives_every_alert", False)
            if primary_done and not critical and not every:
                continue
            chosen = self._within_cap(
                name, channel, [notice for notice in notices if _wanted(channel, notice)]
            )
            if not chosen:
                continue
            tried.update(notice.ident for notice in chosen)
            result = _notify(channel, _text(chosen), [self._alert(notice) for notice in chosen])
            if result.delivered:
                for notice in chosen:
                    taken_by[notice.ident].append(name)
                primary_done = primary_done or not every
            else:
                errors[name] = result.error or result.status
                log.error("alert.channel_failed", channel=name, error=errors[name])
        error = "; ".join(f"{k}: {v}" for k, v in errors.items()) or None
        for notice in notices:
            taken = taken_by[notice.ident]
            # No channel tried it (none set, or each declined it): logged only, not failed.
            status = "sent" if taken else ("failed" if notice.ident in tried else "logged")
            self.store.finish_notification(notice.ident, status, ",".join(taken) or None, error)
        for name, reason in errors.items():
            if self.manager is not None:
                # Reported through the other channels only: never back into the one that failed.
                self.manager.fire(
                    "alert_channel_failed",
                    name,
                    "error",
                    f"alerts could not be sent through {name}: {reason}",
                    avoid={name},
                )

    def _alert(self, notice: Notice) -> dict[str, Any]:
        return _alert(notice, self.store.get(notice.fingerprint))

    def _repost(self, firing: list[AlertRecord]) -> None:
        """Tell the channels that forget an alert not told again (Alertmanager) of every alert
        still firing, as the store has them now."""
        try:
            channels = self.channels()
        except Exception:
            log.exception("alert.channels_unusable")
            return
        still = {record.fingerprint for record in self.store.firing()}
        for name, channel in channels.items():
            repost = getattr(channel, "repost", None)
            if repost is None:
                continue
            alerts = [firing_alert(record) for record in firing if record.fingerprint in still]
            result = repost(alerts)
            if not result.delivered:
                log.error("alert.repost_failed", channel=name, error=result.error or result.status)

    def _within_cap(self, name: str, channel: Channel, chosen: list[Notice]) -> list[Notice]:
        """As many of `chosen` as a channel with a daily cap (SMS) may still take: the
        notifications it took in the last 24 hours are counted in the store, so separate
        processes share one cap; the most severe go first."""
        per_day = getattr(channel, "per_day", None)
        if per_day is None or not chosen:
            return chosen
        since = iso_utc(self.clock.now() - timedelta(hours=24))
        taken = sum(
            1
            for record in self.store.notifications(since=since)
            if record.channel and name in record.channel.split(",")
        )
        room = max(per_day - taken, 0)
        if len(chosen) <= room:
            return chosen
        log.warning(
            "alert.capped",
            channel=name,
            sent_in_24h=taken,
            per_day=per_day,
            left_out=len(chosen) - room,
        )
        ranked = sorted(chosen, key=lambda notice: -rank(notice.severity))
        return [notice for notice in chosen if notice in ranked[:room]]


def _text(notices: list[Notice]) -> str:
    if len(notices) == 1:
        return notices[0].text
    return f"nightly-batch: {len(notices)} alerts\n" + "\n".join(f"• {n.text}" for n in notices)


def _alert(notice: Notice, record: AlertRecord | None = None) -> dict[str, Any]:
    """A notice as data, for the channels that take it so (the webhook, SMS, Alertmanager);
    with the alert's record, its summary and start too."""
    alertname, _, task = notice.fingerprint.partition(":")
    alert: dict[str, Any] = {
        "id": notice.ident,
        "alertname": alertname,
        "task": task,
        "kind": notice.kind,
        "severity": notice.severity,
        "text": notice.text,
    }
    if record is not None:
        alert["summary"], alert["startedAt"] = record.summary, record.started_at
    return alert


def firing_alert(record: AlertRecord) -> dict[str, Any]:
    """A firing alert as data, for a channel that is told again of every firing alert."""
    return {
        "alertname": record.name,
        "task": record.task,
        "severity": record.severity,
        "summary": record.summary,
        "text": f"[{record.severity.upper()}] {record.name} ({record.task}): {record.summary}",
        "startedAt": record.started_at,
    }


def _wanted(channel: Channel, notice: Notice) -> bool:
    wants = getattr(channel, "wants", None)
    return True if wants is None else bool(wants(_alert(notice)))


def _notify(channel: Channel, text: str, alerts: list[dict[str, Any]]) -> Delivery:
    """The notices as `channel` takes them: as data where it can (the webhook, SMS,
    Alertmanager)."""
    if isinstance(channel, TakesAlerts):
        return channel.notify_alerts(text, alerts)
    return channel.notify(text)
