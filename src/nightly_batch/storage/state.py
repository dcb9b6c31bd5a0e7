"""The shared state file `orchestrator_state.json`: the only module that reads or writes it.

Other programs (the sweeper, the reply drafter) write the same file. The protocol they can
cooperate with: an exclusive flock on the sidecar `<state>.lock` around read-change-write, and an
atomic replace. The lock is on a separate file because os.replace gives the state a new inode,
and a lock on the old inode would protect nothing.

Keys and fields we do not own pass through untouched, byte for byte: a writer changes the
top-level keys it owns (`read_keys`/`write_keys`) and the other members keep the bytes they were
read as; where the whole file must be rebuilt (`parse_exact`/`write`), every number and string
literal is written back as it was read, non-ASCII stays UTF-8, no number is written non-finite,
and an indented file keeps its indentation (core/json_literals).
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from nightly_batch.core.atomic import keep_copy, sweep_stale_temps, write_atomic
from nightly_batch.core.json_literals import dump_literal, indent_of, parse_literal
from nightly_batch.core.json_members import Members, NotSplittable, split_members
from nightly_batch.core.jsonio import JsonSyntaxError, parse_json, syntax_error
from nightly_batch.core.locks import FileLock
from nightly_batch.errors import BusyError, ConflictError, StateError, WriteError
from nightly_batch.rules.shapes import State

NEW_FILE_MODE = 0o600
BOM = b"\xef\xbb\xbf"


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Keep the cyclic GC off while millions of fresh, acyclic JSON objects are alive.

    Each collection would walk every one of them, which goes quadratic over a large parse;
    plain JSON values hold no cycles, so reference counting frees them all the same.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def parse_state(path: Path, data: bytes, *, exact: bool = False) -> State:
    """Parse state bytes (`exact`: keeping every literal); a fault names the position."""
    try:
        state = _parse_exact(data) if exact else parse_json(data)
    except JsonSyntaxError as fault:
        raise StateError(f"{path}: {fault}; the file was left untouched.") from None
    if not isinstance(state, dict):
        raise StateError(
            f"{path}: the top level must be a JSON object, not {type(state).__name__}; "
            "the file was left untouched."
        )
    return state


def _parse_exact(data: bytes) -> object:
    try:
        return parse_literal(data)
    except (ValueError, RecursionError) as error:
        raise syntax_error(error) from None


class StateTransaction:
    """Read and write the state while holding its lock; created by SharedStateStore.transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: tuple[int, int, int] | None = None  # the file as read: inode, size, mtime
        self._read = False
        self._members: Members | None = None
        self._whole: State | None = None
        # The file's layout, read with it: the bytes themselves are not kept, so a batch can
        # let go of a 500 MB file while it writes the new one.
        self.indent: str | None = None
        self.tail = b""

    def read_bytes(self) -> bytes | None:
        """The file's bytes; None when there is no state file yet."""
        self._read = True
        try:
            with self.path.open("rb") as handle:
                self._seen = _identity(os.fstat(handle.fileno()))
                data = handle.read()
        except FileNotFoundError:
            self._seen, self.indent, self.tail = None, None, b""
            return None
        except OSError as error:
            raise StateError(f"{self.path}: cannot be read ({error.strerror}).") from None
        if data.startswith(BOM):
            # JSON forbids it (RFC 8259, 8.1) and Node's JSON.parse fails on it: the sweeper
            # could not read the file either, so it is refused before anything is written.
            raise StateError(
                f"{self.path}: starts with a UTF-8 byte-order mark, which JSON does not allow; "
                "remove its first three bytes. The file was left untouched."
            )
        self.indent = indent_of(data)
        end = len(data)
        while end and data[end - 1] in b" \t\r\n":  # no copy of the whole file
            end -= 1
        self.tail = data[end:]
        return data

    def read(self) -> State:
        """The current state to read (a missing file is an empty one). Its values have lost
        their literals: to change the file, use read_keys, or parse_exact for all of it."""
        data = self.read_bytes()
        return {} if data is None else parse_state(self.path, data)

    def parse_exact(self, data: bytes | None) -> State:
        """`data` (read_bytes) as a state whose every value keeps its literal, for `write`.

        The standard library's pure-Python scanner: about ten times slower than `read`.
        """
        return {} if data is None else parse_state(self.path, data, exact=True)

    def read_keys(self, *keys: str) -> State:
        """The top-level values of `keys` that the file has, each literal kept, for write_keys.

        Only those are parsed. A file msgspec cannot split (a NaN, a lone surrogate) is parsed
        whole, and write_keys rebuilds it from that.
        """
        data = self.read_bytes()
        self._members = self._whole = None
        if data is None:
            return {}
        try:
            self._members = split_members(data)
        except NotSplittable:
            self._whole = parse_state(self.path, data, exact=True)
            return {key: self._whole[key] for key in keys if key in self._whole}
        try:
            return {key: self._members.decoded(key) for key in keys if key in self._members.values}
        except (ValueError, RecursionError) as error:
            raise StateError(
                f"{self.path}: {syntax_error(error)}; the file was left untouched."
            ) from None

    def write_keys(self, values: State) -> None:
        """Replace the file with `values` set (after read_keys); every other member keeps its
        bytes, and a new key goes last."""
        if self._members is not None:
            self.write_bytes(self._members.joined(values))
            return
        self.write({**(self._whole or {}), **values})

    def write(self, state: State) -> None:
        """Replace the file atomically with `state`, in the file's own layout, keeping the
        previous version as `.bak`."""
        self.write_bytes([dump_literal(state, self.indent), self.tail])

    def write_bytes(self, chunks: Iterable[bytes | bytearray | memoryview | Any]) -> None:
        """Replace the file atomically with `chunks`, keeping the previous version as `.bak`."""
        try:
            if self.path.exists():
                mode = self.path.stat().st_mode & 0o777
                keep_copy(self.path, self.path.with_name(self.path.name + ".bak"))
            else:
                mode = NEW_FILE_MODE
            write_atomic(self.path, chunks, mode, before_replace=self._unchanged)
        except OSError as error:
            raise WriteError(
                f"{self.path}: the new state could not be written ({error.strerror or error}); "
                "the previous state is unchanged."
            ) from None

    def _unchanged(self) -> None:
        """Refuse to replace a file another program rewrote behind the lock since we read it.

        Writers that take the lock cannot do that; one that ignores it would otherwise lose
        its change (a queued lead) to our replace. The run is retried and reads it afresh.
        """
        if not self._read:
            return
        try:
            now = _identity(self.path.stat())
        except FileNotFoundError:
            now = None
        if now != self._seen:
            raise ConflictError(
                f"{self.path}: changed by another program that does not take the lock "
                f"({self.path.name}.lock) while this run was working; nothing was written."
            )


def _identity(status: os.stat_result) -> tuple[int, int, int]:
    return status.st_ino, status.st_size, status.st_mtime_ns


class SharedStateStore:
    """The shared state file and its lock protocol."""

    def __init__(self, path: Path, lock_timeout: float = 60.0) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")
        self.lock_timeout = lock_timeout

    @contextlib.contextmanager
    def transaction(self) -> Iterator[StateTransaction]:
        """Hold the exclusive lock for one read-change-write."""
        lock = FileLock(self.lock_path, like=self.path)

        def waiting(holder: str) -> None:
            # Imported here: reading the state must not load the logging stack (status).
            from nightly_batch.observability.events import get_logger  # noqa: PLC0415

            get_logger(__name__).warning(
                "state.lock_waiting",
                lock=str(self.lock_path),
                holder_pid=holder,
                waiting_up_to_s=self.lock_timeout,
            )

        try:
            acquired = lock.acquire(self.lock_timeout, record_pid=True, on_wait=waiting)
        except OSError as error:
            raise StateError(
                f"{self.lock_path}: the lock file cannot be opened ({error.strerror})."
            ) from None
        if not acquired:
            raise BusyError(
                f"{self.lock_path}: another process has held the state lock for more than "
                f"{self.lock_timeout:g} s; nothing was changed."
            )
        try:
            sweep_stale_temps(self.path)
            yield StateTransaction(self.path)
        finally:
            lock.release()

    def read(self) -> State:
        """A consistent snapshot, taken under the lock."""
        with self.transaction() as transaction:
            return transaction.read()
