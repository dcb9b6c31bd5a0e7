"""Serving the dashboard: `nightly-batch serve`, or a thread of the daemon on `dashboardPort`."""

from __future__ import annotations

import os
import socket
import threading

import structlog
import uvicorn

from nightly_batch.errors import ConfigError
from nightly_batch.runtime.app import App
from nightly_batch.web.app import create_dashboard

log = structlog.get_logger(__name__)


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
    """Serve in the foreground until Ctrl-C or SIGTERM; ConfigError in one sentence when
    `host`:`port` cannot be listened on (taken, not this machine's, not an address)."""
    listening = _listening(host, port)
    log.info("dashboard.listening", url=f"http://{host}:{listening.getsockname()[1]}")
    _server(app, host, port).run(sockets=[listening])


def _listening(host: str, port: int) -> socket.socket:
    # Bound here, not by uvicorn: it logs a failure to bind and exits 3, which this
    # command's exit codes give to a fenced daemon.
    try:
        family, _, _, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        return socket.create_server(address, family=family, backlog=2048)
    except socket.gaierror as error:  # not an address, or a name that resolves to none
        reason = error.strerror
    except OSError as error:  # the system's own words: create_server adds the address
        reason = os.strerror(error.errno) if error.errno else str(error)
    raise ConfigError(f"the dashboard cannot listen on {host}:{port} ({reason}).")


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
