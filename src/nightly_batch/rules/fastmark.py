"""The nightly batch over raw JSON bytes: what the dict path does, without rebuilding the file.

Only the fields the rule reads are decoded from each lead (a small msgspec Struct); a lead that
does not change is written back as the very bytes it was read from, and a lead that only gains
our fields gets them appended to its bytes. Anything unusual (a lead that already carries our
fields with other values, a malformed owned key, a file msgspec cannot read) goes through the
plain dict path (`marking.mark_queue`) or makes the caller fall back to it entirely, so both
paths always agree; a differential test holds them to that. A lead that goes through dicts keeps
its literals (json_literals), so a value another program wrote is never rewritten.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import msgspec

from nightly_batch.core.json_literals import dump_literal, parse_literal
from nightly_batch.core.json_members import Chunk
from nightly_batch.rules.confidence import Invalid, Scored, is_selected, score_item
from nightly_batch.rules.marking import Rule, mark_queue
from nightly_batch.rules.queue_layout import array_of, as_is, compact_chunks, indented_chunks
from nightly_batch.rules.tally import Tally, new_tally

UNSET = msgspec.UNSET


class LeadView(msgspec.Struct, rename="camel", gc=False):
    """The fields of a lead that the rule reads or writes; everything else is skipped.

    One is alive for every lead of the queue at once (the peak of the batch's memory), so it
    holds no more than the common lead needs: not its id (read from the bytes by the few paths
    that name a lead, `_id_of`), and no header for the cyclic GC (decoded JSON holds no cycle).
    """

    score: Any = UNSET
    llm_score: Any = UNSET
    model_score: Any = UNSET
    draft_record_id: Any = UNSET
    selected_for_draft: Any = UNSET
    selected_at: Any = UNSET
    confidence: Any = UNSET
    confidence_breakdown: Any = UNSET


class _Named(msgspec.Struct, gc=False):
    id: Any = UNSET


_items = msgspec.json.Decoder(list[msgspec.Raw])
_named = msgspec.json.Decoder(_Named)
# A lead that is an object decodes to a LeadView; anything else to itself (and is invalid).
_AnyLead = LeadView | str | int | float | bool | list[Any] | None
_views = msgspec.json.Decoder(list[_AnyLead])
_view = msgspec.json.Decoder(_AnyLead)
# Stands for a lead msgspec cannot read as a view (a number beyond a float: `"score": 1e999`).
_UNREADABLE = object()
_encode = msgspec.json.Encoder().encode


_PLAIN = (int, float)
_NOT_PLAIN = object()


def _plain_outcome(score: float, rule: Rule, appended_selected: bytes) -> Any:
    """(suffix bytes, Scored when selected, Scored when a near miss) for a plain score, by the
    one rule of confidence.py; _NOT_PLAIN when the score is invalid (the general path says
    why)."""
    scored = score_item({"score": score}, rule.weights, rule.keyword_score_max)
    if isinstance(scored, Invalid):
        return _NOT_PLAIN
    confidence = b',"confidence":' + _encode(scored.confidence)
    if is_selected(scored, rule.threshold):
        return confidence + appended_selected, scored, None
    return confidence + b"}", None, scored if rule.is_near_miss(scored) else None


class NotFast(Exception):  # noqa: N818  (a signal, not an error)
    """The input needs the plain dict path."""


@dataclass(slots=True)
class RawSelection:
    """The fast path's counterpart of marking.Selection: the new queue as one piece per lead.

    A piece is the lead's bytes as read (msgspec.Raw, a view into the file's buffer) or
    rewritten bytes; its suffix replaces its last byte (queue_layout).
    The queue is never held a second time: `chunks` lays it out a chunk at a time as the file is
    written, so a batch holds the old file and not also a copy of the new one.
    """

    tally: Tally
    pieces: list[Any] = field(default_factory=list)  # piece i is lead i
    suffixes: list[bytes] = field(default_factory=list)  # ... and suffix i its end
    count: int = 0
    marked: int = 0
    # (index, selectedAt, confidence, Scored) of every selected lead
    selected: list[tuple[int, str, float, Scored]] = field(default_factory=list)
    invalid: list[tuple[str, str]] = field(default_factory=list)
    # The queue as read is compact (batch_plan tells): its leads are copied as they stand.
    compact: bool = False

    def add(self, data: bytes | msgspec.Raw) -> None:
        """The next lead's bytes."""
        self.pieces.append(data)
        self.suffixes.append(as_is(data))
        self.count += 1

    def chunks(self, indent: str | None = None, size: int = 1 << 20) -> Iterator[Chunk]:
        """The new queue (`[lead,lead,...]`) in chunks of about `size` bytes; laid out one
        level in when the state is indented by `indent`."""
        if indent is None:
            return compact_chunks(self.pieces, self.suffixes, size)
        return indented_chunks(self.pieces, self.suffixes, indent, size)


def _scored(view: LeadView, rule: Rule) -> Scored | Invalid:
    parts = (("score", view.score), ("llmScore", view.llm_score), ("modelScore", view.model_score))
    item = {key: value for key, value in parts if value is not UNSET}
    return score_item(item, rule.weights, rule.keyword_score_max)


def _via_dicts(
    raw: msgspec.Raw, index: int, rule: Rule, selected_at: str, result: RawSelection
) -> None:
    """One lead through the reference dict path."""
    item = literal_lead(raw)
    one = mark_queue([item], rule, selected_at, result.tally.precision.approved)
    result.marked += one.marked
    result.tally.merge(one.tally, index)
    for _, reason in one.invalid:
        lead_id = str(item["id"]) if isinstance(item, dict) and "id" in item else f"#{index}"
        result.invalid.append((lead_id, reason))
    result.add(dump_literal(item))
    for _, lead, scored in one.selected:
        result.selected.append((index, str(lead.get("selectedAt", "")), scored.confidence, scored))


def mark_raw(
    raw_queue: msgspec.Raw, rule: Rule, selected_at: str, approved: frozenset[str] = frozenset()
) -> RawSelection:
    """mark_queue's result, computed on the raw queue."""
    try:
        # Two passes in C beat one Python-level decode per lead: the raw bytes, then the views.
        raws = _items.decode(raw_queue)
    except (msgspec.DecodeError, RecursionError) as error:
        raise NotFast(str(error)) from None
    views = _views_of(raws)
    result = RawSelection(new_tally(selected_at, rule.precision_window_days, approved))
    pieces, suffixes = result.pieces, result.suffixes
    selected, near = result.selected, result.tally.near
    # The suffix replaces the lead's closing brace.
    appended_selected = b',"selectedForDraft":true,"selectedAt":' + _encode(selected_at) + b"}"
    memo: dict[Any, Any] = {}
    added = marked = 0  # kept in locals in the loop; written back to result after it
    for index, (lead, raw) in enumerate(zip(views, raws, strict=True)):
        if type(lead) is LeadView and (
            lead.confidence is UNSET
            and lead.selected_for_draft is UNSET
            and lead.selected_at is UNSET
            and lead.llm_score is UNSET
            and lead.model_score is UNSET
            and lead.draft_record_id is UNSET
            and lead.confidence_breakdown is UNSET
            and type(lead.score) in _PLAIN
        ):
            # A lead we never touched, scored by keywords alone: the common case. Sweeper scores
            # take a handful of values, so each one's outcome is computed once.
            score = lead.score
            # 0 and -0.0 are equal keys but give different confidences: the sign tells them apart.
            key = score or (score, math.copysign(1.0, score))
            known = memo.get(key)
            if known is None:
                known = memo[key] = _plain_outcome(score, rule, appended_selected)
            if known is not _NOT_PLAIN:
                suffix, scored, close = known
                pieces.append(raw)
                suffixes.append(suffix)
                added += 1
                if scored is not None:
                    marked += 1
                    selected.append((index, selected_at, scored.confidence, scored))
                elif close is not None:
                    near.append((index, close))
                continue
        result.count, result.marked = result.count + added, result.marked + marked
        added = marked = 0
        _other(lead, raw, index, rule, selected_at, result)
    result.count, result.marked = result.count + added, result.marked + marked
    return result


def literal_lead(raw: msgspec.Raw | bytes | memoryview) -> Any:
    """One lead with its literals; nested beyond the pure-Python scanner's reach, NotFast
    (and the reference path says the file is nested too deeply to read)."""
    try:
        return parse_literal(memoryview(raw))
    except (RecursionError, ValueError) as error:
        # Nested too deeply, or not UTF-8 (msgspec does not look inside the leads it skips):
        # the reference path says which, with the position, and leaves the file untouched.
        raise NotFast(str(error)) from None


# Leads viewed per decode: the views of the whole queue at once add 115 MB to marking's
# peak at 1M leads (the batch's peak where few leads are selected), for 0.1 s less.
VIEWED = 1000


def _views_of(raws: list[msgspec.Raw]) -> Iterator[Any]:
    """The view of each lead, decoded a group at a time from the leads' bytes joined in C."""
    for start in range(0, len(raws), VIEWED):
        group = raws[start : start + VIEWED]
        try:
            views: list[Any] = _views.decode(array_of(group))
        except (msgspec.DecodeError, RecursionError):
            # One lead msgspec cannot view takes that lead to dicts, not the whole queue.
            views = [_view_of(raw) for raw in group]
        yield from views


def _view_of(raw: msgspec.Raw) -> Any:
    try:
        return _view.decode(raw)
    except (msgspec.DecodeError, RecursionError):
        return _UNREADABLE


def _other(
    lead: Any, raw: msgspec.Raw, index: int, rule: Rule, selected_at: str, result: RawSelection
) -> None:
    """A lead the inline case did not take: not an object, drafted, or touched before."""
    if type(lead) is not LeadView:
        _via_dicts(raw, index, rule, selected_at, result)
    elif lead.draft_record_id is not UNSET and lead.draft_record_id not in (None, ""):
        result.tally.drafted += 1
        result.tally.precision.add(_given(lead.selected_at), _given(lead.confidence), drafted=True)
        result.add(raw)
    else:
        _general(lead, raw, index, rule, selected_at, result)


def _general(
    lead: LeadView, raw: msgspec.Raw, index: int, rule: Rule, selected_at: str, result: RawSelection
) -> None:
    """Any lead the inline case did not take: unchanged bytes where possible, else dicts."""
    scored = _scored(lead, rule)
    flagged = lead.selected_for_draft is not UNSET and bool(lead.selected_for_draft)
    if isinstance(scored, Invalid):
        if flagged or lead.selected_at is not UNSET:
            _via_dicts(raw, index, rule, selected_at, result)
            return
        result.invalid.append((_name_of(raw, index), scored.reason))
        result.add(raw)
        return
    chosen = is_selected(scored, rule.threshold)
    unchanged = (
        type(lead.confidence) is float
        and lead.confidence == scored.confidence
        and (flagged if chosen else (not flagged and lead.selected_at is UNSET))
    )
    if not unchanged:
        _via_dicts(raw, index, rule, selected_at, result)
        return
    result.add(raw)
    result.tally.precision.add(
        _given(lead.selected_at),
        lead.confidence,
        drafted=False,
        # Only an approval names a lead by its id: without any, the id is never read.
        lead_id=_given(_id_of(raw)) if result.tally.precision.approved else None,
    )
    if chosen:
        stamp = "" if lead.selected_at is UNSET else str(lead.selected_at)
        result.selected.append((index, stamp, scored.confidence, scored))
    elif rule.is_near_miss(scored):
        result.tally.near.append((index, scored))


def _id_of(raw: msgspec.Raw) -> Any:
    """The lead's id (UNSET if it has none), for the few paths that name a lead. Decoded a
    few frames deeper than the lead's view was: an id nested to the limit is the reference
    path's to word."""
    try:
        return _named.decode(raw).id
    except (msgspec.DecodeError, RecursionError) as error:
        raise NotFast(str(error)) from None


def _name_of(raw: msgspec.Raw, index: int) -> str:
    """How the invalid-items list names a lead: its id as text, else its place in the queue."""
    lead_id = _id_of(raw)
    try:
        return f"#{index}" if lead_id is UNSET else str(lead_id)
    except RecursionError as error:  # an id nested too deep to print
        raise NotFast(str(error)) from None


def _given(value: Any) -> Any:
    """A view's field, None where the lead has no such key (as dict.get gives it)."""
    return None if value is UNSET else value
