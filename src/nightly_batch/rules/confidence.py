"""The hybrid confidence rule (SPEC 4): pure functions, no I/O.

The sweeper writes `score` as a raw keyword-weight sum (5..15), so comparing it with 0.75 made
every lead pass in the original; here a raw sum is normalised before it is compared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from nightly_batch.settings.config import ConfidenceWeights

# Confidences are rounded so that float noise (0.4*0.75 + 0.6*0.75 = 0.7500000000000001)
# cannot decide whether a lead passes a strict threshold.
DECIMALS = 6


@dataclass(frozen=True, slots=True)
class Scored:
    """A lead's confidence and how it was made."""

    confidence: float
    keyword: float
    model: float | None


@dataclass(frozen=True, slots=True)
class Invalid:
    """A lead that cannot be scored, and why (logged with its id, counted in the digest)."""

    reason: str


def _number(value: Any) -> float | None:
    # bool is an int subclass in Python, but `true` is not a score.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer beyond any float, e.g. 10**400
        return None
    return number if math.isfinite(number) else None


def keyword_part(score: Any, keyword_score_max: float) -> float | Invalid:
    """`score` in [0, 1] as is; a larger raw keyword sum normalised by `keyword_score_max`."""
    if score is None:
        return Invalid("score is missing")
    number = _number(score)
    if number is None:
        return Invalid(f"score {score!r} is not a finite number")
    if number < 0:
        return Invalid(f"score {score!r} is negative")
    return number if number <= 1 else min(number / keyword_score_max, 1.0)


def model_part(item: dict[str, Any]) -> float | Invalid | None:
    """`llmScore` (or `modelScore`) clamped to [0, 1]; None when the item has neither."""
    for key in ("llmScore", "modelScore"):
        value = item.get(key)
        if value is None:
            continue
        number = _number(value)
        if number is None:
            return Invalid(f"{key} {value!r} is not a finite number")
        return min(max(number, 0.0), 1.0)
    return None


def score_item(
    item: dict[str, Any], weights: ConfidenceWeights, keyword_score_max: float
) -> Scored | Invalid:
    """The item's confidence, or why it has none."""
    keyword = keyword_part(item.get("score"), keyword_score_max)
    if isinstance(keyword, Invalid):
        return keyword
    model = model_part(item)
    if isinstance(model, Invalid):
        return model
    if model is None:
        return Scored(round(keyword, DECIMALS), keyword, None)
    confidence = weights.keyword * keyword + weights.model * model
    return Scored(round(confidence, DECIMALS), keyword, model)


def is_selected(scored: Scored, threshold: float) -> bool:
    """Selection is strictly above the threshold: exactly 0.75 does not pass 0.75."""
    return scored.confidence > threshold


def breakdown(scored: Scored, weights: ConfidenceWeights) -> dict[str, Any]:
    """A lead's `confidenceBreakdown`, as the digest lists it."""
    return {
        "keyword": round(scored.keyword, DECIMALS),
        "model": scored.model,
        "weights": {"keyword": weights.keyword, "model": weights.model},
    }
