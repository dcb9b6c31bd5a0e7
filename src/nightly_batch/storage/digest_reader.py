"""Reading a digest without holding it: its head, then only the leads a reader shows.

A digest of a million-lead night lists a quarter of a million leads; parsed whole it takes two
gigabytes. Our digests (storage/digests via rules/digest_layout.lay_out_digest) put the head first
and then one compact lead per line, so a reader takes the head from the first kilobytes and
streams the leads line by line, decoding only those it keeps. A file laid out any other way
(written by hand, or by another program) is parsed whole instead: slower, never wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from nightly_batch.errors import DigestError
from nightly_batch.rules.digest_layout import listed_total
from nightly_batch.storage.digests import head_problem, read_digest, read_digest_head

_QUEUE_OPENING = b'  "redditQueue": ['
_QUEUE_EMPTY = b'  "redditQueue": [],'
_QUEUE_CLOSING = (b"  ],", b"  ]")
_LEAD_INDENT = b"    "
_LIST_END = b"\n  ]"
_CHUNK = 1 << 20
_decode = msgspec.json.Decoder().decode
Lead = dict[str, Any]


@dataclass(frozen=True, slots=True)
class DigestView:
    """A digest on disk: its head (every key before the leads) and a way to its leads."""

    path: Path
    head: dict[str, Any]
    streamed: bool  # one lead per line, as we write them; else the file is parsed whole
    empty: bool = False  # streamed, and the list of leads is `[]`

    def leads(
        self,
        offset: int = 0,
        limit: int | None = None,
        keep: Callable[[Lead], bool] | None = None,
    ) -> Iterator[Lead]:
        """The leads in order: those `keep` accepts (all by default), from the `offset`-th of
        them, at most `limit`. Only what is yielded (and what `keep` looks at) is decoded."""
        if limit is not None and limit <= 0:
            return
        for taken, lead in enumerate(self._kept(offset, keep), start=1):
            yield lead
            if limit is not None and taken >= limit:
                return

    def total(self) -> int:
        """How many leads the digest lists: its summary's `listedTotal` (else `selectedTotal`,
        in a digest from before grouping), which the batch
        writes from the very leads it lays out, so a reader need not pass over 400 MB for it;
        counted when the file is not ours or its summary has no usable count."""
        stated = listed_total(self.head["summary"], -1)
        if self.streamed and stated >= 0:
            return stated
        return self.count()

    def count(self) -> int:
        """How many leads the digest lists: counted (not taken from its summary), as line
        breaks in megabyte chunks, so a quarter of a million leads take a fraction of a second."""
        if not self.streamed:
            return len(self._parsed())
        with self.path.open("rb") as handle:
            for line in handle:
                bare = line.rstrip(b"\r\n")
                if bare == _QUEUE_EMPTY:
                    return 0
                if bare == _QUEUE_OPENING:
                    break
            count, carried = 0, b""
            while chunk := handle.read(_CHUNK):
                # Every lead line starts with four spaces, so "\n  ]" only ends the list.
                window = carried + chunk
                end = window.find(_LIST_END)
                if end != -1:
                    return count + window.count(b"\n", 0, end) + 1
                # The last bytes may begin the marker: they are counted with the next chunk.
                kept = max(len(window) - len(_LIST_END), 0)
                count += window.count(b"\n", 0, kept)
                carried = window[kept:]
        raise DigestError(f"{self.path}: the digest ends inside its list of leads.")

    def _kept(self, offset: int, keep: Callable[[Lead], bool] | None) -> Iterator[Lead]:
        if not self.streamed:
            kept = (lead for lead in self._parsed() if keep is None or keep(lead))
            for number, lead in enumerate(kept):
                if number >= offset:
                    yield lead
            return
        skipped = 0
        for line in self._lines():
            if keep is None and skipped < offset:  # counted, never decoded
                skipped += 1
                continue
            lead = _lead(self.path, line)
            if keep is not None and not keep(lead):
                continue
            if skipped < offset:
                skipped += 1
                continue
            yield lead

    def _parsed(self) -> list[Lead]:
        queue = read_digest(self.path)["redditQueue"]
        return [lead for lead in queue if isinstance(lead, dict)]

    def after_leads(self) -> dict[str, Any]:
        """The keys the digest lists after its leads (docChanges), read past the leads."""
        if not self.streamed:
            digest = read_digest(self.path)
            keys = list(digest)
            following = keys[keys.index("redditQueue") + 1 :]
            return {key: digest[key] for key in following}
        rest = self._after_list()
        if rest is None:
            return {}
        try:
            tail = _decode(b"{" + rest) if rest.strip() not in (b"}", b"") else {}
        except msgspec.DecodeError:
            return {}
        return tail if isinstance(tail, dict) else {}

    def _after_list(self) -> bytes | None:
        """The bytes after the line that closes the leads, found from the end of the file
        (the last "\\n  ]" in it: no lead line can hold one), in windows that double."""
        with self.path.open("rb") as handle:
            if self.empty:  # the empty list is a line of the head's end
                for line in handle:
                    if line.rstrip(b"\r\n") == _QUEUE_EMPTY:
                        return handle.read()
                return None
            size = handle.seek(0, 2)
            window = _CHUNK
            while True:
                start = max(size - window, 0)
                handle.seek(start)
                tail = handle.read()
                found = tail.rfind(_LIST_END)
                if found != -1:
                    closing = tail.find(b"\n", found + 1)
                    return tail[closing + 1 :] if closing != -1 else b""
                if start == 0:
                    return None
                window *= 2

    def _lines(self) -> Iterator[bytes]:
        """The raw lead lines, without their trailing commas."""
        with self.path.open("rb") as handle:
            for line in handle:
                if line.rstrip(b"\r\n") in (_QUEUE_OPENING, _QUEUE_EMPTY):
                    break
            else:
                raise DigestError(f"{self.path}: the digest ends before its leads.")
            if line.rstrip(b"\r\n") == _QUEUE_EMPTY:
                return
            for line in handle:
                bare = line.rstrip(b"\r\n")
                if bare in _QUEUE_CLOSING:
                    return
                yield bare.removesuffix(b",")
        raise DigestError(f"{self.path}: the digest ends inside its list of leads.")


def _lead(path: Path, line: bytes) -> Lead:
    try:
        lead = _decode(line)
    except msgspec.DecodeError as error:
        raise DigestError(f"{path}: a lead line is not valid JSON ({error}).") from None
    if not isinstance(lead, dict):
        raise DigestError(f"{path}: a lead is not an object.")
    return lead


def open_digest(path: Path) -> DigestView:
    """The digest at `path`, its head read and checked; DigestError naming the file if it is
    missing or not a digest."""
    head = read_digest_head(path)
    problem = _head_problem(head)
    if problem:
        raise DigestError(f"{path}: not a digest ({problem}).")
    if "redditQueue" in head:  # read whole: not our layout
        without = {key: value for key, value in head.items() if key != "redditQueue"}
        return DigestView(path, without, streamed=False)
    layout = _layout(path)
    return DigestView(path, head, streamed=layout is not None, empty=layout == "empty")


def _layout(path: Path) -> str | None:
    """ "leads": one lead per line under the opening line we write; "empty": `[]`; None: any
    other layout (a lead spread over several lines by another writer, say)."""
    with path.open("rb") as handle:
        for line in handle:
            bare = line.rstrip(b"\r\n")
            if bare == _QUEUE_EMPTY:
                return "empty"
            if bare == _QUEUE_OPENING:
                first = next(handle, b"").rstrip(b"\r\n")
                if not first.startswith(_LEAD_INDENT + b"{"):
                    return None
                try:
                    lead = _decode(first.removesuffix(b","))
                except msgspec.DecodeError:
                    return None
                return "leads" if isinstance(lead, dict) else None
    return None


def _head_problem(head: dict[str, Any]) -> str | None:
    if "redditQueue" in head and not isinstance(head["redditQueue"], list):
        return "'redditQueue' is missing or not a list"
    return head_problem(head)
