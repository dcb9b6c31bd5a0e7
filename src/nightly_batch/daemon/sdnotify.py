"""systemd's notify protocol without libsystemd: one datagram of KEY=VALUE lines to $NOTIFY_SOCKET.

Outside systemd (no NOTIFY_SOCKET) every call is a no-op. A failure to notify is logged and
otherwise ignored, as sd_notify(3) recommends: the daemon's work matters more than the message.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping

from nightly_batch.observability.events import get_logger

log = get_logger(__name__)


class SystemdNotifier:
    """Sends READY=1, STATUS=..., WATCHDOG=1 and STOPPING=1 to the service manager."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        environ = os.environ if environ is None else environ
        self.address = environ.get("NOTIFY_SOCKET") or None
        usec = environ.get("WATCHDOG_USEC", "")
        pid = environ.get("WATCHDOG_PID", "")
        # WATCHDOG_PID names the process the watchdog is meant for; a child must not ping.
        mine = not pid or pid == str(os.getpid())
        self.watchdog_seconds = int(usec) / 1_000_000 if usec.isdigit() and mine else None

    def notify(self, **fields: str) -> bool:
        """Send `fields` as one message (READY="1" -> "READY=1"); True if it was sent."""
        if self.address is None:
            return False
        payload = "\n".join(f"{key}={value}" for key, value in fields.items()).encode()
        address = self.address
        if address.startswith("@"):
            address = "\0" + address[1:]  # the abstract socket namespace
        elif not address.startswith("/"):
            log.warning("systemd.notify_unsupported", address=self.address)
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.connect(address)
                sock.sendall(payload)
        except OSError as error:
            log.warning("systemd.notify_failed", error=str(error))
            return False
        return True
