"""Facts about other processes, read from the operating system."""

from __future__ import annotations

import os


def process_alive(pid: int | None) -> bool:
    """Whether a process with this pid exists (a run record's owner may have died)."""
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True
