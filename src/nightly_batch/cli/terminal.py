"""What the command line does for the terminal it prints to: filtered output, a closed pipe
ended quietly, and how loud the console is."""

from __future__ import annotations

import os
import sys
from typing import Any

EXIT_OK = 0


class TerminalSafe:
    """stdout or stderr at a terminal: every control character but tab and line feed (so every
    ANSI or OSC escape a lead title, an alert summary or an answer may carry) shown as `\\xNN`."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        # The log console writes here: its values are escaped already (observability's
        # plain_values), and the colours it adds are its own.
        self.raw = stream

    def write(self, text: str) -> int:
        from nightly_batch.rules.escape import terminal  # noqa: PLC0415

        safe = "\n".join("\t".join(map(terminal, line.split("\t"))) for line in text.split("\n"))
        return int(self._stream.write(safe))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def stricter(flag: str | None, level: str) -> str | None:
    """-v as asked; -q ("warning") unless the configured level is stricter still."""
    order = ("debug", "info", "warning", "error")
    if flag == "warning" and level in order and order.index(level) > order.index(flag):
        return level
    return flag


def closed_pipe() -> int:
    """`status | head -2`: the reader left, which is not an error. Python's advice: point
    stdout at /dev/null so the interpreter's own flush at exit does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return EXIT_OK
