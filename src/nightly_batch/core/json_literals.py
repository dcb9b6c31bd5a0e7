"""JSON that keeps what other programs wrote: every number and string literal, byte for byte.

The state file is shared with the sweeper and the reply drafter, so a value this daemon does not
change must come back exactly as its writer wrote it (`2.50` stays `2.50`, `"\\u00e9"` stays
escaped, `"café"` stays UTF-8). The parsed values are the usual Python ones, computed with as
usual; those read from the file carry their literal (`FloatLiteral`, `IntLiteral`, `StrLiteral`)
and are written back from it. A new value is written as JSON: non-ASCII as UTF-8, and a
non-finite number (which JSON has no literal for) as null, as JavaScript's JSON.stringify does.
`NaN` and `Infinity`, which are not JSON but which Python's json module writes, are read and
written back as null for the same reason. A literal such as `1e999` is valid JSON and is kept.

Built on the standard library's pure-Python scanner, because only it lets a string's literal
be kept: seven seconds for 100k leads, so the batch uses it only for what its fast path leaves.
"""

from __future__ import annotations

import json
import json.decoder
import json.scanner
import re
from collections.abc import Callable
from typing import Any, Self

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_BYTES_WHITESPACE = re.compile(rb"[ \t\n\r]*")
# A surrogate code point has no UTF-8 form; a string holding one is written escaped.
_SURROGATE = re.compile("[\ud800-\udfff]")
_NON_FINITE = ("NaN", "Infinity", "-Infinity")


class FloatLiteral(float):
    """A number read with a fraction or an exponent, and its text (`2.50`, `1E5`, `1e999`)."""

    __slots__ = ("literal",)
    literal: str

    def __new__(cls, literal: str) -> Self:
        number = super().__new__(cls, literal)
        number.literal = literal
        return number

    def __repr__(self) -> str:
        return self.literal  # "score 1e999 is not a finite number", not "inf"

    def __reduce__(self) -> tuple[type[FloatLiteral], tuple[str]]:
        return (FloatLiteral, (self.literal,))


class IntLiteral(int):
    """An integer whose text is not what Python would write for it (`-0`)."""

    literal: str

    def __new__(cls, literal: str) -> Self:
        number = super().__new__(cls, literal)
        number.literal = literal
        return number

    def __reduce__(self) -> tuple[type[IntLiteral], tuple[str]]:
        return (IntLiteral, (self.literal,))


class StrLiteral(str):
    """A string read from JSON, and its literal with the quotes (`"caf\\u00e9"`)."""

    __slots__ = ("literal",)
    literal: str

    def __new__(cls, value: str, literal: str) -> Self:
        text = super().__new__(cls, value)
        text.literal = literal
        return text

    def __reduce__(self) -> tuple[type[StrLiteral], tuple[str, str]]:
        # copy.deepcopy and pickle rebuild it from both parts.
        return (StrLiteral, (str(self), self.literal))


def _parse_int(text: str) -> int | float:
    try:
        number = int(text)
    except ValueError:
        # Beyond Python's 4300 digits for a string conversion (a denial-of-service guard): a
        # number beyond any float, kept as its text like `1e999`.
        return FloatLiteral(text)
    return IntLiteral(text) if str(number) != text else number


def _parse_string(text: str, end: int, strict: bool) -> tuple[str, int]:
    value, after = json.decoder.py_scanstring(text, end, strict)  # type: ignore[attr-defined]
    literal = text[end - 1 : after]
    # A literal that is what we would write anyway needs no copy of its own.
    return (value if literal == _quote(value) else StrLiteral(value, literal)), after


def _parse_object(
    text_and_end: tuple[str, int],
    strict: bool,
    scan_once: Callable[[str, int], tuple[Any, int]],
    *_: object,
) -> tuple[dict[str, Any], int]:
    """An object, its keys scanned like values so that their literals are kept too."""
    text, end = text_and_end
    pairs: dict[str, Any] = {}
    end = _WHITESPACE.match(text, end).end()  # type: ignore[union-attr]
    if text[end : end + 1] == "}":
        return pairs, end + 1
    while True:
        if text[end : end + 1] != '"':
            raise json.JSONDecodeError(
                "Expecting property name enclosed in double quotes", text, end
            )
        key, end = _parse_string(text, end + 1, strict)
        end = _WHITESPACE.match(text, end).end()  # type: ignore[union-attr]
        if text[end : end + 1] != ":":
            raise json.JSONDecodeError("Expecting ':' delimiter", text, end)
        end = _WHITESPACE.match(text, end + 1).end()  # type: ignore[union-attr]
        try:
            value, end = scan_once(text, end)
        except StopIteration as stop:
            raise json.JSONDecodeError("Expecting value", text, stop.value) from None
        pairs.pop(key, None)  # a repeated key: the last one wins, in its own place
        pairs[key] = value
        end = _WHITESPACE.match(text, end).end()  # type: ignore[union-attr]
        following = text[end : end + 1]
        if following == "}":
            return pairs, end + 1
        if following != ",":
            raise json.JSONDecodeError("Expecting ',' delimiter", text, end)
        end = _WHITESPACE.match(text, end + 1).end()  # type: ignore[union-attr]


class _LiteralDecoder(json.JSONDecoder):
    def __init__(self) -> None:
        super().__init__(
            parse_float=FloatLiteral, parse_int=_parse_int, parse_constant=FloatLiteral
        )
        self.parse_string = _parse_string
        self.parse_object = _parse_object
        self.scan_once = json.scanner.py_make_scanner(self)  # type: ignore[attr-defined]


_decoder = _LiteralDecoder()


def parse_literal(data: bytes | bytearray | memoryview | str) -> Any:
    """Parse JSON, keeping each literal; raises json.JSONDecodeError, UnicodeDecodeError or
    RecursionError like json.loads."""
    text = data if isinstance(data, str) else bytes(data).decode()
    return _decoder.decode(text)


def _quote(value: str) -> str:
    if _SURROGATE.search(value):
        return json.encoder.encode_basestring_ascii(value)
    return json.encoder.encode_basestring(value)


_KEYWORDS = {None: "null", True: "true", False: "false"}


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return value.literal if type(value) is StrLiteral else _quote(value)
    if value is None or isinstance(value, bool):
        return _KEYWORDS[value]
    if type(value) in (FloatLiteral, IntLiteral):
        return "null" if value.literal in _NON_FINITE else str(value.literal)
    if isinstance(value, float):
        return repr(value) if value - value == 0 else "null"  # inf - inf and nan are nan
    if isinstance(value, int):
        return int.__repr__(value)
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def dump_literal(value: Any, indent: str | None = None, depth: int = 0) -> bytes:
    """JSON for `value`, with the literals it was read with; compact, or laid out as
    JSON.stringify(value, null, indent) does (which is also Python's json.dumps(indent=...))
    when `indent` is given, starting `depth` levels in."""
    parts: list[str] = []
    _write(value, indent, depth, parts)
    return "".join(parts).encode()


def _write(value: Any, indent: str | None, depth: int, parts: list[str]) -> None:
    if isinstance(value, dict):
        if not value:
            parts.append("{}")
            return
        inner, outer, colon = _layout(indent, depth)
        parts.append("{")
        for number, (key, item) in enumerate(value.items()):
            parts.append(inner if number == 0 else "," + inner)
            parts.append(_scalar(key) if isinstance(key, str) else _quote(str(key)))
            parts.append(colon)
            _write(item, indent, depth + 1, parts)
        parts.append(outer + "}")
    elif isinstance(value, list | tuple):
        if not value:
            parts.append("[]")
            return
        inner, outer, _ = _layout(indent, depth)
        parts.append("[")
        for number, item in enumerate(value):
            parts.append(inner if number == 0 else "," + inner)
            _write(item, indent, depth + 1, parts)
        parts.append(outer + "]")
    else:
        parts.append(_scalar(value))


def _layout(indent: str | None, depth: int) -> tuple[str, str, str]:
    """(what opens each member, what closes the container, the key separator)."""
    if indent is None:
        return "", "", ":"
    return "\n" + indent * (depth + 1), "\n" + indent * depth, ": "


def indent_of(data: bytes | bytearray | memoryview) -> str | None:
    """The indentation unit of a laid-out JSON object (two spaces, four, a tab), None if compact.

    A JSON string cannot hold a raw line break, so a line break after the opening brace is
    layout, and the whitespace between it and the first key is one unit.
    """
    head = bytes(data[:4096])
    opening = head.find(b"{")
    newline = head.find(b"\n", opening + 1) if opening != -1 else -1
    if newline == -1:
        return None
    layout = _BYTES_WHITESPACE.match(head, newline + 1).group()  # type: ignore[union-attr]
    if head[newline + 1 + len(layout) : newline + 2 + len(layout)] != b'"':
        return None  # no member follows: a line break at the end, or an empty object
    unit = layout.replace(b"\r", b"\n").rsplit(b"\n", 1)[-1]
    return unit.decode() or None
