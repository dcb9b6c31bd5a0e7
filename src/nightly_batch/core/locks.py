"""Advisory flock locks on dedicated lock files.

flock locks belong to the open file description, so they are released when the descriptor is
closed, also when the process dies: a killed holder never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from nightly_batch.errors import BusyError

LOCK_MODE = 0o600
POLL_SECONDS = 0.05
# A wait this long is worth saying who is in the way.
SAY_AFTER_SECONDS = 2.0


class FileLock:
    """An exclusive lock on `path`, optionally recording the holder's pid in the file."""

    def __init__(self, path: Path, like: Path | None = None) -> None:
        """`like`: a file whose group (and group read and write) a newly created lock file
        takes, so other programs of that group can lock it too (the state's sweeper)."""
        self.path = path
        self.like = like
        self._fd: int | None = None

    def acquire(
        self,
        timeout: float = 0.0,
        *,
        record_pid: bool = False,
        on_wait: Callable[[str], object] | None = None,
    ) -> bool:
        """Take the lock, waiting up to `timeout` seconds; False if another holder kept it.

        `on_wait(holder)` is called once after SAY_AFTER_SECONDS of waiting, so a wait of a
        minute is never silent about who is in the way.
        """
        fd = self._open()
        started = time.monotonic()
        deadline = started + timeout
        said = on_wait is None
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                now = time.monotonic()
                if now >= deadline:
                    os.close(fd)
                    return False
                if not said and now - started >= SAY_AFTER_SECONDS:
                    said = True
                    assert on_wait is not None  # noqa: S101  (for mypy)
                    on_wait(self.holder())
                # An Event wait, not time.sleep: it is what the rest of the daemon waits on.
                threading.Event().wait(POLL_SECONDS)
            else:
                break
        if record_pid:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return True

    def _open(self) -> int:
        try:
            return os.open(self.path, os.O_RDWR)
        except FileNotFoundError:
            pass
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, LOCK_MODE)
        if self.like is not None:
            try:
                shared = self.like.stat()
            except FileNotFoundError:
                return fd
            with contextlib.suppress(PermissionError):
                os.fchown(fd, -1, shared.st_gid)
            os.fchmod(fd, LOCK_MODE | (shared.st_mode & 0o060))
        return fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def holder(self) -> str:
        """The pid the current holder recorded, or 'unknown'."""
        try:
            return self.path.read_text().strip() or "unknown"
        except OSError:
            return "unknown"

    @contextlib.contextmanager
    def held(self, timeout: float, busy_message: str) -> Iterator[None]:
        """Hold the lock for a block; BusyError with `busy_message` if it cannot be had in time."""
        if not self.acquire(timeout):
            raise BusyError(busy_message)
        try:
            yield
        finally:
            self.release()
