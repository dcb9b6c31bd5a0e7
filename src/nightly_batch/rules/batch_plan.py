"""The nightly batch's two ways from the state's bytes to the new state and the digest.

`plan_from_bytes` is the fast one (see `fastmark`); `plan_from_dicts` parses everything into
dicts and is the reference: it also takes every file the fast one declines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import msgspec

from nightly_batch.core.clock import parse_iso
from nightly_batch.core.json_literals import dump_literal
from nightly_batch.core.json_members import Chunk, Members, NotSplittable, split_members
from nightly_batch.rules.approvals import approved_leads
from nightly_batch.rules.digest_layout import close_digest, digest_opening, lay_out_digest
from nightly_batch.rules.digest_lines import LEAD_SEPARATOR, digest_lead_lines, digest_positions
from nightly_batch.rules.duplicates import Grouping, Leads, group_leads
from nightly_batch.rules.fastmark import NotFast, RawSelection, literal_lead, mark_raw
from nightly_batch.rules.history import append_history, owned_list
from nightly_batch.rules.lead_facts import dict_leads, raw_leads
from nightly_batch.rules.marking import Rule, digest_entries, mark_queue
from nightly_batch.rules.near_misses import near_miss_cards
from nightly_batch.rules.queue_layout import format_json, lead_bytes
from nightly_batch.rules.shapes import State
from nightly_batch.rules.tally import Tally, best_near_misses, suppressed
from nightly_batch.settings.config import ConfidenceWeights

TASK = "nightly-batch"


@dataclass(frozen=True, slots=True)
class BatchInputs:
    stamp: str
    batch_id: str
    day: date
    zone: str
    rule: Rule
    weights: ConfidenceWeights
    history_limit: int
    state_path: Path
    near_miss_limit: int = 10
    # Leads posted (else queued) longer ago are left out of the digest (maxLeadAgeHours).
    max_lead_age_hours: float | None = None


@dataclass(frozen=True, slots=True)
class BatchPlan:
    state: Iterable[Chunk]  # the new state file, in pieces
    digest: Iterable[Chunk]  # the digest file, in pieces
    summary: dict[str, Any]
    invalid: list[tuple[str, str]]
    message: str


def _summary(
    inputs: BatchInputs,
    docs: int,
    total: int,
    marked: int,
    invalid: int,
    tally: Tally,
    grouping: Grouping,
) -> dict[str, Any]:
    """`selectedTotal` counts the selected leads, as it always has; `listedTotal` those the
    digest lists: less the ones grouped under another (`duplicate`) or too old (`stale`)."""
    return {
        "docsProcessed": docs,
        "queueTotal": total,
        "markedForDraft": marked,
        "selectedTotal": grouping.selected,
        "invalidItems": invalid,
        "threshold": inputs.rule.threshold,
        "listedTotal": len(grouping.kept),
        "suppressed": suppressed(
            total, grouping.selected, invalid, tally.drafted, grouping.duplicate, grouping.stale
        ),
    }


def _grouped(
    inputs: BatchInputs, leads: Leads, stamps: list[str], order: list[int] | None = None
) -> Grouping:
    now = parse_iso(inputs.stamp)
    return group_leads(leads, now, inputs.max_lead_age_hours, stamps, order)


def _message(docs: int, marked: int) -> str:
    return f"nightly batch: synced {docs} docs, marked {marked} for draft"


def _add_history(state: State, inputs: BatchInputs, message: str) -> None:
    append_history(
        state,
        task=TASK,
        handled_at=inputs.stamp,
        ok=True,
        message=message,
        limit=inputs.history_limit,
        path=inputs.state_path,
    )


def _head(inputs: BatchInputs, summary: dict[str, Any], tally: Tally) -> dict[str, Any]:
    return {
        "generatedAt": inputs.stamp,
        "batchId": inputs.batch_id,
        "digestDate": inputs.day.isoformat(),
        "timeZone": inputs.zone,
        "summary": summary,
        "precision": tally.precision.report(
            inputs.rule.precision_window_days, inputs.rule.threshold
        ),
    }


def plan_from_dicts(
    state: State, inputs: BatchInputs, *, indent: str | None = None, tail: bytes = b""
) -> BatchPlan:
    """The reference path: every value parsed (with its literal, json_literals), changed in
    place, written back whole in the file's layout (`indent`, then `tail`)."""
    path = inputs.state_path
    queue = owned_list(state, "redditQueue", path)
    docs = owned_list(state, "pendingDocChanges", path)
    owned_list(state, "taskHistory", path)  # checked before anything is written
    approved = approved_leads(state.get("approvals"))
    selection = mark_queue(queue, inputs.rule, inputs.stamp, approved)
    every = digest_entries(selection, inputs.weights)
    grouping = _grouped(
        inputs,
        dict_leads(every, with_times=inputs.max_lead_age_hours is not None),
        [str(entry.get("selectedAt", "")) for entry in every],
    )
    entries = [every[position] for position in grouping.kept]
    for position, others in grouping.also_in.items():
        every[position]["alsoIn"] = others
    tally = selection.tally
    summary = _summary(
        inputs,
        len(docs),
        len(queue),
        selection.marked,
        len(selection.invalid),
        tally,
        grouping,
    )
    near = [
        (index, queue[index], scored)
        for index, scored in best_near_misses(tally.near, inputs.near_miss_limit)
    ]
    if "pendingDocChanges" in state:
        state["pendingDocChanges"] = []
    state["lastNightlyBatchAt"] = inputs.stamp
    message = _message(len(docs), selection.marked)
    _add_history(state, inputs, message)
    return BatchPlan(
        [dump_literal(state, indent), tail],
        [
            lay_out_digest(
                _head(inputs, summary, tally),
                LEAD_SEPARATOR.join(dump_literal(entry) for entry in entries),
                dump_literal(list(docs)),
                near_miss_cards(near, inputs.weights),
            )
        ],
        summary,
        selection.invalid,
        message,
    )


def _owned(members: Members, key: str) -> list[Any]:
    if key not in members.values:
        return []
    try:
        value = members.decoded(key)
    except (ValueError, RecursionError) as error:
        raise NotFast(str(error)) from None
    if value is None:
        return []
    if not isinstance(value, list):
        raise NotFast(f"{key} is not a list")  # the reference path words the error
    return value


def _decoded(members: Members, key: str) -> Any:
    """A member read only for what it tells (approvals): None if absent or unreadable, as
    the reference path then finds nothing in it either."""
    if key not in members.values:
        return None
    try:
        return members.decoded(key)
    except (ValueError, RecursionError):
        return None


def _written_compact(selection: RawSelection) -> bool:
    """Whether a one-line queue's selected leads are compact (`json.dumps` writes one line
    with ", " and ": "): the first and last of them as read tell, as one writer lays out a
    whole file (a lead this batch rewrote is compact whatever the file was, and tells nothing).
    Exact for every lead would take a reformat of the queue (0.3 s at 1M leads); a lead edited
    in by hand with spaces keeps them in its digest line, which still parses to the same lead.
    """
    pieces, selected = selection.pieces, selection.selected
    as_read = (index for index, *_ in selected if not isinstance(pieces[index], bytes))
    backwards = (index for index, *_ in reversed(selected) if not isinstance(pieces[index], bytes))
    for index in {next(as_read, -1), next(backwards, -1)} - {-1}:
        lead = lead_bytes(pieces[index], selection.suffixes[index])
        if len(format_json(lead, -1)) != len(lead):
            return False
    return True


def plan_from_bytes(data: bytes, inputs: BatchInputs) -> BatchPlan:
    """The fast path; raises NotFast for anything the reference path should handle."""
    try:
        members = split_members(data)
    except NotSplittable:
        raise NotFast("msgspec cannot split the file") from None
    written = members.values.get("redditQueue")
    # A missing or null queue is an empty one, and is left as the sweeper wrote it (so both
    # paths write the same file).
    raw = written[1] if written is not None else None
    no_queue = raw is None or (len(raw) == 4 and bytes(raw) == b"null")
    raw_queue = msgspec.Raw(b"[]") if no_queue or raw is None else raw
    docs = _owned(members, "pendingDocChanges")
    history = _owned(members, "taskHistory")
    start = members.starts.get("redditQueue", 0)
    end = start + len(raw_queue)
    # memchr over the queue: a compact one lets the digest copy its leads without a look.
    one_line = data.find(b"\n", start, end) == -1 and data.find(b"\r", start, end) == -1
    approved = approved_leads(_decoded(members, "approvals"))
    selection = mark_raw(raw_queue, inputs.rule, inputs.stamp, approved)
    selection.compact = one_line and _written_compact(selection)
    # The selected leads are read and grouped in queue order, and listed in the digest's.
    selected = selection.selected
    grouping = _grouped(
        inputs,
        raw_leads(
            selection.pieces,
            [entry[0] for entry in selected],
            with_times=inputs.max_lead_age_hours is not None,
        ),
        [entry[1] for entry in selected],
        digest_positions(selected),
    )
    ordered = [selected[position] for position in grouping.kept]
    also_in = {selected[position][0]: others for position, others in grouping.also_in.items()}
    tally = selection.tally
    summary = _summary(
        inputs,
        len(docs),
        selection.count,
        selection.marked,
        len(selection.invalid),
        tally,
        grouping,
    )
    near = [
        (
            index,
            literal_lead(lead_bytes(selection.pieces[index], selection.suffixes[index])),
            scored,
        )
        for index, scored in best_near_misses(tally.near, inputs.near_miss_limit)
    ]
    message = _message(len(docs), selection.marked)
    holder: State = {"taskHistory": history}
    _add_history(holder, inputs, message)
    replaced: State = {"lastNightlyBatchAt": inputs.stamp, "taskHistory": holder["taskHistory"]}
    laid_out: dict[str, Any] = {}
    if "pendingDocChanges" in members.values:
        laid_out["pendingDocChanges"] = b"[]"
    if not no_queue:
        # Laid out a chunk at a time as the file is written, never held whole beside the old one.
        indent = members.indent
        laid_out["redditQueue"] = _Chunks(lambda: selection.chunks(indent))
    # The digest is laid out as it is written, its leads a group at a time: never held whole.
    opening = digest_opening(_head(inputs, summary, tally), near_miss_cards(near, inputs.weights))
    closing = bytearray()
    if ordered:
        opening += b"\n    "
        closing += b"\n  "
    close_digest(closing, dump_literal(docs))
    leads = _Chunks(lambda: digest_lead_lines(selection, inputs.weights, ordered, also_in))
    digest = _Flat([opening, leads, closing])
    state = _Flat(members.joined(replaced, laid_out))
    return BatchPlan(state, digest, summary, selection.invalid, message)


class _Chunks:
    """A piece of a file (the state or the digest) made by `make` each time the file is
    iterated (written, or read back by a test), so it can be iterated more than once."""

    def __init__(self, make: Callable[[], Iterator[Chunk]]) -> None:
        self.make = make


class _Flat:
    """A file's pieces, with each _Chunks expanded in place; iterable more than once."""

    def __init__(self, pieces: list[Any]) -> None:
        self.pieces = pieces

    def __iter__(self) -> Iterator[Chunk]:
        for piece in self.pieces:
            if isinstance(piece, _Chunks):
                yield from piece.make()
            else:
                yield piece
