"""A file read as it stood when it was opened, by offset, as many times as a reader needs.

A reader that takes a digest's head first and its leads later must not mix two versions of
it when a re-run replaces the file in between: the replacement is a rename, which leaves the
opened file whole and unchanged, so every read goes through the one descriptor opened first.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterator
from pathlib import Path

# The first read of the lines is small (a reader often wants only the first twenty); those
# after it grow to a megabyte, where a pass over hundreds of megabytes costs the least.
_FIRST_READ = 64 * 1024
_LARGEST_READ = 1 << 20


class PinnedFile:
    """The file at `path`, opened once; closed by `close()` or when no longer referenced."""

    def __init__(self, path: Path) -> None:
        self.path = path
        descriptor = os.open(path, os.O_RDONLY)
        self._descriptor = descriptor
        self._close = weakref.finalize(self, os.close, descriptor)

    def close(self) -> None:
        self._close()

    def size(self) -> int:
        return os.fstat(self._descriptor).st_size

    def read(self, offset: int, size: int) -> bytes:
        """Up to `size` bytes from `offset` (fewer at the end of the file)."""
        parts = []
        while size > 0:
            part = os.pread(self._descriptor, size, offset)
            if not part:
                break
            parts.append(part)
            offset += len(part)
            size -= len(part)
        return b"".join(parts)

    def read_all(self) -> bytes:
        return self.read(0, self.size())

    def lines(self, offset: int = 0) -> Iterator[bytes]:
        """Each line from `offset`, without its "\\n"; the last one even if no "\\n" ends it."""
        pending: list[bytes] = []  # the start of a line that runs past the bytes read so far
        chunk_size = _FIRST_READ
        while chunk := os.pread(self._descriptor, chunk_size, offset):
            offset += len(chunk)
            chunk_size = min(chunk_size * 2, _LARGEST_READ)
            lines = chunk.split(b"\n")
            if len(lines) == 1:
                pending.append(chunk)
                continue
            if pending:
                pending.append(lines[0])
                lines[0] = b"".join(pending)
            pending = [lines.pop()]
            yield from lines
        last = b"".join(pending)
        if last:
            yield last
