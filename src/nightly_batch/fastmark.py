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
_view = msgspec.json.Decoder(LeadView)
_encode = msgspec.json.Encoder().encode


class NotFast(Exception):  # noqa: N818  (a signal, not an error)
    """The input needs the plain dict path."""


@dataclass(slots=True)
class RawSelection:
    """The fast path's counterpart of marking.Selection, holding bytes instead of dicts."""

    leads: list[bytes | memoryview] = field(default_factory=list)
    marked: int = 0
    # (index, selectedAt, confidence, lead bytes, Scored) of every selected lead
    selected: list[tuple[int, str, float, bytes | memoryview, Scored]] = field(default_factory=list)
    invalid: list[tuple[str, str]] = field(default_factory=list)


def split_state(data: bytes) -> dict[str, msgspec.Raw]:
    """The top-level keys with their values still as raw bytes; NotFast if that cannot be."""
    try:
        return _top.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError) as error:
        raise NotFast(str(error)) from None


def split_list(raw: msgspec.Raw) -> list[msgspec.Raw]:
    try:
        return _items.decode(raw)
    except msgspec.DecodeError as error:
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
    encoded = _encode(item)
    result.leads.append(encoded)
    for _, lead, scored in one.selected:
        result.selected.append(
            (index, str(lead.get("selectedAt", "")), scored.confidence, encoded, scored)
        )


def mark_raw(raw_leads: list[msgspec.Raw], rule: Rule, selected_at: str) -> RawSelection:
    """mark_queue's result, computed on raw leads."""
    result = RawSelection()
    appended_selected = b',"selectedForDraft":true,"selectedAt":' + _encode(selected_at) + b"}"
    for index, raw in enumerate(raw_leads):
        view = memoryview(raw)
        if bytes(view[:1]) != b"{":
            _via_dicts(raw, index, rule, selected_at, result)
            continue
        lead = _view.decode(raw)
        if lead.draft_record_id not in (UNSET, None, ""):
            result.leads.append(view)
            continue
        scored = _scored(lead, rule)
        flagged = lead.selected_for_draft is not UNSET and bool(lead.selected_for_draft)
        if isinstance(scored, Invalid):
            if flagged or lead.selected_at is not UNSET:
                _via_dicts(raw, index, rule, selected_at, result)
                continue
            lead_id = f"#{index}" if lead.id is UNSET else str(lead.id)
            result.invalid.append((lead_id, scored.reason))
            result.leads.append(view)
            continue
        chosen = is_selected(scored, rule.threshold)
        unchanged = (
            type(lead.confidence) is float
            and lead.confidence == scored.confidence
            and (flagged if chosen else (not flagged and lead.selected_at is UNSET))
        )
        if unchanged:
            result.leads.append(view)
            if chosen:
                result.selected.append(
                    (
                        index,
                        str(lead.selected_at if lead.selected_at is not UNSET else ""),
                        scored.confidence,
                        view,
                        scored,
                    )
                )
            continue
        fresh = (
            lead.confidence is UNSET
            and lead.selected_for_draft is UNSET
            and lead.selected_at is UNSET
        )
        if not fresh:
            _via_dicts(raw, index, rule, selected_at, result)
            continue
        body = view[:-1].tobytes().rstrip()
        suffix = appended_selected if chosen else b"}"
        spliced = body + b',"confidence":' + _encode(scored.confidence) + suffix
        result.leads.append(spliced)
        if chosen:
            result.marked += 1
            result.selected.append((index, selected_at, scored.confidence, spliced, scored))
    return result


def digest_lead_bytes(selection: RawSelection, weights: Any) -> list[bytes]:
    """The digest's leads as bytes, in marking.digest_entries order, each with its breakdown."""
    ordered = sorted(
        selection.selected, key=lambda entry: (entry[1], entry[2], -entry[0]), reverse=True
    )
    leads = []
    for _, _, _, lead, scored in ordered:
        breakdown = _encode(
            {
                "keyword": round(scored.keyword, DECIMALS),
                "model": scored.model,
                "weights": {"keyword": weights.keyword, "model": weights.model},
            }
        )
        data = bytes(lead)
        if b'"confidenceBreakdown"' in data:
            item = msgspec.json.decode(data)
            item["confidenceBreakdown"] = msgspec.json.decode(breakdown)
            leads.append(_encode(item))
        else:
            leads.append(data[:-1].rstrip() + b',"confidenceBreakdown":' + breakdown + b"}")
    return leads
