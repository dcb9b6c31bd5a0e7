"""A JSON object's members as the bytes they were written as, to change some and keep the rest.

Every writer of the state changes a few top-level keys (the queue, `taskHistory`,
`lastDigestNotificationAt`); the others, and the layout between them, are written back as the
very bytes that were read. msgspec finds where each value ends (`msgspec.Raw`, in C); the keys
and the separators between members are read off the bytes around those values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from nightly_batch.core.json_literals import dump_literal, indent_of, parse_literal

_members = msgspec.json.Decoder(dict[str, msgspec.Raw])
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_WHITESPACE = re.compile(rb"[ \t\n\r]*")

Chunk = bytes | bytearray | memoryview | msgspec.Raw


class NotSplittable(Exception):  # noqa: N818  (a signal, not an error)
    """msgspec cannot read the bytes as an object (NaN, a lone surrogate, not an object)."""


@dataclass(slots=True)
class Members:
    """A JSON object file: each member's key literal and raw value, and its layout."""

    values: dict[str, tuple[bytes, msgspec.Raw]]  # key: (its literal, its value's bytes)
    opening: bytes  # between "{" and the first key
    key_separator: bytes  # between a key and its value (":" or ": ")
    item_separator: bytes  # between two members ("," or ",\n  ")
    closing: bytes  # between the last value and "}"
    tail: bytes  # after "}" (a final newline)
    indent: str | None
    starts: dict[str, int]  # key: where its value begins in the file

    def decoded(self, key: str) -> Any:
        """The member's value, each literal kept (json_literals)."""
        return parse_literal(memoryview(self.values[key][1]))

    def joined(
        self, replaced: Mapping[str, Any], raw: Mapping[str, Chunk] | None = None
    ) -> list[Chunk]:
        """The object with `replaced` values (new keys last) and `raw` ones, in pieces.

        A value in `raw` is bytes already laid out for its place; the rest keep their bytes.
        """
        raw = raw or {}
        keys = [*self.values, *(key for key in (*replaced, *raw) if key not in self.values)]
        if not keys:
            return [b"{", self.opening, b"}", self.tail]
        chunks: list[Chunk] = [b"{", self.opening]
        for number, key in enumerate(dict.fromkeys(keys)):
            if number:
                chunks.append(self.item_separator)
            literal = self.values[key][0] if key in self.values else dump_literal(key)
            chunks += [literal, self.key_separator]
            if key in raw:
                chunks.append(raw[key])
            elif key in replaced:
                chunks.append(dump_literal(replaced[key], self.indent, depth=1))
            else:
                chunks.append(self.values[key][1])
        chunks += [self.closing, b"}", self.tail]
        return chunks


def split_members(data: bytes) -> Members:
    """`data`, a JSON object, as its members; NotSplittable when msgspec cannot read it."""
    try:
        values = _members.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError, RecursionError):
        raise NotSplittable from None
    indent = indent_of(data)
    start = _skip(data, 0)
    position = _skip(data, start + 1)
    opening = data[start + 1 : position]
    found: dict[str, tuple[bytes, msgspec.Raw]] = {}
    starts: dict[str, int] = {}
    separators: list[bytes] = []
    key_separator = b":"
    for number, (key, value) in enumerate(values.items()):
        match = _STRING.match(data, position)
        if match is None:
            raise NotSplittable
        literal = match.group()
        after_key = match.end()
        position = _skip(data, after_key)
        if data[position : position + 1] != b":":
            raise NotSplittable
        position = _skip(data, position + 1)
        if number == 0:
            key_separator = data[after_key:position]
        size = len(value)
        if not _begins_at(data, position, value) or parse_literal(literal) != key:
            raise NotSplittable  # a repeated key (msgspec kept the last one)
        found[key] = (literal, value)
        starts[key] = position
        value_end = position + size
        position = _skip(data, value_end)
        if data[position : position + 1] == b",":
            position = _skip(data, position + 1)
        separators.append(data[value_end:position])
    closing = separators.pop() if separators else b""
    if data[position : position + 1] != b"}":
        raise NotSplittable
    return Members(
        values=found,
        opening=opening,
        key_separator=key_separator,
        item_separator=separators[0] if separators else b"," + opening,
        closing=closing,
        tail=data[position + 1 :],
        indent=indent,
        starts=starts,
    )


def _begins_at(data: bytes, position: int, value: msgspec.Raw) -> bool:
    """Whether `value` is what lies at `position`: its ends compared, not a copy of the queue."""
    view, size = memoryview(value), len(value)
    edge = min(size, 64)
    return (
        data[position : position + edge] == view[:edge]
        and data[position + size - edge : position + size] == view[size - edge :]
    )


def _skip(data: bytes, position: int) -> int:
    return _WHITESPACE.match(data, position).end()  # type: ignore[union-attr]
