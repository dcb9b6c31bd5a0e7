"""Prometheus metrics and a health check, served on `metricsPort` (127.0.0.1 unless
`metricsHost` says otherwise).

Every value is read from the runtime store at scrape time, so a restart loses nothing (no
last-success timestamp resets to zero and trips an alert), and runs made by `run-once` in another
process count too. Timestamps, not ages, as Prometheus advises: alert on
`time() - nightly_batch_last_success_timestamp_seconds`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from nightly_batch.core.clock import parse_iso
from nightly_batch.core.names import SEVERITIES, RunResult
from nightly_batch.core.tasks import task_names
from nightly_batch.rules.heartbeat_age import BeatState, heartbeat_age
from nightly_batch.runtime.app import App
from nightly_batch.storage.delivery_state import last_success as succeeded_at

PREFIX = "nightly_batch"


def _seconds(text: str | None) -> float | None:
    return parse_iso(text).timestamp() if text else None


class StoreCollector(Collector):
    """Reads the runtime store on every scrape."""

    def __init__(self, app: App, leading: Callable[[], bool] | None = None) -> None:
        self.app = app
        self.leading = leading

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        if self.leading is not None:
            leader = GaugeMetricFamily(
                f"{PREFIX}_is_leader",
                "1 while this daemon leads (always, on one host); 0 on a standby.",
            )
            leader.add_metric([], 1.0 if self.leading() else 0.0)
            yield leader
        yield from self._tasks()
        yield from self._runs()
        yield self._leads()
        yield from self._deliveries()
        yield from self._alerts()
        yield self._heartbeat()

    def _tasks(self) -> Iterator[GaugeMetricFamily]:
        store = self.app.store
        last_success = GaugeMetricFamily(
            f"{PREFIX}_last_success_timestamp_seconds",
            "When the task last succeeded (Unix time).",
            labels=["task"],
        )
        duration = GaugeMetricFamily(
            f"{PREFIX}_last_duration_seconds", "How long the task's last run took.", labels=["task"]
        )
        last = store.last_runs()
        for task in task_names():
            moment = _seconds(succeeded_at(store, task))
            if moment is not None:
                last_success.add_metric([task], moment)
            run = last.get(task)
            if run is not None and run.duration_s is not None:
                duration.add_metric([task], run.duration_s)
        yield last_success
        yield duration

    def _runs(self) -> Iterator[CounterMetricFamily]:
        runs = CounterMetricFamily(
            f"{PREFIX}_runs", "Runs finished, by task and result.", labels=["task", "result"]
        )
        failures = CounterMetricFamily(
            f"{PREFIX}_failures", "Runs finished with an error.", labels=["task"]
        )
        for (task, result), count in self.app.store.counters("runs"):
            runs.add_metric([task, result], count)
            if result == RunResult.ERROR:
                failures.add_metric([task], count)
        yield runs
        yield failures

    def _leads(self) -> GaugeMetricFamily:
        queue = self.app.store.fact("queue") or {}
        leads = GaugeMetricFamily(
            f"{PREFIX}_leads", "Leads at the last nightly batch.", labels=["kind"]
        )
        for kind, key in (("queued", "total"), ("selected", "selected"), ("marked", "marked")):
            if key in queue:
                leads.add_metric([kind], float(queue[key]))
        return leads

    def _deliveries(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        attempts = CounterMetricFamily(
            f"{PREFIX}_deliveries",
            "Delivery attempts finished, by channel and result (sent, failed, ambiguous, nothing-new).",
            labels=["channel", "result"],
        )
        for (channel, result), count in self.app.store.counters("deliveries"):
            attempts.add_metric([channel, result], count)
        records = GaugeMetricFamily(
            f"{PREFIX}_delivery_records",
            "Digest delivery records as they stand now, by channel and status.",
            labels=["channel", "status"],
        )
        for channel, status, count in self.app.store.delivery_counts():
            records.add_metric([channel, status], count)
        yield attempts
        yield records

    def _alerts(self) -> Iterator[GaugeMetricFamily]:
        by_severity = GaugeMetricFamily(
            f"{PREFIX}_alerts_firing", "Alerts firing now, by severity.", labels=["severity"]
        )
        each = GaugeMetricFamily(
            f"{PREFIX}_alert_firing",
            "1 for each alert firing now.",
            labels=["alertname", "task", "severity"],
        )
        counts: dict[str, int] = dict.fromkeys(SEVERITIES, 0)
        for alert in self.app.store.alerts.firing():
            counts[alert.severity] = counts.get(alert.severity, 0) + 1
            each.add_metric([alert.name, alert.task, alert.severity], 1)
        for severity, count in counts.items():
            by_severity.add_metric([severity], count)
        yield by_severity
        yield each

    def _heartbeat(self) -> GaugeMetricFamily:
        heartbeat = GaugeMetricFamily(
            f"{PREFIX}_heartbeat_timestamp_seconds", "When the last heartbeat ran (Unix time)."
        )
        beat = _seconds(self.app.store.last_heartbeat())
        if beat is not None:
            heartbeat.add_metric([], beat)
        return heartbeat


def health(app: App) -> tuple[int, str]:
    """200 while the heartbeat is fresh; 503 with the reason otherwise (none yet, stale, or
    stamped in the future, which proves nothing about now)."""
    beat = app.store.last_heartbeat()
    age = heartbeat_age(
        parse_iso(beat) if beat else None,
        app.clock.now(),
        timedelta(minutes=app.config.heartbeat_stale_minutes),
    )
    if age.state == BeatState.FRESH:
        return 200, f"ok: {age.text}\n"
    label = {BeatState.STALE: "stale: ", BeatState.FUTURE: "not fresh: "}.get(age.state, "")
    return 503, f"{label}{age.text}\n"


class MetricsServer:
    """`/metrics` and `/healthz` on a thread of their own."""

    def __init__(
        self, app: App, host: str, port: int, leading: Callable[[], bool] | None = None
    ) -> None:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(StoreCollector(app, leading))

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?")[0] == "/metrics":
                    status, body, kind = 200, generate_latest(registry), CONTENT_TYPE_LATEST
                elif self.path.split("?")[0] == "/healthz":
                    status, text = health(app)
                    body, kind = text.encode(), "text/plain; charset=utf-8"
                else:
                    status, body, kind = (
                        404,
                        b"not found: /metrics and /healthz are served\\n",
                        "text/plain",
                    )
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: object) -> None:
                """Scrapes are not worth a log line each."""

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, name="metrics", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
