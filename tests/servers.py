"""Real servers on 127.0.0.1 for tests: a Slack-compatible webhook and an SMTP server."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


@contextlib.contextmanager
def webhook_server() -> Iterator[tuple[int, list[tuple[str, bytes]]]]:
    """Answers every POST with 200 "ok" and keeps (path, body); yields (port, received)."""
    received: list[tuple[str, bytes]] = []

    class Webhook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append((self.path, self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1], received
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def smtp_server(handler: Any) -> Iterator[int]:
    """An aiosmtpd server with `handler`; yields its port."""
    with socket.socket() as probe:  # a free port; aiosmtpd's readiness check cannot use port 0
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()
