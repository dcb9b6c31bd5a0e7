"""`nightly-batch store migrate`: a one-host history, made by real runs, copied into a real
PostgreSQL, where `status` then reads the same; a second copy is refused."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from typing import Any

from conftest import Project
from nightly_batch.storage.postgres import PostgresStore
from nightly_batch.storage.records import AlertRecord
from nightly_batch.storage.sqlite import SqliteStore
from pg import postgres_url  # noqa: F401  (a fixture)

T0 = "2026-11-28T23:00:00.000Z"


def firing(task: str) -> AlertRecord:
    return AlertRecord(
        fingerprint=f"task_failed:{task}",
        name="task_failed",
        task=task,
        severity="error",
        state="firing",
        summary="failed",
        run_id=None,
        started_at=T0,
        updated_at=T0,
        resolved_at=None,
        last_notified_at=None,
        notified_severity=None,
    )


def run(
    project: Project, *arguments: str, url: str | None = None
) -> subprocess.CompletedProcess[str]:
    environ = dict(os.environ)
    environ.pop("NIGHTLY_BATCH_DATABASE_URL", None)
    if url is not None:
        environ["NIGHTLY_BATCH_DATABASE_URL"] = url
    return subprocess.run(
        project.cli(*arguments), capture_output=True, text=True, check=False, env=environ
    )


def test_a_sqlite_history_is_copied_once_and_read_back_the_same(
    project: Project,
    lead: Callable[..., dict[str, Any]],
    postgres_url: str,  # noqa: F811
) -> None:
    project.write_state({"redditQueue": [lead("t3_a", 0.9), lead("t3_b", 0.2)]})
    for task in ("nightly-batch", "send-digest"):
        assert run(project, "run-once", task).returncode == 0
    silenced = run(
        project,
        "alerts",
        "silence",
        "--name",
        "task_failed",
        "--for",
        "2h",
        "--reason",
        "maintenance",
    )
    assert silenced.returncode == 0, silenced.stderr
    before = json.loads(run(project, "status", "--json").stdout)
    history = SqliteStore(project.logs / "nightly_batch.db")
    try:  # an alert and its notification, whose id PostgreSQL's sequence must continue after
        notice = history.alerts.transition(None, firing("a"), ("firing", "error", "x", "sent", T0))
        history.set_fact("installedAt", T0, T0)  # as the one-host daemon noted at its start
    finally:
        history.close()
    assert notice == 1
    # A daemon started on PostgreSQL before the copy has noted its own install time.
    early = PostgresStore(postgres_url, "vps-1")
    try:
        early.set_fact("installedAt", "2026-12-01T00:00:00.000Z", "2026-12-01T00:00:00.000Z")
    finally:
        early.close()

    copied = run(project, "store", "migrate", url=postgres_url)

    assert copied.returncode == 0, copied.stderr
    assert copied.stdout.startswith(
        f"copied {project.logs / 'nightly_batch.db'} into postgresql://"
    )
    assert "runs: 2, slots: 0, deliveries: 1, heartbeats: 0, facts: " in copied.stdout
    after = json.loads(run(project, "status", "--json", url=postgres_url).stdout)
    for key in ("tasks", "silences", "lastDigest", "queue"):
        assert after[key] == before[key], key
    assert after["cluster"]["role"] == "standby"  # no daemon leads yet
    assert before["cluster"] is None

    moved = PostgresStore(postgres_url, "vps-1")
    try:
        assert moved.fact("installedAt") == T0  # the history's, older, wins
        assert moved.alerts.transition(None, firing("b"), ("firing", "error", "y", "sent", T0)) == 2
    finally:
        moved.close()

    again = run(project, "store", "migrate", url=postgres_url)
    assert again.returncode != 0
    assert "already holds a history (runs: 2, deliveries: 1, alerts: 2)" in again.stderr
    assert "nothing was copied" in again.stderr


def test_store_migrate_without_a_database_url_says_what_to_set(project: Project) -> None:
    result = run(project, "store", "migrate")

    assert result.returncode == 2
    assert "set NIGHTLY_BATCH_DATABASE_URL" in result.stderr
