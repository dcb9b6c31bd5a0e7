"""The new queue laid out from the fast path's pieces (rules/fastmark), as it is written.

Lead i of the queue is pieces[i], a lead's bytes as read (msgspec.Raw, a view into the file's
buffer) or rewritten bytes, with its closing brace replaced by suffixes[i] (our fields) when
that is not None. Two lists, not a (bytes, suffix) pair per lead: a million pairs would hold
56 MB at the batch's peak. The queue is laid out a chunk at a time, so it is never held whole
beside the file it was read from.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import msgspec

# Leads formatted per call to msgspec.json.format: one call per thousand costs a third less
# than one per lead, and a thousand leads is well under a megabyte.
GROUP = 1000


def lead_bytes(piece: Any, suffix: bytes | None) -> bytes:
    """The lead a piece and its suffix stand for."""
    if suffix is not None:
        return b"".join((memoryview(piece)[:-1], suffix))
    return bytes(piece)


def joined(
    pieces: Sequence[Any], suffixes: Sequence[bytes | None], indices: Iterable[int]
) -> bytearray:
    """The leads at `indices` as one compact-separated array: `[lead,lead,...]`."""
    buffer = bytearray(b"[")
    for index in indices:
        buffer += pieces[index]
        if (suffix := suffixes[index]) is not None:
            buffer[-1:] = suffix
        buffer += b","
    buffer[-1:] = b"]"  # the last comma, or the opening bracket of no lead at all
    if len(buffer) == 1:
        buffer[:] = b"[]"
    return buffer


def as_read(pieces: Sequence[Any], indices: Iterable[int]) -> bytes:
    """The leads at `indices` as read, before marking added its fields (a suffix holds only
    those), as one array: joined in C, for reading fields marking never writes."""
    return b"[%b]" % b",".join(map(pieces.__getitem__, indices))


def compact_chunks(
    pieces: Sequence[Any], suffixes: Sequence[bytes | None], size: int
) -> Iterator[bytearray]:
    """`[lead,lead,...]` in chunks of about `size` bytes."""
    buffer = bytearray(b"[")
    for number, (piece, suffix) in enumerate(zip(pieces, suffixes, strict=True)):
        if number:
            buffer += b","
        buffer += piece
        if suffix is not None:
            buffer[-1:] = suffix
        if len(buffer) >= size:
            yield buffer  # written before the generator resumes, so it is not reused
            buffer = bytearray()
    buffer += b"]"
    yield buffer


def indented_chunks(
    pieces: Sequence[Any], suffixes: Sequence[bytes | None], indent: str, size: int
) -> Iterator[bytearray]:
    """The queue laid out one level in (it is a member of the state) by `indent`, as
    JSON.stringify or json.dumps lays out a file indented by it."""
    if not pieces:
        yield bytearray(b"[]")
        return
    unit = indent.encode()
    if indent.strip(" "):
        yield from _lead_by_lead(pieces, suffixes, indent, size)
        return
    # A group formatted as one array, then shifted one level in: a raw line break only ever
    # separates members (a JSON string cannot hold one).
    yield bytearray(b"[")
    for start in range(0, len(pieces), GROUP):
        group = joined(pieces, suffixes, range(start, min(start + GROUP, len(pieces))))
        shifted = bytearray(
            msgspec.json.format(group, indent=len(indent)).replace(b"\n", b"\n" + unit)
        )
        del shifted[len(shifted) - len(unit) - 2 :]  # its own "\n" + unit + "]"
        shifted[:1] = b"," if start else b""  # its own "["
        yield shifted
    yield bytearray(b"\n" + unit + b"]")


def _lead_by_lead(
    pieces: Sequence[Any], suffixes: Sequence[bytes | None], indent: str, size: int
) -> Iterator[bytearray]:
    """An indent that is not spaces (a tab): each lead laid out on its own."""
    unit = indent.encode()
    buffer = bytearray(b"[")
    for index, (piece, suffix) in enumerate(zip(pieces, suffixes, strict=True)):
        buffer += b",\n" if index else b"\n"
        buffer += unit * 2  # the queue is a member of the state: its leads are two in
        buffer += indented(lead_bytes(piece, suffix), indent, 2)
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
