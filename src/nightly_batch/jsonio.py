"""JSON in and out, fast with orjson and exact for values orjson cannot carry."""

from __future__ import annotations

import json
from typing import Any

import orjson


def parse_json(data: bytes) -> Any:
    """Parse JSON bytes; raises json.JSONDecodeError (with line and column) or UnicodeDecodeError."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        # orjson refuses integers beyond 64 bits and lone surrogates, which other writers of
        # these files may produce; the standard library reads both, and its error carries the
        # position of a real fault.
        return json.loads(data)


def dump_json(value: Any) -> bytes:
    """Two-space indented JSON, like the original writers."""
    try:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2)
    except TypeError:
        # Integers beyond 64 bits or lone surrogates: the standard library writes them exactly,
        # escaped to ASCII.
        return json.dumps(value, indent=2, ensure_ascii=True).encode("ascii")
