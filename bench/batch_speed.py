"""SPEC 10's speed and memory targets, measured as whole processes in one run.

For each queue size it runs, interleaved and several times: `nightly-batch run-once
nightly-batch`, a bare orjson round trip of the same file (bench/roundtrip_orjson.py), and at
100k jq doing only the marking; then the heartbeat, `status` and `--help` at 1k and 1M leads.
It prints wall time, CPU time and peak RSS (medians) and the ratios as markdown tables, how
much faster than jq the batch is, and `--help` against importing the CLI (21 paired runs).

Usage: .venv/bin/python bench/batch_speed.py [--runs 5] [--sizes 100000,1000000]
Needs orjson (`pip install -e '.[bench]'`) and jq.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
PYTHON = sys.executable
# The installed command, as an operator (and systemd) runs it; `python -m` would add runpy.
NIGHTLY = str(Path(PYTHON).parent / "nightly-batch")
JQ_MARK = ".redditQueue |= map(if ((.score / 10) > 0.75) then .selectedForDraft = true else . end)"


@dataclass
class Sample:
    wall: float
    cpu: float
    rss_mb: float


def measure(command: list[str], *, stdout: Path | None = None) -> Sample:
    """Run `command` once; wall time, user+system CPU and peak RSS of the process."""
    started = time.perf_counter()
    sink = stdout.open("wb") if stdout else subprocess.DEVNULL
    try:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
    finally:
        if stdout:
            sink.close()  # type: ignore[union-attr]
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed")
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def median(samples: list[Sample]) -> Sample:
    return Sample(
        statistics.median(s.wall for s in samples),
        statistics.median(s.cpu for s in samples),
        statistics.median(s.rss_mb for s in samples),
    )


def state_file(count: int) -> Path:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"state-{count}.json"
    if not path.exists():
        subprocess.run([PYTHON, str(HERE / "generate_state.py"), str(count), str(path)], check=True)
    return path


def project(folder: Path) -> Path:
    config = folder / "config.json"
    config.write_text('{"stateFile": "state.json", "logsDir": "logs", "digestTimeZone": "UTC"}')
    return config


def batch_table(sizes: list[int], runs: int, verdicts: list[str]) -> list[str]:
    lines = [
        "| leads | file | command | wall s | CPU s | peak RSS MB | wall ratio | RSS ratio |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for count in sizes:
        source = state_file(count)
        size_mb = source.stat().st_size / 1e6
        results: dict[str, list[Sample]] = {
            "nightly-batch": [],
            "orjson round trip": [],
            "jq marking": [],
        }
        with tempfile.TemporaryDirectory() as folder:
            base = Path(folder)
            config = project(base)
            for _ in range(runs):
                shutil.copyfile(source, base / "state.json")
                shutil.rmtree(base / "logs", ignore_errors=True)
                results["nightly-batch"].append(
                    measure(
                        [
                            NIGHTLY,
                            "run-once",
                            "nightly-batch",
                            "--config",
                            str(config),
                        ]
                    )
                )
                results["orjson round trip"].append(
                    measure(
                        [
                            PYTHON,
                            str(HERE / "roundtrip_orjson.py"),
                            str(source),
                            str(base / "out.json"),
                        ]
                    )
                )
                if count <= 100_000 and shutil.which("jq"):
                    results["jq marking"].append(
                        measure(["jq", "-c", JQ_MARK, str(source)], stdout=base / "jq.json")
                    )
        baseline = median(results["orjson round trip"])
        for name, samples in results.items():
            if not samples:
                continue
            m = median(samples)
            lines.append(
                f"| {count:,} | {size_mb:.0f} MB | {name} | {m.wall:.2f} | {m.cpu:.2f} | {m.rss_mb:.0f} "
                f"| {m.wall / baseline.wall:.2f}x | {m.rss_mb / baseline.rss_mb:.2f}x |"
            )
        if results["jq marking"]:
            ours, jq = median(results["nightly-batch"]).wall, median(results["jq marking"]).wall
            verdicts.append(f"At {count:,} leads nightly-batch is {jq / ours:.2f}x faster than jq.")
    return lines


def flat_table(runs: int) -> list[str]:
    """Heartbeat, status and --help beside a 1k and a 1M queue, interleaved run by run."""
    lines = [
        "| command | 1k leads, wall s | 1M leads, wall s | ratio |",
        "| --- | --- | --- | --- |",
    ]
    sizes = (1000, 1_000_000)
    samples: dict[tuple[str, int], list[Sample]] = {}
    with tempfile.TemporaryDirectory() as folder:
        configs = {}
        for count in sizes:
            base = Path(folder) / str(count)
            base.mkdir()
            configs[count] = str(project(base))
            shutil.copyfile(state_file(count), base / "state.json")
            subprocess.run(
                [NIGHTLY, "run-once", "nightly-batch", "--config", configs[count]],
                check=True,
                capture_output=True,
            )
        for _ in range(runs):
            for count in sizes:
                commands = {
                    "run-once heartbeat": [
                        NIGHTLY,
                        "run-once",
                        "heartbeat",
                        "--config",
                        configs[count],
                    ],
                    "status": [NIGHTLY, "status", "--config", configs[count]],
                    "--help": [NIGHTLY, "--help"],
                }
                for name, command in commands.items():
                    samples.setdefault((name, count), []).append(measure(command))
    for name in ("run-once heartbeat", "status", "--help"):
        small, large = (median(samples[name, count]).wall for count in sizes)
        lines.append(f"| {name} | {small:.3f} | {large:.3f} | {large / small:.2f}x |")
    return lines


def help_table(runs: int) -> list[str]:
    """--help against importing the CLI module alone: interleaved, with paired differences."""
    commands = {
        "--help": [NIGHTLY, "--help"],
        "import nightly_batch.cli.main": [PYTHON, "-c", "import nightly_batch.cli.main"],
    }
    walls: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            walls[name].append(measure(command).wall)
    differences = [
        h - i for h, i in zip(walls["--help"], walls["import nightly_batch.cli.main"], strict=True)
    ]
    return [
        "| command | median wall ms |",
        "| --- | --- |",
        *(f"| {name} | {statistics.median(w) * 1000:.1f} |" for name, w in walls.items()),
        f"| --help minus import, paired median | {statistics.median(differences) * 1000:.1f} |",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", default="100000,1000000")
    arguments = parser.parse_args()
    sizes = [int(size) for size in arguments.sizes.split(",")]
    verdicts: list[str] = []
    print("\n".join(batch_table(sizes, arguments.runs, verdicts)))
    print("\n".join(["", *verdicts, ""]))
    print("\n".join(flat_table(arguments.runs)))
    print()
    print("\n".join(help_table(max(21, arguments.runs))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
