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

from nightly_batch.core.json_literals import parse_literal
from nightly_batch.errors import NightlyBatchError

_decoder = msgspec.json.Decoder()
_encoder = msgspec.json.Encoder()
_text_encoder = msgspec.json.Encoder(enc_hook=str)


class JsonSyntaxError(ValueError):
    """Bytes that are not JSON; the text says where ("not valid JSON at line 3, column 8 (...)")."""


def parse_json(data: bytes | bytearray) -> Any:
    """Parse JSON bytes to read them (not to write them back: see json_literals); raises
    JsonSyntaxError. What msgspec refuses (NaN, a lone surrogate) the standard library reads;
    for a real fault, its error carries the line and column."""
    try:
        return _decoder.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError):
        pass
    except RecursionError:
        raise JsonSyntaxError("nested too deeply to read") from None
    try:
        return json.loads(data)
    except json.JSONDecodeError as error:
        raise syntax_error(error) from None
    except (ValueError, RecursionError):
        pass  # an integer beyond Python's 4300 digits beside a number msgspec refuses
    try:
        return parse_literal(data)
    except (ValueError, RecursionError) as error:
        raise syntax_error(error) from None


def syntax_error(error: ValueError | RecursionError) -> JsonSyntaxError:
    """The standard library's parse failure as one JsonSyntaxError sentence."""
    if isinstance(error, json.JSONDecodeError):
        return JsonSyntaxError(
            f"not valid JSON at line {error.lineno}, column {error.colno} ({error.msg})"
        )
    if isinstance(error, UnicodeDecodeError):
        return JsonSyntaxError(f"not valid UTF-8 at byte {error.start}")
    if isinstance(error, RecursionError):
        return JsonSyntaxError("nested too deeply to read")
    # Python refuses integers of more than 4300 digits (a denial-of-service guard).
    return JsonSyntaxError(f"not readable JSON ({error})")


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


def dump_json(value: Any, *, indent: bool = False) -> bytes:
    """Compact JSON of our own values, or two-space indented when `indent` is set.

    Values read from a file another program shares are written with json_literals instead.
    """
    data = _encoder.encode(value)
    return msgspec.json.format(data, indent=2) if indent else data


def to_text(value: Any, *, indent: bool = False) -> str:
    """JSON text for output and logs; values JSON has no type for are written as strings."""
    data = _text_encoder.encode(value)
    return (msgspec.json.format(data, indent=2) if indent else data).decode()
