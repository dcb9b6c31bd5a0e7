"""Every script in bench/ answers --help with its usage (two answered with a traceback)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parent.parent / "bench"


@pytest.mark.parametrize("script", sorted(path.name for path in BENCH.glob("*.py")))
def test_every_bench_script_has_a_working_help(script: str) -> None:
    shown = subprocess.run(
        [sys.executable, str(BENCH / script), "--help"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.lower().startswith("usage:")
    assert "Traceback" not in shown.stderr
