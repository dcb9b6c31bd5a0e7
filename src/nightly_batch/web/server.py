"""Serving the dashboard: `nightly-batch serve`, or a thread of the daemon on `dashboardPort`."""

from __future__ import annotations

import threading

import uvicorn

from nightly_batch.runtime.app import App
from nightly_batch.web.app import create_dashboard


def _server(app: App, host: str, port: int) -> uvicorn.Server:
    dashboard = create_dashboard(
        app.config,
        app.store,
        token=app.environment.get("DASHBOARD_TOKEN"),
        clock=app.clock,
        node=app.environment.node,
    )
    # log_config=None: uvicorn's records go through our logging setup (and its redaction),
    # its access lines as `http.request` events (observability.processors.library_event).
    return uvicorn.Server(
        uvicorn.Config(dashboard, host=host, port=port, log_config=None, access_log=True)
    )


def serve(app: App, host: str, port: int) -> None:
    """Serve in the foreground until Ctrl-C or SIGTERM."""
    _server(app, host, port).run()


class DashboardThread:
    """The dashboard inside the daemon, stopped with it."""

    def __init__(self, app: App, host: str, port: int) -> None:
        self.server = _server(app, host, port)
        self.thread = threading.Thread(target=self.server.run, name="dashboard", daemon=True)

    def start(self) -> None:
        self.thread.start()

    @property
    def port(self) -> int | None:
        """The port it listens on once started: the one the system chose, if asked for 0."""
        if not self.server.started:
            return None
        port: int = self.server.servers[0].sockets[0].getsockname()[1]
        return port

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
