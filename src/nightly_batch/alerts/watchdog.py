"""The in-process watchdog: a thread of its own, independent of the scheduler.

If the scheduler stalls (a hung loop, an exhausted pool), heartbeats stop being processed; this
thread notices within `watchdogCheckMinutes` and raises one critical `heartbeat_stale` alert,
which also mutes the task alerts the stall causes. It cannot see the whole process die: that is
what systemd's watchdog and the external HEARTBEAT_PING_URL are for.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from nightly_batch.alerts.checks import check_hung_runs
from nightly_batch.core.clock import parse_iso
from nightly_batch.observability.events import get_logger
from nightly_batch.rules.heartbeat_age import BeatState, heartbeat_age
from nightly_batch.runtime.app import App

log = get_logger(__name__)


class Watchdog:
    def __init__(
        self, app: App, started: datetime, leading: Callable[[], bool] = lambda: True
    ) -> None:
        self.app = app
        self.started = started
        # A standby of two hosts watches nothing: the leader's watchdog raises the alerts.
        self.leading = leading
        self._thread: threading.Thread | None = None
        # The last stamp seen and when (monotonic): a stamp in the future that never changes
        # is a stalled scheduler behind a stepped-back clock.
        self._seen: tuple[str | None, float] = (None, app.clock.monotonic())

    def check(self) -> bool:
        """One look; True if the heartbeat is fresh."""
        app = self.app
        now = app.clock.now()
        beat = app.store.last_heartbeat()
        since = parse_iso(beat) if beat else self.started
        limit = timedelta(minutes=app.config.heartbeat_stale_minutes)
        age = heartbeat_age(since, now, limit)
        if beat != self._seen[0]:
            self._seen = (beat, app.clock.monotonic())
        unchanged = app.clock.monotonic() - self._seen[1]
        # A stamp in the future is the clock's doing, and the clock guard reruns the heartbeat
        # at once; it is stale only once no new stamp came for as long as the limit allows.
        fresh = age.state == BeatState.FRESH or (
            age.state == BeatState.FUTURE and unchanged <= limit.total_seconds()
        )
        if app.alerts is not None:
            if fresh:
                app.alerts.resolve("heartbeat_stale", "heartbeat")
            else:
                app.alerts.fire(
                    "heartbeat_stale",
                    "heartbeat",
                    "critical",
                    f"no heartbeat processed for {max(age.seconds, unchanged) / 60:.0f} min; "
                    "the scheduler may be stalled",
                )
            check_hung_runs(app, now)
            app.alerts.remind_and_purge()
        return fresh

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="watchdog", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        interval = self.app.config.watchdog_check_minutes * 60
        while not self.app.stop.wait(interval):
            if not self.leading():
                continue
            try:
                self.check()
            except Exception:
                log.exception("watchdog.check_failed")
