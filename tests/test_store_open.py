"""A new runtime store opened by several processes at once (the daemon starting while `status`
runs, a test polling the daemon's store): every one of them opens it, none fails."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from nightly_batch.storage.sqlite import SqliteStore

OPENERS = 4
ROUNDS = 10
# Each opener waits for the go file, so all of them open the new file at the same moment.
OPEN = """
import sys, threading
from pathlib import Path
from nightly_batch.storage.sqlite import SqliteStore
go, path = Path(sys.argv[1]), Path(sys.argv[2])
while not go.exists():
    threading.Event().wait(0.005)
SqliteStore(path).close()
"""


def test_processes_opening_a_new_store_together_all_succeed(tmp_path: Path) -> None:
    for round_number in range(ROUNDS):
        go = tmp_path / f"go-{round_number}"
        database = tmp_path / f"store-{round_number}.db"
        openers = [
            subprocess.Popen(
                [sys.executable, "-c", OPEN, str(go), str(database)],
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(OPENERS)
        ]
        go.touch()
        ended = [(p.communicate(timeout=60)[1], p.returncode) for p in openers]
        failures = [stderr for stderr, code in ended if code != 0]

        assert failures == []
        store = SqliteStore(database)
        assert store.recent_runs(10) == []  # migrated once, whole
        store.close()
