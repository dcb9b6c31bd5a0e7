"""Run the nightly-batch command line and freeze (SIGSTOP) at a named point of one file's write.

    python tests/stop_at.py POINT FILE-NAME COMMAND-LINE...

A crash test kills the frozen process and then knows exactly where the kill landed, whatever
the machine's speed: the process reports reaching the point by stopping itself, and the
test sees that with waitid(WSTOPPED). POINT is one of:

- `mid-write`: the first chunk of FILE-NAME's temp file is written, the rest is not;
- `before-replace`: the temp file is complete and fsynced, the rename has not happened;
- `after-replace`: the rename and the directory fsync are done.

FILE-NAME is the base name of the target (`orchestrator_state.json`, `digest-...json`).
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from nightly_batch.cli.main import main
from nightly_batch.storage import digests as digest
from nightly_batch.storage import state

POINTS = ("mid-write", "before-replace", "after-replace")


def freeze() -> None:
    os.kill(os.getpid(), signal.SIGSTOP)


def first_then_freeze(chunks: Iterable[Any]) -> Iterator[Any]:
    """The first half of the first chunk, a freeze, then the rest: a temp file half written
    (the digest and the state are each written as many)."""
    iterator = iter(chunks)
    first = bytes(next(iterator))
    half = max(len(first) // 2, 1)
    yield first[:half]
    freeze()  # the writer asked for more, so the first half was written
    yield first[half:]
    yield from iterator


def stopping(point: str, name: str, write: Callable[..., None]) -> Callable[..., None]:
    def write_and_stop(
        target: Path, chunks: Iterable[Any], mode: int, before_replace: Any = None
    ) -> None:
        if target.name != name:
            write(target, chunks, mode, before_replace=before_replace)
            return
        if point == "mid-write":
            write(target, first_then_freeze(chunks), mode, before_replace=before_replace)
            return
        if point == "before-replace":

            def check_then_freeze() -> None:
                if before_replace is not None:
                    before_replace()
                freeze()

            write(target, chunks, mode, before_replace=check_then_freeze)
            return
        write(target, chunks, mode, before_replace=before_replace)
        freeze()

    return write_and_stop


if __name__ == "__main__":
    point, name, *argv = sys.argv[1:]
    if point not in POINTS:
        sys.exit(f"stop_at.py: the point must be one of {', '.join(POINTS)}, not {point!r}")
    # Both writers imported the function by name, so each module's own binding is replaced.
    for writer in (state, digest):
        writer.__dict__["write_atomic"] = stopping(point, name, writer.__dict__["write_atomic"])
    sys.exit(main(argv))
