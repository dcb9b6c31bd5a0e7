"""The new queue laid out from the fast path's pieces (rules/fastmark), as it is written.

Lead i of the queue is pieces[i], a lead's bytes as read (msgspec.Raw, a view into the file's
buffer) or rewritten bytes, with its last byte replaced by suffixes[i]: our fields and the
closing brace where fastmark's inline case added them, else that last byte itself (`as_is`).
Two lists, not a (bytes, suffix) pair per lead: a million pairs would hold 56 MB at the
batch's peak (the suffixes are shared: a handful of marking's, and one per byte value); and a
suffix for every lead lets the leads be joined in C, by one bytes.join over memoryviews, in
half the time of a loop over them. The queue is laid out a chunk at a time, so it is never
held whole beside the file it was read from.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain, islice, repeat
from operator import getitem
from typing import Any

import msgspec

from nightly_batch.core.json_members import Chunk

# Leads formatted per call to msgspec.json.format: one call per thousand costs a third less
# than one per lead, and a thousand leads is well under a megabyte.
GROUP = 1000
_ALL_BUT_LAST = slice(None, -1)
_COMMA = b","
_view: Any = memoryview


# Formatting recurses once per level of nesting, as reading did, but from deeper in the stack
# (as the file is written) and, for an indented queue, inside an object and an array: a lead
# read just short of the recursion limit could not be written, and the run failed after its
# digest. The limit is raised by this much while a group is formatted.
FORMAT_HEADROOM = 100
_headroom = threading.Lock()  # one raise and restore at a time, so none is left raised


def format_json(data: bytes | memoryview, indent: int) -> bytes:
    """msgspec.json.format with the headroom above: whatever the fast path could read, it can
    lay out again."""
    with _headroom:
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(limit + FORMAT_HEADROOM)
        try:
            return msgspec.json.format(data, indent=indent)
        finally:
            sys.setrecursionlimit(limit)


# One bytes object per byte value: every unchanged lead's suffix is one of these, shared,
# not a new object each (56 MB at 1M leads already marked on an earlier night).
_BYTES = tuple(bytes((value,)) for value in range(256))


def as_is(piece: Any) -> bytes:
    """The suffix that leaves a piece as it is: its own last byte."""
    return _BYTES[memoryview(piece)[-1]]


def lead_bytes(piece: Any, suffix: bytes) -> bytes:
    """The lead a piece and its suffix stand for."""
    if len(suffix) == 1:
        return bytes(piece)
    return b"".join((memoryview(piece)[:-1], suffix))


def joined(pieces: Sequence[Any], suffixes: Sequence[bytes], indices: Iterable[int]) -> bytes:
    """The leads at `indices` as one compact-separated array: `[lead,lead,...]`."""
    chosen = list(indices)
    leads = _leads(map(pieces.__getitem__, chosen), map(suffixes.__getitem__, chosen))
    # One copy: leads[:-1] and each + would be one more of the whole group.
    return b"".join((b"[", memoryview(leads)[:-1], b"]")) if leads else b"[]"


def _leads(pieces: Iterable[Any], suffixes: Iterable[bytes]) -> bytes:
    """`lead,lead,...,`: each piece but its last byte, its suffix and a comma, joined in C."""
    parts: Iterable[Iterable[Any]] = zip(all_but_last(pieces), suffixes, repeat(_COMMA))
    return b"".join(chain.from_iterable(parts))


def all_but_last(pieces: Iterable[Any]) -> Iterator[memoryview]:
    """Each piece but its last byte, as a view (made in C, with no copy)."""
    return map(getitem, map(_view, pieces), repeat(_ALL_BUT_LAST))


def as_read(pieces: Sequence[Any], indices: Iterable[int]) -> bytes:
    """The leads at `indices` without their suffixes (which hold only marking's fields), as
    one array, joined in C: for reading fields marking never writes."""
    return array_of(list(map(pieces.__getitem__, indices)))


def array_of(items: Sequence[Any]) -> bytes:
    """`[item,item,...]`, joined in C in one copy (b"[%b]" % b",".join(items) copies twice
    more: 0.35 s against 0.1 s for a million leads, in a bare loop)."""
    if not items:
        return b"[]"
    between = chain.from_iterable(zip(repeat(_COMMA), islice(items, 1, None)))
    return b"".join(chain((b"[", items[0]), between, (b"]",)))


def compact_chunks(pieces: Sequence[Any], suffixes: Sequence[bytes], size: int) -> Iterator[Chunk]:
    """`[lead,lead,...]` in chunks of at most a thousand leads and, but for a single lead
    larger than that, about `size` bytes at most (the pieces counted, not the suffixes)."""
    yield b"["
    for start, stop in _spans(pieces, size):
        leads = _leads(pieces[start:stop], suffixes[start:stop])
        yield leads if stop < len(pieces) else memoryview(leads)[:-1]  # no comma after the last
    yield b"]"


def _spans(pieces: Sequence[Any], size: int) -> Iterator[tuple[int, int]]:
    """(start, stop) spans covering `pieces`, each of at most GROUP leads and about `size`
    bytes: halved while larger, down to one lead."""
    start = 0
    while start < len(pieces):
        stop = min(start + GROUP, len(pieces))
        while stop - start > 1 and sum(map(len, pieces[start:stop])) > size:
            stop = start + (stop - start) // 2
        yield start, stop
        start = stop


def indented_chunks(
    pieces: Sequence[Any], suffixes: Sequence[bytes], indent: str, size: int
) -> Iterator[Chunk]:
    """The queue laid out one level in (it is a member of the state) by `indent`, as
    JSON.stringify or json.dumps lays out a file indented by it."""
    if not pieces:
        yield bytearray(b"[]")
        return
    unit = indent.encode()
    if indent.strip(" "):
        yield from _lead_by_lead(pieces, suffixes, indent, size)
        return
    # A group formatted as the one member of an object: its leads come out two levels in,
    # where the state's queue holds them, with no line to shift (a third less time than
    # formatting the group alone and indenting each line). The wrapping is cut off again.
    opening, closing = len(b'{\n"": [') + len(unit), len(b"\n]\n}") + len(unit)
    yield b"["
    for start in range(0, len(pieces), GROUP):
        stop = min(start + GROUP, len(pieces))
        leads = _leads(pieces[start:stop], suffixes[start:stop])
        wrapped = b"".join((b'{"":[', memoryview(leads)[:-1], b"]}"))
        formatted = format_json(wrapped, len(indent))
        if start:
            yield _COMMA
        yield memoryview(formatted)[opening : len(formatted) - closing]
    yield b"\n" + unit + b"]"


def _lead_by_lead(
    pieces: Sequence[Any], suffixes: Sequence[bytes], indent: str, size: int
) -> Iterator[Chunk]:
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
    formatted = format_json(value, len(indent) if spaces else 1)
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
