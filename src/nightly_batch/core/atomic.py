"""Crash-safe file replacement: a reader sees the old file or the new one, never a torn one.

The recipe is the full one from rename(2) and fsync(2): temp file in the same directory, write,
fsync, chmod, os.replace, fsync the directory. Without the directory fsync a power cut can
forget the rename although the data reached the disk.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

TEMP_SUFFIX = ".tmp"


def temp_prefix(target: Path) -> str:
    """The prefix of the temp files written for `target`, so stale ones can be found and swept."""
    return f".{target.name}."


def fsync_directory(directory: Path) -> None:
    """Make a rename or a new directory entry in `directory` durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(
    target: Path, chunks: Iterable[Any], mode: int, before_replace: Callable[[], None] | None = None
) -> None:
    """Replace `target` with `chunks` atomically and durably. A new file gets permission bits
    `mode`; a replaced one keeps its own mode, owner and group (a state shared with a sweeper's
    group stays shared: the rename would otherwise hand it to whoever ran the batch).

    `before_replace` runs right before the rename and may raise to abandon the write.
    """
    try:
        existing: os.stat_result | None = target.stat()
    except FileNotFoundError:
        existing = None
    fd, temp_name = tempfile.mkstemp(
        prefix=temp_prefix(target), suffix=TEMP_SUFFIX, dir=target.parent
    )
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
            if existing is not None:
                _same_owner(handle.fileno(), existing)
                mode = existing.st_mode & 0o7777
            os.fchmod(handle.fileno(), mode)
        if before_replace is not None:
            before_replace()
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise
    fsync_directory(target.parent)


def _same_owner(fd: int, existing: os.stat_result) -> None:
    """The replaced file's owner and group, as far as this process may give them: root may
    give both, an owner in the file's group the group alone, anyone else neither."""
    for uid, gid in ((existing.st_uid, existing.st_gid), (-1, existing.st_gid)):
        try:
            os.fchown(fd, uid, gid)
        except PermissionError:
            continue
        return


def keep_copy(source: Path, copy: Path) -> None:
    """Make `copy` an atomic snapshot of `source` (a hard link where the file system allows it).

    A hard link costs nothing however large the file is; the later os.replace of `source` gives
    `source` a new inode, so the link keeps the old content.
    """
    with contextlib.suppress(FileNotFoundError):
        if source.samefile(copy):
            # Already a link to this very file (an earlier write failed after linking it);
            # renaming another link over it would be a no-op that leaves the temp name behind.
            return
    fd, temp_name = tempfile.mkstemp(prefix=temp_prefix(copy), suffix=TEMP_SUFFIX, dir=copy.parent)
    os.close(fd)
    temp = Path(temp_name)
    try:
        temp.unlink()
        try:
            os.link(source, temp)
        except OSError:
            shutil.copy2(source, temp)
        os.replace(temp, copy)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise


def sweep_stale_temps(target: Path) -> list[Path]:
    """Remove temp files a killed writer of `target` left behind; returns what was removed.

    Call only while holding the lock that serialises writers of `target`.
    """
    removed = []
    for leftover in target.parent.glob(temp_prefix(target) + "*" + TEMP_SUFFIX):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()
            removed.append(leftover)
    return removed
