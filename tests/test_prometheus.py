"""/metrics as Prometheus reads it: promtool lints the exposition, promtool runs every rule of
docs/MONITORING.md on input series, and the counters never go down (not across prune, a
delivery's status changing, or a restart)."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from conftest import Project
from fakes import RecordingChannel, hours
from nightly_batch.runtime.app import App
from nightly_batch.tasks.runner import run_task
from nightly_batch.web.metrics import StoreCollector

Lead = Callable[..., dict[str, Any]]
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is missing (.ci/run installs Debian's prometheus)"
)
DOCS = Path(__file__).parent.parent / "docs" / "MONITORING.md"


def scrape(app: App) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(app))
    return generate_latest(registry)


def samples(text: bytes, suffix: str = "_total") -> dict[tuple[str, tuple[Any, ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text.decode()):
        for sample in family.samples:
            if sample.name.endswith(suffix):
                found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def busy_week(project: Project, lead: Lead) -> App:
    """Runs of every task, a failed delivery later retried: every counter has moved."""
    project.write_state({"redditQueue": [lead("a", 0.9)]})
    app = project.live_a_day()
    project.channels["log"] = RecordingChannel("log", status="transient", error="down")
    project.write_state({"redditQueue": [lead("a", 0.9), lead("b", 0.95)]})
    project.clock.advance(hours(17))
    run_task(app, "nightly-batch", "schedule")
    project.clock.advance(hours(7))
    run_task(app, "send-digest", "schedule")
    return app


@needs_promtool
def test_the_exposition_passes_promtool_check_metrics(project: Project, lead: Lead) -> None:
    app = busy_week(project, lead)
    assert PROMTOOL is not None

    checked = subprocess.run(
        [PROMTOOL, "check", "metrics"], input=scrape(app), capture_output=True, check=False
    )

    assert checked.returncode == 0, checked.stdout.decode() + checked.stderr.decode()
    assert checked.stdout.decode() + checked.stderr.decode() == ""  # no lint finding either


def test_counters_never_go_down(project: Project, lead: Lead) -> None:
    """A failed delivery becomes sent, old runs are pruned, the process restarts: every
    counter read later is at least what it was (COUNT(*) over kept rows went down)."""
    app = busy_week(project, lead)
    before = samples(scrape(app))
    assert before[("nightly_batch_deliveries_total", (("channel", "log"), ("result", "failed")))]

    project.channels["log"] = RecordingChannel("log")
    project.clock.advance(hours(1))
    run_task(app, "heartbeat", "schedule")  # retries the failed delivery: it is sent now
    project.clock.advance(hours(24 * 401))
    run_task(app, "heartbeat", "schedule")  # prunes every run older than 400 days
    app.close()
    after = samples(scrape(project.app()))  # a new process on the same store

    assert all(after.get(key, 0) >= value for key, value in before.items()), (before, after)
    assert after[("nightly_batch_deliveries_total", (("channel", "log"), ("result", "sent")))] > (
        before.get(("nightly_batch_deliveries_total", (("channel", "log"), ("result", "sent"))), 0)
    )


def test_each_firing_alert_is_a_series_of_its_own(project: Project) -> None:
    from test_alerts import Alerting  # noqa: PLC0415

    alerting = Alerting(project)
    assert alerting.app.alerts is not None
    alerting.app.alerts.fire("digest_missing", "nightly-batch", "error", "no digest")

    firing = samples(scrape(alerting.app), suffix="alert_firing")

    assert firing == {
        (
            "nightly_batch_alert_firing",
            (("alertname", "digest_missing"), ("severity", "error"), ("task", "nightly-batch")),
        ): 1.0
    }


RULE_TESTS = """
rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'nightly_batch_deliveries_total{channel="slack",result="failed"}'
        values: '0 0 1 1 1'
      - series: 'nightly_batch_heartbeat_timestamp_seconds'
        values: '0x30'
      - series: 'nightly_batch_last_success_timestamp_seconds{task="nightly-batch"}'
        values: '0x10'
      - series: 'up{job="nightly-batch"}'
        values: '1 1 0 0 0 0 0 0 0'
    alert_rule_test:
      - eval_time: 4m
        alertname: NightlyBatchNotificationsFailing
        exp_alerts:
          - exp_labels: {severity: warning, channel: slack, result: failed}
      - eval_time: 10m
        alertname: NightlyBatchHeartbeatStale
        exp_alerts: []
      - eval_time: 20m
        alertname: NightlyBatchHeartbeatStale
        exp_alerts:
          - exp_labels: {severity: critical}
      - eval_time: 8m
        alertname: NightlyBatchDown
        exp_alerts:
          - exp_labels: {job: nightly-batch}
      - eval_time: 1m
        alertname: NightlyBatchNoSuccessForTwoRuns
        exp_alerts: []
"""


@needs_promtool
def test_every_rule_in_the_monitoring_guide_fires_on_its_input(tmp_path: Path) -> None:
    """The guide's rules as printed, run by promtool on series like ours; the failed-delivery
    rule could never fire while the counter was a COUNT(*) that went down."""
    rules = re.search(r"```yaml\n(groups:.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)
    assert rules is not None
    (tmp_path / "rules.yml").write_text(rules.group(1), encoding="utf-8")
    (tmp_path / "tests.yml").write_text(RULE_TESTS, encoding="utf-8")
    assert PROMTOOL is not None

    checked = subprocess.run(
        [PROMTOOL, "test", "rules", "tests.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )

    assert checked.returncode == 0, checked.stdout + checked.stderr
    named = {line.split(":")[1].strip() for line in rules.group(1).splitlines() if "alert:" in line}
    assert named == {
        "NightlyBatchNoSuccessForTwoRuns",
        "NightlyBatchHeartbeatStale",
        "NightlyBatchDown",
        "NightlyBatchNotificationsFailing",
    }
