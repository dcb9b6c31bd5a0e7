"""Reading a digest without holding it: its head, then only the leads a reader shows.

A digest of a million-lead night lists a quarter of a million leads; parsed whole it takes two
gigabytes. Our digests (storage/digests via rules/digest_layout.lay_out_digest) put the head first
and then one compact lead per line, so a reader takes the head from the first kilobytes and
streams the leads line by line, decoding only those it keeps. A file laid out any other way
(written by hand, or by another program) is parsed whole instead, from the first line that is
not one whole lead: slower, never wrong.

Every read goes through the file as it was opened (core/pinned_file): a re-run that replaces
the digest meanwhile never mixes its leads with the head already read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from nightly_batch.core.jsonio import JsonSyntaxError, parse_json
from nightly_batch.core.pinned_file import PinnedFile
from nightly_batch.errors import DigestError
from nightly_batch.rules.digest_layout import listed_total
from nightly_batch.storage.digests import digest_of, find_head, head_problem

# The list's opening as we write it, from the comma before its key: its leads follow on the
# next line, or it is `[]` and the next member follows.
_OPENING = re.compile(rb',\r?\n  "redditQueue": \[(\],)?\r?\n')
_QUEUE_CLOSING = (b"  ],", b"  ]")
_LIST_END = b"\n  ]"  # no lead line holds one: they start with four spaces
_MEMBER_LINE = re.compile(rb"\n  [^ \r\n]")
_OUR_END = re.compile(rb'  "docChanges": [^\r\n]*\r?\n\}\r?\n?')  # rules/digest_layout
_TAIL_READ = 1 << 20
_validate = msgspec.json.Decoder(msgspec.Raw).decode  # the syntax only: no objects built
Lead = dict[str, Any]


@dataclass(frozen=True, slots=True)
class DigestView:
    """A digest on disk: its head (every key before the leads) and a way to its leads."""

    file: PinnedFile
    head: dict[str, Any]
    # Where the first lead's line starts, in a file laid out as we write them (else None:
    # the file is parsed whole); where the member after an empty list starts, with `empty`.
    leads_at: int | None
    empty: bool = False

    @property
    def path(self) -> Path:
        return self.file.path

    @property
    def streamed(self) -> bool:
        """One lead per line, as we write them; else the file is parsed whole."""
        return self.leads_at is not None

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
        """How many leads the digest lists: counted, not taken from its summary."""
        return sum(1 for _ in self._items())

    def after_leads(self) -> dict[str, Any]:
        """The keys the digest lists after its leads (docChanges), read past the leads."""
        try:
            rest = None if self.leads_at is None else self._after_list(self.leads_at)
        except OSError as error:
            raise _unreadable(self.path, error) from None
        if rest is not None:
            try:
                tail = parse_json(b"{" + rest) if rest.strip() not in (b"}", b"") else {}
            except JsonSyntaxError:
                tail = None
            if isinstance(tail, dict):
                return tail
        digest = self._whole()
        keys = list(digest)
        return {key: digest[key] for key in keys[keys.index("redditQueue") + 1 :]}

    def _kept(self, offset: int, keep: Callable[[Lead], bool] | None) -> Iterator[Lead]:
        skipped = 0
        for item in self._items():
            if keep is None and skipped < offset:  # counted, never decoded
                skipped += 1
                continue
            lead = item if isinstance(item, dict) else self._lead(item)
            if keep is not None and not keep(lead):
                continue
            if skipped < offset:
                skipped += 1
                continue
            yield lead

    def _items(self) -> Iterator[bytes | Lead]:
        """Each lead in order: its line, checked to be one whole object, while the file lists
        one lead per line; from the first line that is not (a lead spread over several lines
        by another writer), the rest of them parsed with the whole file."""
        if self.leads_at is None:
            yield from self._parsed()
            return
        if self.empty:
            return
        for listed, line in enumerate(_read_lines(self.file, self.leads_at)):
            bare = line.removesuffix(b"\r")
            if bare in _QUEUE_CLOSING:
                return
            item = bare.strip().removesuffix(b",")
            if not _one_object(item):
                # Every line before this one was one whole lead: they are the first
                # `listed` of the list, and none of them was left out by _parsed.
                yield from self._parsed()[listed:]
                return
            yield item
        raise DigestError(f"{self.path}: the digest ends inside its list of leads.")

    def _lead(self, line: bytes) -> Lead:
        try:
            lead = parse_json(line)
        except JsonSyntaxError as fault:
            raise DigestError(f"{self.path}: a lead line is {fault}.") from None
        if not isinstance(lead, dict):  # _one_object let it through: never, but say so
            raise DigestError(f"{self.path}: a lead is not an object.")
        return lead

    def _whole(self) -> dict[str, Any]:
        try:
            data = self.file.read_all()
        except OSError as error:
            raise _unreadable(self.path, error) from None
        return digest_of(self.path, data)

    def _parsed(self) -> list[Lead]:
        return [lead for lead in self._whole()["redditQueue"] if isinstance(lead, dict)]

    def _after_list(self, leads_at: int) -> bytes | None:
        """The bytes after the line that closes the leads, found from the end of the file in
        windows that double: the last "\\n  ]" (no lead line holds one), taken only where the
        file ends as ours do and the line before it is one whole lead; else None, and the
        file is parsed whole."""
        if self.empty:  # the member after `[],` starts at leads_at
            return self.file.read(leads_at, self.file.size())
        size = self.file.size()
        window = _TAIL_READ
        while True:
            start = max(size - window, leads_at)
            tail = self.file.read(start, size - start)
            found = tail.rfind(_LIST_END)
            before = tail.rfind(b"\n", 0, found) if found > 0 else -1
            if found != -1 and (before != -1 or start == leads_at):
                closing = tail.find(b"\n", found + 1)
                closing = len(tail) if closing == -1 else closing
                last_lead = tail[before + 1 : found].strip().removesuffix(b",")
                rest = tail[closing + 1 :]
                # Taken only as we end a digest: this "]," then docChanges on one line. Any
                # other end may hold a member laid over lines whose "]" this is (and a line
                # of two spaces' indent before it is a member's: a lead's have four).
                ours = (
                    tail[found + 1 : closing].removesuffix(b"\r") == b"  ],"
                    and _OUR_END.fullmatch(rest)
                    and not _MEMBER_LINE.search(tail, 0, found)
                )
                return rest if ours and _one_object(last_lead) else None
            if start == leads_at:
                return None
            window *= 2


def _read_lines(file: PinnedFile, offset: int) -> Iterator[bytes]:
    try:
        yield from file.lines(offset)
    except OSError as error:
        raise _unreadable(file.path, error) from None


def _unreadable(path: Path, error: OSError) -> DigestError:
    return DigestError(f"{path}: the digest file cannot be read ({error.strerror or error}).")


def _one_object(item: bytes) -> bool:
    """Whether `item` is one whole JSON object, as a full parse reads it."""
    if item[:1] != b"{":
        return False
    try:
        _validate(item)
    except msgspec.DecodeError:
        # msgspec refuses a lone surrogate, which a full parse reads (core/jsonio).
        try:
            return isinstance(parse_json(item), dict)
        except JsonSyntaxError:
            return False
    except RecursionError:  # nested too deeply: the whole parse says so in one sentence
        return False
    return True


def open_digest(path: Path) -> DigestView:
    """The digest at `path`, its head read and checked; DigestError naming the file if it is
    missing or not a digest."""
    try:
        file = PinnedFile(path)
        return _view(file)
    except FileNotFoundError:
        raise DigestError(f"{path}: the digest file does not exist.") from None
    except OSError as error:
        raise _unreadable(path, error) from None


def _view(file: PinnedFile) -> DigestView:
    found = find_head(lambda size: file.read(0, size))
    if found is None:  # not our layout: read whole
        digest = digest_of(file.path, file.read_all())
        head = {key: value for key, value in digest.items() if key != "redditQueue"}
        return DigestView(file, head, None)
    head, queue_at = found
    problem = head_problem(head)
    if problem:
        raise DigestError(f"{file.path}: not a digest ({problem}).")
    opening = _OPENING.match(file.read(queue_at, 64))
    if opening is None:
        return DigestView(file, head, None)
    leads_at, empty = queue_at + opening.end(), opening.group(1) is not None
    if not empty:
        # A file whose first lead is not one line is not ours: its summary's count is not
        # trusted either, and every reader parses it whole.
        first = next(file.lines(leads_at), b"").strip().removesuffix(b",")
        if not _one_object(first):
            return DigestView(file, head, None)
    return DigestView(file, head, leads_at, empty=empty)
