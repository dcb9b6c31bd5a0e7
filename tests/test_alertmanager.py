"""Alerts posted to a real Alertmanager (Debian's prometheus-alertmanager, started here on
loopback with the routing config of docs/ERROR_ALERTS.md, its receiver a local server): an
alert fired here arrives through Alertmanager's routing, grouped, and its resolution follows."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from conftest import Cli, Project
from daemon_process import wait_for
from nightly_batch.alerts.wiring import attach_alerting, flush
from nightly_batch.core.clock import iso_utc
from nightly_batch.runtime.app import App
from nightly_batch.tasks.runner import run_task
from servers import webhook_server

ALERTMANAGER = shutil.which("prometheus-alertmanager")
DOCS = Path(__file__).resolve().parent.parent / "docs" / "ERROR_ALERTS.md"
needs_alertmanager = pytest.mark.skipif(
    ALERTMANAGER is None,
    reason="Debian's prometheus-alertmanager is missing (.ci/run installs it)",
)


def documented_config(receiver: str) -> str:
    """The docs' routing config as printed, its receiver pointed at `receiver` and its waits
    shortened so the test need not wait 30 s."""
    text = DOCS.read_text()
    found = re.search(r"<!-- alertmanager-config -->\n```yaml\n(.*?)```", text, re.DOTALL)
    assert found, "docs/ERROR_ALERTS.md has no alertmanager-config block"
    config = found.group(1).replace("http://127.0.0.1:9000/page", receiver)
    return config.replace("group_wait: 30s", "group_wait: 1s").replace(
        "group_interval: 5m", "group_interval: 1s"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


Running = tuple[str, list[tuple[str, bytes]], Callable[[], datetime]]


def clock_of(url: str) -> Callable[[], datetime]:
    """Alertmanager's own clock: its start (`uptime` in /api/v2/status) and the time since.
    Under `make test-year-ahead` libfaketime moves this process's clock a year on, and not the
    Go binary's, which reads the time without libc: alerts are stamped on its clock."""
    uptime = httpx.get(f"{url}/api/v2/status", timeout=5).json()["uptime"]
    started = datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", uptime))
    then = time.monotonic()
    return lambda: started.astimezone(UTC) + timedelta(seconds=time.monotonic() - then)


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[Running]:
    """A running Alertmanager, what its receiver got ([(path, body), ...]) and its clock."""
    assert ALERTMANAGER is not None
    with webhook_server() as (receiver_port, received):
        config = tmp_path / "alertmanager.yml"
        config.write_text(documented_config(f"http://127.0.0.1:{receiver_port}/page"))
        port = free_port()
        log = (tmp_path / "alertmanager.log").open("wb")
        process = subprocess.Popen(
            [
                ALERTMANAGER,
                f"--config.file={config}",
                f"--storage.path={tmp_path / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:

            def ready() -> bool:
                try:
                    return httpx.get(f"{url}/-/ready", timeout=1).status_code == 200
                except httpx.HTTPError:
                    return False

            wait_for(
                ready,
                30,
                "Alertmanager to start",
                (tmp_path / "alertmanager.log").read_text,
            )
            yield url, received, clock_of(url)
        finally:
            process.terminate()
            process.wait(10)
            log.close()


def notifications(received: list[tuple[str, bytes]]) -> list[dict[str, Any]]:
    return [json.loads(body) for path, body in received if path == "/page"]


def wired(project: Project, url: str, now: Callable[[], datetime]) -> App:
    project.write_config(alertGroupWaitSeconds=0, alertDelivery="alertmanager")
    # Alertmanager keeps its own clock: alerts must be stamped by it too.
    project.clock.set(now())
    app = project.app({"ALERTMANAGER_URL": url, "NIGHTLY_BATCH_NODE": "vps-1"})
    attach_alerting(app)
    return app


@pytest.mark.slow
@needs_alertmanager
def test_an_alert_arrives_through_alertmanagers_routing_grouped_and_then_resolves(
    project: Project, alertmanager: Running
) -> None:
    url, received, now = alertmanager
    app = wired(project, url, now)
    assert app.alerts is not None
    try:
        app.alerts.fire("task_failed", "nightly-batch", "error", "the disk is full")
        app.alerts.fire("no_recent_success", "nightly-batch", "warning", "no success in 26 h")
        flush(app)

        def groups_firing() -> set[str]:
            return {
                n["groupLabels"]["alertname"]
                for n in notifications(received)
                if n["status"] == "firing"
            }

        # group_by [alertname, task]: one group a name, each notified on its own.
        wait_for(
            lambda: groups_firing() == {"task_failed", "no_recent_success"},
            30,
            "Alertmanager to notify the receiver of both groups",
        )
        firing = [n for n in notifications(received) if n["status"] == "firing"]
        attach_alerting(app)
        app.alerts.resolve("task_failed", "nightly-batch")
        app.alerts.resolve("no_recent_success", "nightly-batch")
        flush(app)
        wait_for(
            lambda: any(n["status"] == "resolved" for n in notifications(received)),
            30,
            "Alertmanager to send the resolution",
        )
    finally:
        flush(app)

    labels = {
        alert["labels"]["alertname"]: alert["labels"] for n in firing for alert in n["alerts"]
    }
    assert labels["task_failed"] == {
        "alertname": "task_failed",
        "task": "nightly-batch",
        "severity": "error",
        "instance": "vps-1",
    }
    first = next(
        a for n in firing for a in n["alerts"] if a["labels"]["alertname"] == "task_failed"
    )
    assert first["annotations"]["summary"] == "the disk is full"
    assert first["annotations"]["runbook"] == "docs/ERROR_ALERTS.md#every-alert"
    assert first["annotations"]["description"].startswith("[ERROR] task_failed (nightly-batch)")
    assert firing[0]["receiver"] == "on-call"
    # group_by [alertname, task]: one group a name; each notification is one group's.
    assert {n["groupLabels"]["alertname"] for n in firing} == {"task_failed", "no_recent_success"}
    resolved = [n for n in notifications(received) if n["status"] == "resolved"]
    assert all(alert["status"] == "resolved" for n in resolved for alert in n["alerts"])
    # Alertmanager itself holds no firing alert of ours any more.
    live = httpx.get(f"{url}/api/v2/alerts", params={"active": "true"}).json()
    assert [alert for alert in live if alert["labels"].get("instance") == "vps-1"] == []


@pytest.mark.slow
@needs_alertmanager
def test_a_heartbeat_posts_a_firing_alert_again_before_alertmanager_would_resolve_it(
    project: Project, alertmanager: Running
) -> None:
    url, _, now = alertmanager
    app = wired(project, url, now)
    assert app.alerts is not None
    try:
        app.alerts.fire("scheduler_hung", "scheduler", "critical", "no job has run for 75 min")
        flush(app)
        attach_alerting(app)

        def ends() -> str:
            alerts = httpx.get(f"{url}/api/v2/alerts").json()
            return str(
                next(a["endsAt"] for a in alerts if a["labels"]["alertname"] == "scheduler_hung")
            )

        wait_for(
            lambda: any(
                a["labels"]["alertname"] == "scheduler_hung"
                for a in httpx.get(f"{url}/api/v2/alerts").json()
            ),
            20,
            "the alert in Alertmanager",
        )
        before = ends()
        project.clock.set(now())
        run_task(app, "heartbeat", "schedule")
        wait_for(lambda: ends() > before, 20, "the heartbeat's re-post")
    finally:
        flush(app)


@respx.mock
def test_alertmanager_only_sends_nothing_through_our_own_channels(project: Project) -> None:
    slack = respx.post("https://hooks.slack.com/services/T0/B0/x").respond(200, text="ok")
    manager = respx.post("http://127.0.0.1:9093/api/v2/alerts").respond(200)
    project.write_config(alertGroupWaitSeconds=0, alertDelivery="alertmanager")
    app = project.app(
        {
            "ALERTMANAGER_URL": "http://127.0.0.1:9093",
            "SLACK_ERROR_WEBHOOK": "https://hooks.slack.com/services/T0/B0/x",
        }
    )
    attach_alerting(app)
    assert app.alerts is not None
    try:
        app.alerts.fire("task_failed", "nightly-batch", "error", "the disk is full")
    finally:
        flush(app)

    assert not slack.called
    (posted,) = json.loads(manager.calls.last.request.content)
    assert posted["labels"]["alertname"] == "task_failed"
    assert posted["endsAt"] > posted.get("startsAt", "")


@respx.mock
def test_test_notify_posts_an_alert_that_ends_by_itself(cli: Cli) -> None:
    manager = respx.post("http://127.0.0.1:9093/api/v2/alerts").respond(200)

    said = cli("test-notify", {"ALERTMANAGER_URL": "http://127.0.0.1:9093"})

    assert said.code == 0
    assert "alerts via alertmanager: delivered" in said.out
    (posted,) = json.loads(manager.calls.last.request.content)
    assert posted["labels"]["alertname"] == "nightly_batch_test_notify"
    assert posted["labels"]["severity"] == "info"


@pytest.mark.parametrize(
    ("config", "environ", "sentence"),
    [
        (
            {"alertDelivery": "alertmanager"},
            {},
            'alertDelivery "alertmanager" needs ALERTMANAGER_URL.',
        ),
        (
            {},
            {"ALERTMANAGER_URL": "http://alertmanager.example.net:9093"},
            "ALERTMANAGER_URL must use https (plain http only for hosts in allowedWebhookHosts)",
        ),
        ({"alertDelivery": "pager"}, {}, 'alertDelivery = "pager" must be one of'),
    ],
)
def test_check_config_refuses_an_alertmanager_it_cannot_use(
    project: Project, cli: Cli, config: dict[str, str], environ: dict[str, str], sentence: str
) -> None:
    project.write_config(**config)

    said = cli("check-config", environ)

    assert said.code == 2
    assert sentence in said.err


@respx.mock
def test_the_watchdog_keeps_an_alert_firing_there_while_the_scheduler_is_stalled(
    project: Project,
) -> None:
    """No heartbeat runs while the scheduler is stuck: the watchdog thread re-posts the
    firing alerts, muted ones too, each with endsAt moved on, so Alertmanager never resolves
    heartbeat_stale by itself."""
    from nightly_batch.alerts.watchdog import Watchdog  # noqa: PLC0415

    manager = respx.post("http://127.0.0.1:9093/api/v2/alerts").respond(200)
    project.write_config(alertGroupWaitSeconds=0)
    app = project.app({"ALERTMANAGER_URL": "http://127.0.0.1:9093"})
    attach_alerting(app)
    assert app.alerts is not None
    watchdog = Watchdog(app, project.clock.now() - timedelta(hours=2), lambda: True)
    try:
        watchdog.check()  # no heartbeat for two hours: heartbeat_stale fires
        flush(app)
        attach_alerting(app)
        app.alerts.fire("task_failed", "nightly-batch", "error", "muted by heartbeat_stale")
        flush(app)
        first = {
            alert["labels"]["alertname"]: alert["endsAt"]
            for call in manager.calls
            for alert in json.loads(call.request.content)
        }
        project.clock.advance(timedelta(minutes=10))
        attach_alerting(app)
        watchdog.check()
    finally:
        flush(app)

    assert "task_failed" not in first  # muted here, never notified
    reposted = {
        alert["labels"]["alertname"]: alert["endsAt"]
        for alert in json.loads(manager.calls.last.request.content)
    }
    assert set(reposted) == {"heartbeat_stale", "task_failed"}  # Alertmanager inhibits
    assert reposted["heartbeat_stale"] > first["heartbeat_stale"]


@respx.mock
def test_an_escalation_ends_the_alert_under_its_old_severity(project: Project) -> None:
    manager = respx.post("http://127.0.0.1:9093/api/v2/alerts").respond(200)
    project.write_config(alertGroupWaitSeconds=0)
    app = project.app({"ALERTMANAGER_URL": "http://127.0.0.1:9093"})
    attach_alerting(app)
    assert app.alerts is not None
    try:
        app.alerts.fire("task_failed", "nightly-batch", "error", "failed")
        flush(app)
        attach_alerting(app)
        app.alerts.fire("task_failed", "nightly-batch", "critical", "failed 3 runs in a row")
    finally:
        flush(app)

    posted = json.loads(manager.calls.last.request.content)
    by_severity = {alert["labels"]["severity"]: alert["endsAt"] for alert in posted}
    assert set(by_severity) == {"info", "warning", "error", "critical"}
    # The critical copy fires on; the others end now (the error one Alertmanager holds).
    ended = {by_severity[severity] for severity in ("info", "warning", "error")}
    assert ended == {iso_utc(project.clock.now())}
    assert by_severity["critical"] > iso_utc(project.clock.now())


def test_two_hosts_on_one_store_post_one_instance() -> None:
    from nightly_batch.delivery.channels.alertmanager import instance_of  # noqa: PLC0415

    url = "postgresql://nightly:secret@db.internal:5432/nightly"
    assert instance_of(url, "vps-1") == instance_of(url, "vps-2") == "db.internal/nightly"
    assert "secret" not in instance_of(url, None)
    assert instance_of(None, "vps-1") == "vps-1"
