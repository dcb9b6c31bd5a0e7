"""Run a command while CPU-bound processes compete for the cores: `python tests/stress.py CMD...`.

A test whose verdict depends on the machine's speed fails here; `make test-stress` runs the
suite this way. The two burners (as many as the project's machine has cores) stop when the
command ends, however it ends; the command's exit code is returned.
"""

from __future__ import annotations

import subprocess
import sys

BURN = "while True: pass"
BURNERS = 2


def main(command: list[str]) -> int:
    if not command:
        sys.exit("usage: python tests/stress.py COMMAND [ARGUMENTS...]")
    burners = [subprocess.Popen([sys.executable, "-c", BURN]) for _ in range(BURNERS)]
    try:
        return subprocess.call(command)
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
