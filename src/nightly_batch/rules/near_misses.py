"""The digest's `nearMisses`: the best leads that fell just below the threshold, as cards.

Only the fields a person decides by are kept (a near miss may carry a long post body, and the
list sits in the digest's head, which every reader takes in one read); newest first.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from nightly_batch.rules.confidence import Scored, breakdown
from nightly_batch.rules.freshness import CREATED_KEYS, QUEUED_KEY, lead_time
from nightly_batch.settings.config import ConfidenceWeights

CARD_KEYS = (
    "id",
    "subreddit",
    "question",
    "title",
    "link",
    "url",
    "permalink",
    "author",
    *CREATED_KEYS,
    QUEUED_KEY,
    "confidence",
)
_OLDEST = datetime.min.replace(tzinfo=UTC)


def near_miss_cards(
    near: list[tuple[int, dict[str, Any], Scored]], weights: ConfidenceWeights
) -> list[dict[str, Any]]:
    """`near` ((index, lead as now written, Scored)) as the digest lists it: newest first, then
    the higher confidence, then queue order; each lead cut to CARD_KEYS and its breakdown."""

    def order(entry: tuple[int, dict[str, Any], Scored]) -> tuple[datetime, float, int]:
        index, item, scored = entry
        return (lead_time(item) or _OLDEST, scored.confidence, -index)

    cards = []
    for _, item, scored in sorted(near, key=order, reverse=True):
        card = {key: item[key] for key in CARD_KEYS if key in item}
        card["confidenceBreakdown"] = breakdown(scored, weights)
        cards.append(card)
    return cards
