"""The digest file's layout: its head indented for people, the near misses and then the
leads one compact line each (storage/digest_reader streams over that layout)."""

from __future__ import annotations

from typing import Any

from nightly_batch.core.json_literals import dump_literal
from nightly_batch.core.jsonio import dump_json
from nightly_batch.rules.digest_lines import LEAD_SEPARATOR


def listed_total(summary: Any, default: int = 0) -> int:
    """How many leads a digest lists: `listedTotal`, else (a digest from before duplicates
    were grouped, where every selected lead is listed) `selectedTotal`."""
    if isinstance(summary, dict):
        for key in ("listedTotal", "selectedTotal"):
            value = summary.get(key)
            if type(value) is int and value >= 0:
                return value
    return default


def lay_out_digest(
    head: dict[str, Any],
    lead_lines: bytes | bytearray,
    doc_changes: bytes,
    near_misses: list[Any] | None = None,
) -> bytes:
    """The digest file: its head indented for people, then one compact lead per line.

    Indenting every lead as well would double the file and cost a formatting pass over it,
    and a lead per line is what `grep` and `less` want from a list of tens of thousands.
    """
    digest = digest_opening(head, near_misses or [])
    if lead_lines:
        digest += b"\n    "
        digest += lead_lines
        digest += b"\n  "
    close_digest(digest, doc_changes)
    return bytes(digest)


def digest_opening(head: dict[str, Any], near_misses: list[Any]) -> bytearray:
    """The digest up to its list of leads (`"redditQueue": [`), which the leads then extend;
    the near misses listed before it, a card per line, written with their literals."""
    opening = bytearray(dump_json(head, indent=True)[: -len(b"\n}")])
    opening += b',\n  "nearMisses": ['
    if near_misses:
        opening += b"\n    "
        opening += LEAD_SEPARATOR.join(dump_literal(card) for card in near_misses)
        opening += b"\n  "
    opening += b'],\n  "redditQueue": ['
    return opening


def close_digest(digest: bytearray, doc_changes: bytes) -> None:
    """The end of the list of leads, and what follows it."""
    digest += b'],\n  "docChanges": '
    digest += doc_changes
    digest += b"\n}\n"
