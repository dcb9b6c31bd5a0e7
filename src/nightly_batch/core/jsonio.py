"""JSON in and out: msgspec on the fast path, the standard library for what msgspec refuses.

msgspec was chosen over orjson because orjson reads an integer beyond 64 bits as a float,
silently changing a value another program wrote; msgspec keeps it exact, and decodes a large
queue two to three times faster on this project's benchmarks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec

from nightly_batch.errors import NightlyBatchError

_decoder = msgspec.json.Decoder()
_encoder = msgspec.json.Encoder()
_text_encoder = msgspec.json.Encoder(enc_hook=str)


class JsonSyntaxError(ValueError):
    """Bytes that are not JSON; the text says where ("not valid JSON at line 3, column 8 (...)")."""


def parse_json(data: bytes) -> Any:
    """Parse JSON bytes; raises JsonSyntaxError."""
    return parse_json_exact(data)[0]


def read_json_file(path: Path, what: str, error: type[NightlyBatchError]) -> Any:
    """The parsed file; a missing or unreadable one is `error` naming it and `what` it is
    ("the config file"). A JsonSyntaxError passes through: each caller words its own."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise error(f"{path}: {what} does not exist.") from None
    except OSError as failure:
        raise error(f"{path}: {what} cannot be read ({failure.strerror}).") from None
    return parse_json(data)


def parse_json_exact(data: bytes) -> tuple[Any, bool]:
    """Parse JSON bytes; the flag says the value must be written back with `dump_json(exact=True)`.

    Lone surrogates and NaN or Infinity literals, which other writers may produce, are read by the
    standard library. msgspec would write NaN back as null, so such a value takes the exact path
    out as well. For a real fault, the standard library's error carries the line and column.
    """
    try:
        return _decoder.decode(data), False
    except (msgspec.DecodeError, UnicodeDecodeError):
        pass
    except RecursionError:
        raise JsonSyntaxError("nested too deeply to read") from None
    try:
        return json.loads(data), True
    except json.JSONDecodeError as error:
        raise JsonSyntaxError(
            f"not valid JSON at line {error.lineno}, column {error.colno} ({error.msg})"
        ) from None
    except UnicodeDecodeError as error:
        raise JsonSyntaxError(f"not valid UTF-8 at byte {error.start}") from None
    except RecursionError:
        raise JsonSyntaxError("nested too deeply to read") from None
    except ValueError as error:
        # Python refuses integers of more than 4300 digits (a denial-of-service guard).
        raise JsonSyntaxError(f"not readable JSON ({error})") from None


def dump_json(value: Any, *, indent: bool = False, exact: bool = False) -> bytes:
    """Compact JSON, or two-space indented like the original writers when `indent` is set."""
    if exact:
        separators = (",", ": ") if indent else (",", ":")
        return json.dumps(value, indent=2 if indent else None, separators=separators).encode()
    data = _encoder.encode(value)
    return msgspec.json.format(data, indent=2) if indent else data


def to_text(value: Any, *, indent: bool = False) -> str:
    """JSON text for output and logs; values JSON has no type for are written as strings."""
    data = _text_encoder.encode(value)
    return (msgspec.json.format(data, indent=2) if indent else data).decode()
