"""Measure the idle daemon: resident memory and CPU over a minute (SPEC 10: <= 80 MB, < 1 %).

Usage: .venv/bin/python bench/idle_daemon.py [--seconds 60]
Starts `nightly-batch run` on a throwaway config in a temp folder, lets it settle, then reads
/proc for the CPU time it used and its resident set size over the window.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONFIG = '{"stateFile": "state.json", "logsDir": "logs", "heartbeatMinutes": 1}'


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--settle", type=float, default=5.0)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "config.json"
        config.write_text(CONFIG)
        command = [sys.executable, "-m", "nightly_batch", "run", "--config", str(config)]
        daemon = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(arguments.settle)
            before = cpu_seconds(daemon.pid)
            started = time.monotonic()
            rss = []
            while time.monotonic() - started < arguments.seconds:
                rss.append(memory_kib(daemon.pid, "VmRSS"))
                time.sleep(1)
            used = cpu_seconds(daemon.pid) - before
            elapsed = time.monotonic() - started
            peak = memory_kib(daemon.pid, "VmHWM")
        finally:
            daemon.send_signal(signal.SIGTERM)
            code = daemon.wait(30)
    print("| measure | value |")
    print("| --- | --- |")
    print(f"| window | {elapsed:.0f} s after {arguments.settle:.0f} s to settle |")
    print(f"| CPU | {used:.2f} s = {100 * used / elapsed:.2f} % of a core |")
    print(
        f"| RSS | {max(rss) / 1024:.1f} MiB at most in the window, {rss[-1] / 1024:.1f} MiB at its end |"
    )
    print(f"| peak RSS since start (VmHWM) | {peak / 1024:.1f} MiB |")
    print(f"| exit code on SIGTERM | {code} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
