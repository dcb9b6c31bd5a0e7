"""The new queue laid out from the fast path's pieces (rules/fastmark), as it is written.

A piece is a lead's bytes as read (msgspec.Raw, a view into the file's buffer), the same with
its closing brace replaced by our fields (a (Raw, suffix) pair), or rewritten bytes. The queue
is laid out a chunk at a time, so it is never held whole beside the file it was read from.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import msgspec

# Leads formatted per call to msgspec.json.format: one call per thousand costs a third less
# than one per lead, and a thousand leads is well under a megabyte.
GROUP = 1000


def lead_bytes(piece: Any) -> bytes:
    """The lead a piece stands for."""
    if type(piece) is tuple:
        raw, suffix = piece
        return b"".join((memoryview(raw)[:-1], suffix))
    return bytes(piece)


def joined(pieces: Sequence[Any], indices: Iterable[int]) -> bytearray:
    """The leads at `indices` as one compact-separated array: `[lead,lead,...]`."""
    buffer = bytearray(b"[")
    for number, index in enumerate(indices):
        if number:
            buffer += b","
        piece = pieces[index]
        if type(piece) is tuple:
            buffer += piece[0]
            buffer[-1:] = piece[1]
        else:
            buffer += piece
    buffer += b"]"
    return buffer


def as_read(pieces: Sequence[Any], indices: Iterable[int]) -> bytes:
    """The leads at `indices` as read, before marking added its fields (an inline piece's
    suffix holds only those), as one array: joined in C, for reading fields marking never
    writes."""
    leads = [
        piece[0] if type(piece) is tuple else piece for piece in map(pieces.__getitem__, indices)
    ]
    return b"[%b]" % b",".join(leads)


def compact_chunks(pieces: Sequence[Any], size: int) -> Iterator[bytearray]:
    """`[lead,lead,...]` in chunks of about `size` bytes."""
    buffer = bytearray(b"[")
    for number, piece in enumerate(pieces):
        if number:
            buffer += b","
        if type(piece) is tuple:
            buffer += piece[0]
            buffer[-1:] = piece[1]
        else:
            buffer += piece
        if len(buffer) >= size:
            yield buffer  # written before the generator resumes, so it is not reused
            buffer = bytearray()
    buffer += b"]"
    yield buffer


def indented_chunks(pieces: Sequence[Any], indent: str, size: int) -> Iterator[bytearray]:
    """The queue laid out one level in (it is a member of the state) by `indent`, as
    JSON.stringify or json.dumps lays out a file indented by it."""
    if not pieces:
        yield bytearray(b"[]")
        return
    unit = indent.encode()
    if indent.strip(" "):
        yield from _lead_by_lead(pieces, indent, size)
        return
    # A group formatted as one array, then shifted one level in: a raw line break only ever
    # separates members (a JSON string cannot hold one).
    yield bytearray(b"[")
    for start in range(0, len(pieces), GROUP):
        group = joined(pieces, range(start, min(start + GROUP, len(pieces))))
        shifted = bytearray(
            msgspec.json.format(group, indent=len(indent)).replace(b"\n", b"\n" + unit)
        )
        del shifted[len(shifted) - len(unit) - 2 :]  # its own "\n" + unit + "]"
        shifted[:1] = b"," if start else b""  # its own "["
        yield shifted
    yield bytearray(b"\n" + unit + b"]")


def _lead_by_lead(pieces: Sequence[Any], indent: str, size: int) -> Iterator[bytearray]:
    """An indent that is not spaces (a tab): each lead laid out on its own."""
    unit = indent.encode()
    buffer = bytearray(b"[")
    for index, piece in enumerate(pieces):
        buffer += b",\n" if index else b"\n"
        buffer += unit * 2  # the queue is a member of the state: its leads are two in
        buffer += indented(lead_bytes(piece), indent, 2)
        if len(buffer) >= size:
            yield buffer
            buffer = bytearray()
    buffer += b"\n" + unit + b"]"
    yield buffer


def indented(value: bytes | memoryview, indent: str, depth: int) -> bytes:
    """`value` (one lead) laid out `depth` levels in, as JSON.stringify (or json.dumps) lays
    out a file indented by `indent`."""
    spaces = indent.strip(" ") == ""
    formatted = msgspec.json.format(value, indent=len(indent) if spaces else 1)
    unit = indent.encode()
    if spaces:
        # A raw line break only ever separates members (a JSON string cannot hold one).
        return formatted.replace(b"\n", b"\n" + unit * depth)
    # Formatted one space per level, each level's line breaks become the unit's: deepest
    # first, so a shallower pattern (a prefix of the deeper ones) only meets its own lines.
    deepest = 0
    while b"\n" + b" " * (deepest + 1) in formatted:
        deepest += 1
    for level in range(deepest, 0, -1):
        formatted = formatted.replace(b"\n" + b" " * level, b"\n" + unit * (level + depth))
    if formatted.endswith((b"\n}", b"\n]")):  # the value's own closing line
        formatted = formatted[:-1] + unit * depth + formatted[-1:]
    return formatted
