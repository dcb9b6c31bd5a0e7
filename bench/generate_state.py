"""Write a realistic state file: queue items shaped like the sweeper's, ~430 bytes each,
25 % above the threshold, a few keys other programs own.

Usage: python bench/generate_state.py COUNT PATH
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from leadgen import make_state_bytes

USAGE = """usage: python bench/generate_state.py COUNT PATH

Writes a shared state of COUNT leads to PATH, shaped as the sweeper writes it.
"""


def main() -> int:
    # No argparse: this script is timed, and its own start-up should be the bare minimum.
    if any(argument in ("-h", "--help") for argument in sys.argv[1:]):
        sys.stdout.write(USAGE)
        return 0
    if len(sys.argv) != 3:
        sys.stderr.write(USAGE)
        return 2
    count, target = int(sys.argv[1]), Path(sys.argv[2])
    target.write_bytes(make_state_bytes(count))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
