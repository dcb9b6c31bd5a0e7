"""Serving the dashboard: `nightly-batch serve`, or a thread of the daemon on `dashboardPort`."""

from __future__ import annotations

import socket
import threading

import uvicorn

from nightly_batch.errors import ConfigError
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
    """Serve in the foreground until Ctrl-C or SIGTERM; ConfigError in one sentence when
    `host`:`port` cannot be listened on (taken, not this machine's, not an address)."""
    _try_listening(host, port)
    try:
        _server(app, host, port).run()
    except SystemExit as stop:  # uvicorn's own failure to start, after it logged why
        raise ConfigError(f"the dashboard could not start on {host}:{port}.") from stop


def _try_listening(host: str, port: int) -> None:
    """Bind `host`:`port` as asyncio will for uvicorn (every address the name has, IPv6 ones
    IPv6 only), then let go: uvicorn would log a failure and exit 3, the code this command
    gives a fenced daemon."""
    try:
        found = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
        for family, kind, protocol, _, address in dict.fromkeys(found):
            with socket.socket(family, kind, protocol) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:
                    probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                probe.bind(address)
    except socket.gaierror as error:  # not an address, or a name that resolves to none
        reason = error.strerror
    except OSError as error:
        reason = error.strerror or str(error)
    else:
        return
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
