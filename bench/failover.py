"""Takeover time on two hosts: the leader SIGKILLed, until the standby holds the lease.

Usage: pg_virtualenv -t -v 15 .venv/bin/python bench/failover.py [--kills 10] [--lease 30]

Needs a PostgreSQL server that libpq's environment names (pg_virtualenv sets it). Two daemons
(`nightly-batch run`, each in its own temp folder, one database) start; then, `--kills` times,
the leader is killed at a random moment and the time until the lease row shows the other
daemon under a new epoch is measured, by the database's clock seen from here; the killed
daemon is started again as the standby. Prints each takeover, the median and the maximum.
docs/HIGH_AVAILABILITY.md promises 90 s; with the default 30 s lease the bound is 45 s.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

NIGHTLY = str(Path(sys.executable).parent / "nightly-batch")


def lease(connection: psycopg.Connection[tuple[object, ...]]) -> tuple[str, int] | None:
    try:
        row = connection.execute(
            "SELECT holder, epoch FROM leader_lease WHERE name = 'leader' AND expires_at > now()"
        ).fetchone()
    except psycopg.errors.UndefinedTable:
        return None  # the first daemon is still creating the tables
    return (str(row[0]), int(str(row[1]))) if row else None


def start(folder: Path, node: str, url: str, lease_seconds: float) -> subprocess.Popen[bytes]:
    folder.mkdir(exist_ok=True)
    config = folder / "config.json"
    config.write_text(
        f'{{"stateFile": "state.json", "logsDir": "logs", "leaderLeaseSeconds": {lease_seconds}}}'
    )
    environ = {
        **os.environ,
        "NIGHTLY_BATCH_DATABASE_URL": url,
        "NIGHTLY_BATCH_NODE": node,
        "NIGHTLY_BATCH_LOG_LEVEL": "warning",
    }
    return subprocess.Popen(
        [NIGHTLY, "run", "--config", str(config)],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=(folder / "daemon.err").open("ab"),
    )


def wait_for_lease(
    connection: psycopg.Connection[tuple[object, ...]], after_epoch: int, timeout: float
) -> tuple[str, int]:
    """The lease once it is held under an epoch above `after_epoch`: (holder, epoch)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        held = lease(connection)
        if held is not None and held[1] > after_epoch:
            return held
        time.sleep(0.05)
    raise SystemExit(f"no lease as expected after {timeout:g} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--lease", type=float, default=30.0)
    arguments = parser.parse_args()
    name = f"failover_{uuid.uuid4().hex[:8]}"
    with psycopg.connect("", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"dbname={name}"
    rng = random.Random(18)
    takeovers = []
    with tempfile.TemporaryDirectory() as root, psycopg.connect(url, autocommit=True) as db:
        daemons = {
            node: start(Path(root) / node, node, url, arguments.lease) for node in ("a", "b")
        }
        try:
            holder, epoch = wait_for_lease(db, 0, 120)
            for kill in range(arguments.kills):
                # Anywhere within a renewal interval after the lease settled.
                time.sleep(rng.uniform(2.0, 2.0 + arguments.lease / 3))
                killed_at = time.monotonic()
                daemons[holder].send_signal(signal.SIGKILL)
                daemons[holder].wait()
                old = holder
                holder, epoch = wait_for_lease(db, epoch, 300)
                takeovers.append(time.monotonic() - killed_at)
                print(f"kill {kill + 1}: {old} -> {holder} in {takeovers[-1]:.1f} s", flush=True)
                daemons[old] = start(Path(root) / old, old, url, arguments.lease)
        finally:
            for process in daemons.values():
                process.send_signal(signal.SIGTERM)
            for process in daemons.values():
                process.wait(60)
    with psycopg.connect("", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    print(
        f"\nlease {arguments.lease:g} s, {len(takeovers)} kills: takeover median "
        f"{statistics.median(takeovers):.1f} s, maximum {max(takeovers):.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
