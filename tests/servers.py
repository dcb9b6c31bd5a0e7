"""Real servers on 127.0.0.1 for tests: a Slack-compatible webhook and an SMTP server."""

from __future__ import annotations

import contextlib
import errno
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

# (status, headers, body) a webhook answers with: Slack's own success.
Answer = tuple[int, dict[str, str], bytes]
OK: Answer = (200, {}, b"ok")


@contextlib.contextmanager
def webhook_server(
    answer: Callable[[], Answer] | None = None,
) -> Iterator[tuple[int, list[tuple[str, bytes]]]]:
    """Keeps each POST's (path, body) and answers it with `answer()` (status, headers, body),
    200 "ok" by default; a test changes its answer between steps. Yields (port, received)."""
    received: list[tuple[str, bytes]] = []

    class Webhook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append((self.path, self.rfile.read(int(self.headers["Content-Length"]))))
            status, headers, body = answer() if answer is not None else OK
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

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
    """An aiosmtpd server with `handler`; yields its port.

    aiosmtpd's readiness check cannot use port 0, so a free port is probed; another process
    can take it before aiosmtpd binds it, and then another probe is tried.
    """
    for _ in range(10):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        try:
            controller.start()
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                raise
            continue
        try:
            yield port
        finally:
            controller.stop()
        return
    raise RuntimeError("no free port for the SMTP server after 10 tries")


@contextlib.contextmanager
def refused_port() -> Iterator[int]:
    """A port where a connection is refused for as long as the block runs.

    The socket stays bound but never listens, so no other process can start listening there
    (a probed and closed port could be taken by one).
    """
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield holder.getsockname()[1]
