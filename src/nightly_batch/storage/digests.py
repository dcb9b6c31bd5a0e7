"""Digest files: one per business date in `digestDir`, written atomically, never silently lost.

A re-run on the same date replaces `digest-YYYY-MM-DD.json`; the replaced version is kept as
`archive/digest-YYYY-MM-DD.<batchId>.json`, where the original's `digest-*.json` glob and our
own listing do not mistake it for a current digest.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from nightly_batch.core.atomic import fsync_directory, keep_copy, sweep_stale_temps, write_atomic
from nightly_batch.core.jsonio import JsonSyntaxError, parse_json
from nightly_batch.errors import DigestError, WriteError

DIGEST_MODE = 0o640
DIRECTORY_MODE = 0o750
ARCHIVE = "archive"
_BATCH_ID = re.compile(rb'"batchId":\s*"([A-Za-z0-9-]{1,64})"')
_NAME = re.compile(r"^digest-(\d{4}-\d{2}-\d{2})\.json$")


@dataclass(frozen=True, slots=True)
class DigestFile:
    """A digest on disk and the business date its name carries."""

    day: date
    path: Path


def business_date(moment: datetime, zone: ZoneInfo) -> date:
    """The date the batch belongs to: the local date in `digestTimeZone`, not the UTC date."""
    return moment.astimezone(zone).date()


def digest_path(directory: Path, day: date) -> Path:
    return directory / f"digest-{day.isoformat()}.json"


def ensure_directory(directory: Path) -> None:
    """Create `directory` (and parents) if missing, durably."""
    if not directory.is_dir():
        directory.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
        fsync_directory(directory.parent)


def write_digest(
    directory: Path,
    day: date,
    data: bytes | bytearray | memoryview | Iterable[Any],
    *,
    sweep: bool = True,
) -> tuple[Path, Path | None]:
    """Write the day's digest (its bytes, or its chunks, made as they are written); returns
    its path and where a replaced version was kept. An exception raised by a chunk leaves no
    part of the new digest behind.

    Call only while holding the state lock: it serialises the writers of digests, so the
    temp files of a writer killed before us (a digest's size each) can be swept. Without
    the lock (a digest brought from the store of two hosts), `sweep=False`.
    """
    target = digest_path(directory, day)
    kept: Path | None = None

    def keep_replaced() -> None:
        # Once the new digest is whole on disk, right before it takes the old one's name.
        if kept is not None:
            ensure_directory(kept.parent)
            keep_copy(target, kept)
            fsync_directory(kept.parent)

    chunks = [data] if isinstance(data, bytes | bytearray | memoryview) else data
    try:
        if sweep:
            sweep_stale_temps(target)
        if target.exists():
            kept = directory / ARCHIVE / f"{target.stem}.{_previous_id(target)}.json"
            if sweep:
                sweep_stale_temps(kept)
        ensure_directory(directory)
        write_atomic(target, chunks, DIGEST_MODE, before_replace=keep_replaced)
    except OSError as error:
        raise WriteError(
            f"{target}: the digest could not be written ({error.strerror or error}); "
            "the state was not changed."
        ) from None
    return target, kept


def version_path(directory: Path, digest_date: str, batch_id: str) -> Path | None:
    """Where the version `batch_id` of a date's digest is: the current file, or the archived
    copy a re-run kept; None when neither holds it (deleted by hand)."""
    try:
        day = date.fromisoformat(digest_date)
    except ValueError:
        return None
    current = digest_path(directory, day)
    if current.exists() and _previous_id(current) == batch_id:
        return current
    kept = directory / ARCHIVE / f"{current.stem}.{batch_id}.json"
    return kept if kept.exists() else None


def _previous_id(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            head = handle.read(1024)
        # batchId is the second key of every digest we write, so the file's head has it;
        # a large digest is not read whole for it.
        found = _BATCH_ID.search(head)
        batch_id = found.group(1).decode() if found else None
    except OSError:
        batch_id = None
    if isinstance(batch_id, str) and re.fullmatch(r"[A-Za-z0-9-]{1,64}", batch_id):
        return batch_id
    # An unreadable or foreign file is still kept, under a name that cannot collide.
    return f"replaced-{time.time_ns()}"


_ARCHIVED = re.compile(r"^digest-(\d{4}-\d{2}-\d{2})\.[A-Za-z0-9-]{1,80}\.json$")


def prune_archive(directory: Path, keep: str, today: date) -> list[Path]:
    """Remove the replaced digests `keep` (digestArchiveKeep) does not keep; returns them,
    newest first.

    `keep` is a count (the newest versions by their digest's date, then by when they were
    replaced) or an age in days ("14d": versions of digests dated within the last 14 days).
    Only files named as write_digest names them are touched.
    """
    archive = directory / ARCHIVE
    if not archive.is_dir():
        return []
    versions = []
    for path in archive.iterdir():
        match = _ARCHIVED.match(path.name)
        if match is None or not path.is_file():
            continue
        try:
            day = date.fromisoformat(match.group(1))
            replaced = path.stat().st_mtime_ns
        except (ValueError, OSError):
            continue
        versions.append((day, replaced, path))
    versions.sort(reverse=True)
    if keep.endswith("d"):
        oldest = today.toordinal() - int(keep[:-1])
        doomed = [path for day, _, path in versions if day.toordinal() <= oldest]
    else:
        doomed = [path for _, _, path in versions[int(keep) :]]
    removed = []
    for path in doomed:
        try:
            path.unlink()
        except OSError:
            continue
        removed.append(path)
    if removed:
        fsync_directory(archive)
    return removed


def list_digests(directory: Path) -> list[DigestFile]:
    """Current digests, newest business date first; archived and foreign files are ignored."""
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        match = _NAME.match(path.name)
        if match is None:
            continue
        try:
            day = date.fromisoformat(match.group(1))
        except ValueError:
            continue
        found.append(DigestFile(day, path))
    return sorted(found, key=lambda digest: digest.day, reverse=True)


def find_digest(directory: Path, day: date) -> DigestFile | None:
    path = digest_path(directory, day)
    return DigestFile(day, path) if path.is_file() else None


def read_digest(path: Path) -> dict[str, Any]:
    """A digest's content; a missing or malformed file is a DigestError naming it."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DigestError(f"{path}: the digest file does not exist.") from None
    except OSError as error:
        raise DigestError(f"{path}: the digest file cannot be read ({error.strerror}).") from None
    return digest_of(path, data)


def digest_of(path: Path, data: bytes) -> dict[str, Any]:
    """The digest that `data`, the bytes of the file at `path`, holds; DigestError naming the
    file if they are not one."""
    try:
        digest = parse_json(data)
    except JsonSyntaxError as fault:
        raise DigestError(f"{path}: {fault}.") from None
    problem = _shape_problem(digest)
    if problem:
        raise DigestError(f"{path}: not a digest ({problem}).")
    return digest  # type: ignore[no-any-return]


HEAD_BYTES = 64 * 1024
# A head is the summary and at most 100 near-miss cards (up to a few KB each), found in the
# first reads; a file with no head within this is not laid out as ours and is parsed whole.
HEAD_LIMIT = 16 * 1024 * 1024
_QUEUE_KEY = re.compile(rb',\s*"redditQueue"\s*:')


def read_digest_head(path: Path) -> dict[str, Any]:
    """A digest's keys before its leads (generatedAt, batchId, digestDate, summary, ...).

    Status and health checks need only these; reading a digest of 250,000 leads whole would
    make them as slow as the queue is long. Our digests list their leads after the summary, so
    the head of the file holds everything; any other file is read whole.
    """
    try:
        with path.open("rb") as handle:

            def read_start(size: int) -> bytes:
                handle.seek(0)
                return handle.read(size)

            found = find_head(read_start)
    except FileNotFoundError:
        raise DigestError(f"{path}: the digest file does not exist.") from None
    except OSError as error:
        raise DigestError(f"{path}: the digest file cannot be read ({error.strerror}).") from None
    return found[0] if found is not None else read_digest(path)


def find_head(read_start: Callable[[int], bytes]) -> tuple[dict[str, Any], int] | None:
    """The members before "redditQueue", and where the comma before that key stands, from the
    file's first bytes (`read_start(size)`) in windows that double from 64 KB; None when they
    hold no digest's head within HEAD_LIMIT (the file is then parsed whole)."""
    size = HEAD_BYTES
    while True:
        head = read_start(size)
        found = _QUEUE_KEY.search(head)
        if found is not None:
            try:
                digest = parse_json(head[: found.start()] + b"}")
            except JsonSyntaxError:
                return None  # the key stood inside another value: no head to cut off
            if isinstance(digest, dict) and isinstance(digest.get("summary"), dict):
                return digest, found.start()
            return None
        if len(head) < size or size >= HEAD_LIMIT:
            return None
        size *= 2


def _shape_problem(digest: Any) -> str | None:
    if not isinstance(digest, dict):
        return "the top level is not an object"
    if not isinstance(digest.get("redditQueue"), list):
        return "'redditQueue' is missing or not a list"
    return head_problem(digest)


def head_problem(head: dict[str, Any]) -> str | None:
    """What makes a digest's head (the members before its leads) unusable, or None."""
    if not isinstance(head.get("summary"), dict):
        return "'summary' is missing or not an object"
    if not isinstance(head.get("generatedAt"), str):
        return "'generatedAt' is missing or not a string"
    if not isinstance(head.get("batchId"), str) or not head["batchId"]:
        return "'batchId' is missing or not a string"
    return None
