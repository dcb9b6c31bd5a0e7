"""The nightly batch against a bare orjson round trip, on every realistic shape of state.

Usage: .venv/bin/python bench/batch_shapes.py [--sizes 100000,1000000] [--runs 3]
       [--layouts compact,dumps,indented] [--nightly PATH]

Shapes: written compact, with `json.dumps`'s defaults (", " and ": ") and indented by two
spaces; scores as raw keyword sums (5..15) and as 4-decimal floats; 5 % and 50 % of the leads
selected. For each shape and size the batch (`nightly-batch run-once nightly-batch`, on a
fresh copy of the state each run) and bench/roundtrip_orjson.py on the same file run
interleaved; the medians, their ratio and their difference are printed. Issue 17's targets:
within 1.0x at 1M leads, within 0.15 s at 100k.

`--nightly` names the command to time, by default the one beside this interpreter. The test
environment holds rich (import-linter's), which structlog imports whenever it is installed:
about 0.1 s a process that an installed daemon does not pay. To time the daemon as installed:
`python3 -m venv /tmp/runtime && /tmp/runtime/bin/pip install .`, then
`--nightly /tmp/runtime/bin/nightly-batch`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from leadgen import make_state  # noqa: E402

NIGHTLY = str(Path(sys.executable).parent / "nightly-batch")
LAYOUTS = {
    "compact": {"separators": (",", ":")},
    "dumps": {},
    "indented": {"indent": 2},
}


def shaped_state(count: int, scores: str, selected: float) -> dict[str, object]:
    """A state of `count` leads whose scores are `scores` ("raw" or "float"), `selected` of
    them above the default threshold (0.75, a raw sum above 7.5)."""
    state = make_state(count)
    rng = random.Random(11)
    for lead in state["redditQueue"]:
        above = rng.random() < selected
        if scores == "raw":
            lead["score"] = rng.randint(8, 15) if above else rng.randint(5, 7)
        else:
            lead["score"] = round(rng.uniform(0.7501, 1) if above else rng.uniform(0, 0.75), 4)
    return state


def write_shape(count: str, scores: str, selected: str, layout: str, path: str) -> None:
    """Write one shape of state to `path`."""
    state = shaped_state(int(count), scores, float(selected))
    text = json.dumps(state, ensure_ascii=False, **LAYOUTS[layout])  # type: ignore[arg-type]
    Path(path).write_text(text)


@dataclass(frozen=True)
class Measured:
    """One command's run: wall time, the kernel's CPU times and its peak RSS (from wait4)."""

    wall: float
    user: float
    system: float
    peak_mb: float


def measured(command: list[str], env: dict[str, str] | None = None) -> Measured:
    """The command's wall time, CPU times (s) and peak RSS (MB).

    The page cache is written back first: the state copied in for the batch, or the round
    trip's output (480 MB at 1M leads), would otherwise be written back during the next
    command, taking the disk and a core from it. The batch, which fsyncs its own files, is
    held up by that; the round trip, which syncs nothing, hardly.
    """
    os.sync()
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, command)
    return Measured(elapsed, usage.ru_utime, usage.ru_stime, usage.ru_maxrss / 1024)


# The least use of each: pydantic v2 imports its validation machinery (and looks for its
# plugins) only when the first model is built, about 0.08 s that `import pydantic` alone
# does not show; structlog is configured by its first logger.
IN_USE = """import pydantic, structlog
class Lead(pydantic.BaseModel):
    score: int
Lead(score=1)
structlog.get_logger().bind(lead=1)
"""


def libraries_start_up(python: str, runs: int = 9) -> tuple[float, float]:
    """What the specified libraries the batch uses (pydantic, structlog) add to a bare start
    of `python` (the batch's own interpreter: another environment may hold other packages,
    such as rich, which structlog imports whenever it is installed): imported alone, and
    imported and used once. SPEC 10 accepts their start-up at 100k, and nothing more."""
    bare = statistics.median(measured([python, "-c", "pass"]).wall for _ in range(runs))
    imported = [measured([python, "-c", "import pydantic, structlog"]).wall for _ in range(runs)]
    used = [measured([python, "-c", IN_USE]).wall for _ in range(runs)]
    return statistics.median(imported) - bare, statistics.median(used) - bare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--layouts", default=",".join(LAYOUTS), help="a comma-separated subset")
    parser.add_argument("--nightly", default=NIGHTLY, help="the nightly-batch command to time")
    parser.add_argument("--write", nargs=5, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.write:
        write_shape(*arguments.write)
        return
    sizes = [int(size) for size in arguments.sizes.split(",")]
    beside = Path(arguments.nightly).parent / "python"
    imported, start_up = libraries_start_up(str(beside) if beside.exists() else sys.executable)
    print(
        f"pydantic and structlog start-up: {imported:.2f} s imported, {start_up:.2f} s in use "
        "(a model built and validated, a logger bound; median of 9), with the batch's own "
        "interpreter\n"
    )
    # The CPU columns tell where each one's time goes: the round trip's is mostly the
    # kernel's (the page faults of a 3 GB parse), which a virtual machine makes dear and
    # uneven; the batch's is mostly its own.
    print(
        "| leads | layout | scores | selected | batch s | round trip s | ratio | difference s "
        "| less start-up s | batch peak MB | batch user/sys s | round trip user/sys s |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        config = work / "config.json"
        config.write_text(json.dumps({"stateFile": "state.json", "logsDir": "logs"}))
        environ = {**os.environ, "NIGHTLY_BATCH_LOG_LEVEL": "warning"}
        # An installed daemon starts from bytecode (pip compiles it on install): a shell that
        # forbids writing it would add the compiling of every module to every run.
        environ.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", str(HERE.parent / "src")], check=True
        )
        layouts = arguments.layouts.split(",")
        shapes = itertools.product(sizes, layouts, ("raw", "float"), (0.05, 0.5))
        for count, layout, scores, selected in shapes:
            source = work / "source.json"
            # Made by a child: a parent holding the state's objects would lend its memory to
            # every process it forks, and the kernel counts that in the child's peak RSS.
            shape = [str(count), scores, str(selected), layout, str(source)]
            subprocess.run([sys.executable, __file__, "--write", *shape], check=True)
            batch: list[Measured] = []
            baseline: list[Measured] = []
            for _ in range(arguments.runs):
                shutil.copyfile(source, work / "state.json")
                shutil.rmtree(work / "logs", ignore_errors=True)
                batch.append(
                    measured(
                        [arguments.nightly, "run-once", "nightly-batch", "--config", str(config)],
                        environ,
                    )
                )
                round_trip = [sys.executable, str(HERE / "roundtrip_orjson.py")]
                baseline.append(
                    measured([*round_trip, str(source), str(work / "out.json")], environ)
                )
            ours = statistics.median(run.wall for run in batch)
            theirs = statistics.median(run.wall for run in baseline)
            print(
                f"| {count:,} | {layout} | {scores} | {selected:.0%} | {ours:.2f} | "
                f"{theirs:.2f} | {ours / theirs:.2f}x | {ours - theirs:+.2f} | "
                f"{ours - theirs - start_up:+.2f} | {max(run.peak_mb for run in batch):.0f} | "
                f"{_cpu(batch)} | {_cpu(baseline)} |",
                flush=True,
            )


def _cpu(runs: list[Measured]) -> str:
    """The median user and system CPU seconds of `runs`, as `user/system`."""
    user = statistics.median(run.user for run in runs)
    return f"{user:.2f}/{statistics.median(run.system for run in runs):.2f}"


if __name__ == "__main__":
    main()
