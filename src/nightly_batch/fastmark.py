"""The nightly batch over raw JSON bytes: what the dict path does, without rebuilding the file.

Only the fields the rule reads are decoded from each lead (a small msgspec Struct); a lead that
does not change is written back as the very bytes it was read from, and a lead that only gains
our fields gets them appended to its bytes. Anything unusual (a lead that already carries our
fields with other values, a malformed owned key, a file msgspec cannot read) goes through the
plain dict path (`marking.mark_queue`) or makes the caller fall back to it entirely, so both
paths always agree; a differential test holds them to that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import msgspec

from nightly_batch.confidence import DECIMALS, Invalid, Scored, is_selected, score_item
from nightly_batch.marking import Rule, mark_queue

UNSET = msgspec.UNSET


class LeadView(msgspec.Struct, rename="camel"):
    """The fields of a lead that the rule reads or writes; everything else is skipped."""

    id: Any = UNSET
    score: Any = UNSET
    llm_score: Any = UNSET
    model_score: Any = UNSET
    draft_record_id: Any = UNSET
    selected_for_draft: Any = UNSET
    selected_at: Any = UNSET
    confidence: Any = UNSET
    confidence_breakdown: Any = UNSET


_top = msgspec.json.Decoder(dict[str, msgspec.Raw])
_items = msgspec.json.Decoder(list[msgspec.Raw])
# A lead that is an object decodes to a LeadView; anything else to itself (and is invalid).
_views = msgspec.json.Decoder(list[LeadView | str | int | float | bool | list[Any] | None])
_encode = msgspec.json.Encoder().encode


_PLAIN = (int, float)
_NOT_PLAIN = object()


def _plain_outcome(score: float, rule: Rule, appended_selected: bytes) -> Any:
    """(confidence, keyword, suffix bytes, selected) for a plain score, exactly as keyword_part."""
    try:
        number = float(score)
    except OverflowError:
        return _NOT_PLAIN
    if not math.isfinite(number) or number < 0:
        return _NOT_PLAIN
    keyword = number if number <= 1 else min(number / rule.keyword_score_max, 1.0)
    confidence = round(keyword, DECIMALS)
    chosen = confidence > rule.threshold
    suffix = b',"confidence":' + _encode(confidence) + (appended_selected if chosen else b"}")
    return confidence, keyword, suffix, chosen


class NotFast(Exception):  # noqa: N818  (a signal, not an error)
    """The input needs the plain dict path."""


@dataclass(slots=True)
class RawSelection:
    """The fast path's counterpart of marking.Selection: the new queue as one growing buffer.

    Leads are appended to `queue` as they are decided, so no per-lead bytes object is kept
    (a million of them cost more in allocation than the work itself); a selected lead is
    remembered by where it lies in the buffer.
    """

    queue: bytearray = field(default_factory=lambda: bytearray(b"["))
    count: int = 0
    marked: int = 0
    # (index, selectedAt, confidence, start, end, Scored) of every selected lead
    selected: list[tuple[int, str, float, int, int, Scored]] = field(default_factory=list)
    invalid: list[tuple[str, str]] = field(default_factory=list)

    def add(self, data: bytes | msgspec.Raw) -> tuple[int, int]:
        """Append one lead's bytes; returns where they lie."""
        if self.count:
            self.queue += b","
        start = len(self.queue)
        self.queue += data
        self.count += 1
        return start, len(self.queue)

    def finish(self) -> bytearray:
        self.queue += b"]"
        return self.queue


def split_state(data: bytes) -> dict[str, msgspec.Raw]:
    """The top-level keys with their values still as raw bytes; NotFast if that cannot be."""
    try:
        return _top.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as error:
        raise NotFast(str(error)) from None


def _scored(view: LeadView, rule: Rule) -> Scored | Invalid:
    score = view.score
    kind = type(score)
    no_model = view.llm_score in (UNSET, None) and view.model_score in (UNSET, None)
    if no_model and (kind is int or kind is float):
        # The common case inline, computed exactly as confidence.keyword_part does.
        try:
            number = float(score)
        except OverflowError:
            number = math.inf
        if math.isfinite(number) and number >= 0:
            keyword = number if number <= 1 else min(number / rule.keyword_score_max, 1.0)
            return Scored(round(keyword, DECIMALS), keyword, None)
    parts = (("score", score), ("llmScore", view.llm_score), ("modelScore", view.model_score))
    item = {key: value for key, value in parts if value is not UNSET}
    return score_item(item, rule.weights, rule.keyword_score_max)


def _via_dicts(
    raw: msgspec.Raw, index: int, rule: Rule, selected_at: str, result: RawSelection
) -> None:
    """One lead through the reference dict path."""
    item = msgspec.json.decode(raw)
    one = mark_queue([item], rule, selected_at)
    result.marked += one.marked
    for _, reason in one.invalid:
        lead_id = str(item["id"]) if isinstance(item, dict) and "id" in item else f"#{index}"
        result.invalid.append((lead_id, reason))
    start, end = result.add(_encode(item))
    for _, lead, scored in one.selected:
        result.selected.append(
            (index, str(lead.get("selectedAt", "")), scored.confidence, start, end, scored)
        )


def mark_raw(raw_queue: msgspec.Raw, rule: Rule, selected_at: str) -> RawSelection:
    """mark_queue's result, computed on the raw queue."""
    try:
        # Two passes in C beat one Python-level decode per lead: the views, and the raw bytes.
        views = _views.decode(raw_queue)
        raws = _items.decode(raw_queue)
    except (msgspec.DecodeError, RecursionError) as error:
        raise NotFast(str(error)) from None
    result = RawSelection()
    queue, selected = result.queue, result.selected
    appended_selected = b',"selectedForDraft":true,"selectedAt":' + _encode(selected_at) + b"}"
    memo: dict[Any, Any] = {}
    for index, lead in enumerate(views):
        raw = raws[index]
        if type(lead) is not LeadView:
            _via_dicts(raw, index, rule, selected_at, result)
            continue
        if lead.draft_record_id is not UNSET and lead.draft_record_id not in (None, ""):
            result.add(raw)
            continue
        score = lead.score
        if (
            lead.confidence is UNSET
            and lead.selected_for_draft is UNSET
            and lead.selected_at is UNSET
            and lead.llm_score is UNSET
            and lead.model_score is UNSET
            and type(score) in _PLAIN
        ):
            # A lead we never touched, scored by keywords alone: the common case. Sweeper scores
            # take a handful of values, so each one's outcome is computed once.
            known = memo.get(score)
            if known is None:
                known = memo[score] = _plain_outcome(score, rule, appended_selected)
            if known is not _NOT_PLAIN:
                confidence, keyword, suffix, chosen = known
                if result.count:
                    queue += b","
                start = len(queue)
                queue += raw
                del queue[-1]  # its closing brace; whitespace before our comma is still JSON
                queue += suffix
                result.count += 1
                if chosen:
                    result.marked += 1
                    scored = Scored(confidence, keyword, None)
                    selected.append((index, selected_at, confidence, start, len(queue), scored))
                continue
        _general(lead, raw, index, rule, selected_at, result)
    return result


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
        result.invalid.append((f"#{index}" if lead.id is UNSET else str(lead.id), scored.reason))
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
    start, end = result.add(raw)
    if chosen:
        stamp = "" if lead.selected_at is UNSET else str(lead.selected_at)
        result.selected.append((index, stamp, scored.confidence, start, end, scored))


def digest_lead_bytes(selection: RawSelection, weights: Any) -> list[bytes]:
    """The digest's leads as bytes, in marking.digest_entries order, each with its breakdown.

    Call after `finish`: the leads are read back from the finished queue buffer.
    """
    ordered = sorted(
        selection.selected, key=lambda entry: (entry[1], entry[2], -entry[0]), reverse=True
    )
    tail = b',"weights":' + _encode({"keyword": weights.keyword, "model": weights.model}) + b"}"
    queue = memoryview(selection.queue)
    leads = []
    for _, _, _, start, end, scored in ordered:
        breakdown = b"".join(
            (
                b'{"keyword":',
                _encode(round(scored.keyword, DECIMALS)),
                b',"model":',
                _encode(scored.model),
                tail,
            )
        )
        lead = queue[start:end]
        if b'"confidenceBreakdown"' in lead.tobytes():
            # Already has one (an old or foreign key): replace it in place, as a dict would.
            item = msgspec.json.decode(lead)
            item["confidenceBreakdown"] = msgspec.json.decode(breakdown)
            leads.append(_encode(item))
        else:
            leads.append(b"".join((lead[:-1], b',"confidenceBreakdown":', breakdown, b"}")))
    queue.release()
    return leads
