"""Dashboard handlers never block the event loop: a page stuck on a slow store or disk leaves
every other request answering (issue 14: handlers do no blocking I/O on the loop)."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import uvicorn

from conftest import Project
from daemon_process import wait_for
from nightly_batch.storage.port import RuntimeStore
from nightly_batch.storage.records import RunRecord
from nightly_batch.web.app import create_dashboard


class StuckStore:
    """The real store, except that `last_runs` waits until the test lets it go on."""

    def __init__(self, store: RuntimeStore) -> None:
        self._store = store
        self.entered = threading.Event()
        self.release = threading.Event()

    def last_runs(self) -> dict[str, RunRecord]:
        self.entered.set()
        self.release.wait(120)
        return self._store.last_runs()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def test_a_page_stuck_in_the_store_leaves_the_other_pages_answering(project: Project) -> None:
    app = project.live_a_day()
    store = StuckStore(app.store)
    dashboard = create_dashboard(app.config, store, clock=app.clock)
    server = uvicorn.Server(
        uvicorn.Config(dashboard, host="127.0.0.1", port=0, log_config=None, access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    stuck: list[httpx.Response] = []
    try:
        wait_for(lambda: server.started, 20, "the dashboard to listen")
        base = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
        overview = threading.Thread(target=lambda: stuck.append(httpx.get(base + "/", timeout=120)))
        overview.start()
        assert store.entered.wait(30), "the overview never reached the store"

        # The overview's handler is waiting inside the store; on the event loop, this would wait too.
        other = httpx.get(base + "/digests", timeout=60)

        assert other.status_code == 200
        assert "digest-" in other.text
        assert not stuck, "the overview answered before the store let it"
        store.release.set()
        overview.join(60)
        assert [response.status_code for response in stuck] == [200]
    finally:
        store.release.set()
        server.should_exit = True
        thread.join(10)
