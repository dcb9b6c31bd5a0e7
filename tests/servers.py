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


class TcpProxy:
    """A loopback TCP proxy to `target` that can stop forwarding without closing anything:
    a silent partition, as a cut cable or a dropped route looks to both ends (no RST, no FIN;
    data sent is simply never answered). `heal` forwards again, on connections made since."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.forwarding = threading.Event()
        self.forwarding.set()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._sockets: list[socket.socket] = []
        self._closed = False
        threading.Thread(target=self._accept, name="tcp-proxy", daemon=True).start()

    def partition(self) -> None:
        self.forwarding.clear()

    def heal(self) -> None:
        """Forward again; connections that lived through the partition are closed (their
        peers have long given up on them), so both ends reconnect."""
        for held in list(self._sockets):
            with contextlib.suppress(OSError):
                held.close()
        self.forwarding.set()

    def close(self) -> None:
        self._closed = True
        self._server.close()
        self.heal()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            self._sockets.append(client)
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        self.forwarding.wait()  # a connection made during the partition hangs, unanswered
        if self._closed:
            return
        try:
            upstream = socket.create_connection(self.target)
        except OSError:
            client.close()
            return
        self._sockets.append(upstream)
        for source, sink in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                break
            if not data:
                break
            if not self.forwarding.is_set():
                continue  # swallowed: the other end never hears of it
            try:
                sink.sendall(data)
            except OSError:
                break
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.close()


@contextlib.contextmanager
def tcp_proxy(target: tuple[str, int]) -> Iterator[TcpProxy]:
    proxy = TcpProxy(target)
    try:
        yield proxy
    finally:
        proxy.close()
