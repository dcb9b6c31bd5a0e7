"""Apply the confidence rule to the queue in place: the part of the nightly batch that is pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nightly_batch.rules.confidence import Invalid, Scored, breakdown, is_selected, score_item
from nightly_batch.rules.tally import Tally, new_tally
from nightly_batch.settings.config import ConfidenceWeights


@dataclass(frozen=True, slots=True)
class Rule:
    """The settings the rule needs, so the marking does not depend on the whole config."""

    threshold: float
    weights: ConfidenceWeights
    keyword_score_max: float
    # A lead this close below the threshold is a near miss (nearMissMargin).
    near_miss_margin: float = 0.1
    # The days of earlier selections that precision is measured over (precisionWindowDays).
    precision_window_days: int = 30

    def is_near_miss(self, scored: Scored) -> bool:
        """Not selected, but within near_miss_margin of the threshold."""
        return scored.confidence > self.threshold - self.near_miss_margin


@dataclass(slots=True)
class Selection:
    """What one pass over the queue found."""

    tally: Tally
    marked: int = 0
    selected: list[tuple[int, dict[str, Any], Scored]] = field(default_factory=list)
    invalid: list[tuple[str, str]] = field(default_factory=list)


def _is_drafted(item: dict[str, Any]) -> bool:
    return item.get("draftRecordId") not in (None, "")


def mark_queue(
    queue: list[Any], rule: Rule, selected_at: str, approved: frozenset[str] = frozenset()
) -> Selection:
    """Set `confidence` and `selectedForDraft` on each queued lead; report the selection.

    A drafted lead is left alone. A lead whose confidence is at or below the threshold loses a
    stale flag. A lead that cannot be scored is skipped, never fatal, and loses a stale flag.
    """
    result = Selection(new_tally(selected_at, rule.precision_window_days, approved))
    tally = result.tally
    for index, item in enumerate(queue):
        if not isinstance(item, dict):
            result.invalid.append(
                (f"#{index}", f"queue entry is {type(item).__name__}, not an object")
            )
            continue
        drafted = _is_drafted(item)
        tally.precision.add(
            item.get("selectedAt"), item.get("confidence"), drafted=drafted, lead_id=item.get("id")
        )
        if drafted:
            tally.drafted += 1
            continue
        scored = score_item(item, rule.weights, rule.keyword_score_max)
        if isinstance(scored, Invalid):
            result.invalid.append((str(item.get("id", f"#{index}")), scored.reason))
            _deselect(item)
            continue
        item["confidence"] = scored.confidence
        if is_selected(scored, rule.threshold):
            if not item.get("selectedForDraft"):
                result.marked += 1
                item["selectedForDraft"] = True
                item["selectedAt"] = selected_at
            result.selected.append((index, item, scored))
        else:
            _deselect(item)
            if rule.is_near_miss(scored):
                tally.near.append((index, scored))
    return result


def _deselect(item: dict[str, Any]) -> None:
    if item.get("selectedForDraft"):
        item["selectedForDraft"] = False
    item.pop("selectedAt", None)


def digest_entries(selection: Selection, weights: ConfidenceWeights) -> list[dict[str, Any]]:
    """The selected leads as the digest lists them: newest selection first, then by confidence."""
    ordered = sorted(
        selection.selected,
        key=lambda entry: (str(entry[1].get("selectedAt", "")), entry[2].confidence, -entry[0]),
        reverse=True,
    )
    return [
        {**item, "confidenceBreakdown": breakdown(scored, weights)} for _, item, scored in ordered
    ]
