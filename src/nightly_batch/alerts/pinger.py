"""The external dead man's switch: Healthchecks.io-style pings to HEARTBEAT_PING_URL.

`<url>/start` when a job starts, `<url>` when it succeeds, `<url>/fail` when it fails, each with
`?rid=<run id>`. Only something outside the host can notice that the host itself is gone. Pings
go out from a thread of their own with short timeouts, so a slow ping service never holds a job.
"""

from __future__ import annotations

import queue
import threading

import httpx

from nightly_batch.observability.events import get_logger
from nightly_batch.observability.redact import Redactor

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
_STOP = object()
log = get_logger(__name__)


class Pinger:
    def __init__(self, url: str, redactor: Redactor, client: httpx.Client | None = None) -> None:
        self.url = url.rstrip("/")
        self.redactor = redactor
        self.client = client or httpx.Client(timeout=TIMEOUT, follow_redirects=False)
        self._queue: queue.Queue[object] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="pinger", daemon=True)
        self._thread.start()

    def started(self, run_id: str) -> None:
        self._queue.put(("/start", run_id))

    def finished(self, run_id: str, *, ok: bool) -> None:
        self._queue.put(("" if ok else "/fail", run_id))

    def flush(self, timeout: float) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            assert isinstance(item, tuple)  # noqa: S101
            suffix, run_id = str(item[0]), str(item[1])
            try:
                response = self.client.post(f"{self.url}{suffix}", params={"rid": run_id})
                if response.status_code >= 400:
                    log.warning(
                        "ping.refused", kind=suffix or "/success", http_status=response.status_code
                    )
            except httpx.HTTPError as error:
                log.warning(
                    "ping.failed",
                    kind=suffix or "/success",
                    error=self.redactor.text(type(error).__name__),
                )
