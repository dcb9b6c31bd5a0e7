"""The baseline SPEC 10 measures against: a bare orjson round trip of a state file.

Read, parse with the cyclic GC off, mark the leads (score / 10 > 0.75), dump, write. No locking,
no fsync, no digest, no validation: the least any program doing this job could do.
Usage: python bench/roundtrip_orjson.py STATE OUT
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import orjson

USAGE = """usage: python bench/roundtrip_orjson.py STATE OUT

The baseline: read STATE, parse it with orjson (gc off), mark, dump and write OUT.
"""


def main() -> int:
    # No argparse: this script is timed, and its own start-up should be the bare minimum.
    if any(argument in ("-h", "--help") for argument in sys.argv[1:]):
        sys.stdout.write(USAGE)
        return 0
    if len(sys.argv) != 3:
        sys.stderr.write(USAGE)
        return 2
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    gc.disable()
    state = orjson.loads(source.read_bytes())
    for item in state["redditQueue"]:
        score = item.get("score")
        if isinstance(score, int | float) and min(score / 10 if score > 1 else score, 1.0) > 0.75:
            item["selectedForDraft"] = True
    target.write_bytes(orjson.dumps(state))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
