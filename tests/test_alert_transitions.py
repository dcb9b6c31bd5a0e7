"""Alert transitions are one compare-and-set in the store: writers that race (the heartbeat, the
watchdog thread, a `run-once` in another process) send each notice once."""

from __future__ import annotations

import threading

from conftest import Project
from nightly_batch.alerts.manager import AlertManager
from nightly_batch.runtime.app import App
from nightly_batch.storage.port import AlertStore
from nightly_batch.storage.sqlite import SqliteStore

WRITERS = 8


def manager_on(store: AlertStore, app: App) -> AlertManager:
    """An alert manager on `store` that sends nothing (the notices it logs are what count)."""
    return AlertManager(store, app.clock, app.config, app.environment, app.redactor, lambda _: None)


def race(project: Project, act: str) -> list[tuple[str, str]]:
    """WRITERS managers, each on its own connection to the same file (as separate processes
    would be), all doing `act` to the same alert at the same moment; the notices logged."""
    app = project.app()
    stores = [
        SqliteStore(project.config_path.parent.parent / "logs" / "nightly_batch.db")
        for _ in range(WRITERS)
    ]
    managers = [manager_on(store.alerts, app) for store in stores]
    start = threading.Barrier(WRITERS)

    def writer(manager: AlertManager) -> None:
        start.wait()
        if act == "fire":
            manager.fire("heartbeat_stale", "heartbeat", "critical", "no heartbeat for 20 min")
        elif act == "escalate":
            manager.fire("task_failed", "send-digest", "critical", "3 runs in a row")
        else:
            manager.resolve("heartbeat_stale", "heartbeat")

    threads = [threading.Thread(target=writer, args=(manager,)) for manager in managers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    notices = [(n.fingerprint, n.kind) for n in app.store.alerts.notifications()]
    for store in stores:
        store.close()
    return notices


def test_racing_writers_send_one_firing_notice(project: Project) -> None:
    assert race(project, "fire") == [("heartbeat_stale:heartbeat", "firing")]


def test_racing_writers_escalate_once(project: Project) -> None:
    app = project.app()
    assert app.alerts is None
    manager = manager_on(app.store.alerts, app)
    manager.fire("task_failed", "send-digest", "error", "failed")

    assert race(project, "escalate") == [
        ("task_failed:send-digest", "firing"),
        ("task_failed:send-digest", "escalated"),
    ]


def test_racing_writers_resolve_once(project: Project) -> None:
    app = project.app()
    manager = manager_on(app.store.alerts, app)
    manager.fire("heartbeat_stale", "heartbeat", "critical", "no heartbeat for 20 min")

    assert race(project, "resolve") == [
        ("heartbeat_stale:heartbeat", "firing"),
        ("heartbeat_stale:heartbeat", "resolved"),
    ]
