"""The hybrid confidence rule of SPEC 4, as tables."""

from __future__ import annotations

import math
from typing import Any

import pytest

from fakes import dated
from nightly_batch.rules.confidence import Invalid, Scored, is_selected, score_item
from nightly_batch.rules.marking import Rule, digest_entries, mark_queue
from nightly_batch.settings.config import ConfidenceWeights

WEIGHTS = ConfidenceWeights()
RULE = Rule(threshold=0.75, weights=WEIGHTS, keyword_score_max=10)


@pytest.mark.parametrize(
    ("item", "confidence", "selected"),
    [
        ({"score": 0.82}, 0.82, True),
        ({"score": 0.45}, 0.45, False),
        ({"score": 0.75}, 0.75, False),  # exactly the threshold is not above it
        ({"score": 0.750001}, 0.750001, True),  # just above it
        ({"score": 1}, 1.0, True),
        ({"score": 0}, 0.0, False),
        ({"score": 8}, 0.8, True),  # a raw keyword-weight sum, normalised by 10
        ({"score": 5}, 0.5, False),  # the sweeper's minimum no longer passes by itself
        ({"score": 7.5}, 0.75, False),
        ({"score": 15}, 1.0, True),  # capped at 1
        ({"score": 0.5, "llmScore": 0.9}, 0.74, False),  # 0.4*0.5 + 0.6*0.9
        ({"score": 9, "llmScore": 0.9}, 0.9, True),
        ({"score": 0.75, "llmScore": 0.75}, 0.75, False),  # float noise must not tip it over
        ({"score": 1, "llmScore": 1.7}, 1.0, True),  # the model part is clamped to [0, 1]
        ({"score": 1, "llmScore": -3}, 0.4, False),
        ({"score": 0.9, "modelScore": 0.2}, 0.48, False),  # modelScore is the other name
        ({"score": 0.9, "llmScore": None}, 0.9, True),  # null means no model part
    ],
)
def test_confidence_and_selection(item: dict[str, Any], confidence: float, selected: bool) -> None:
    """Each row: the computed confidence and whether it passes the strict 0.75 threshold."""
    scored = score_item(item, WEIGHTS, keyword_score_max=10)

    assert isinstance(scored, Scored)
    assert math.isclose(scored.confidence, confidence, abs_tol=1e-9)
    assert is_selected(scored, 0.75) is selected


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ({}, "score is missing"),
        ({"score": None}, "score is missing"),
        ({"score": "0.9"}, "score '0.9' is not a finite number"),
        ({"score": True}, "score True is not a finite number"),
        ({"score": False}, "score False is not a finite number"),
        ({"score": -0.1}, "score -0.1 is negative"),
        ({"score": float("nan")}, "score nan is not a finite number"),
        ({"score": float("inf")}, "score inf is not a finite number"),
        ({"score": [1]}, "score [1] is not a finite number"),
        ({"score": 0.9, "llmScore": "high"}, "llmScore 'high' is not a finite number"),
        ({"score": 0.9, "llmScore": float("nan")}, "llmScore nan is not a finite number"),
    ],
)
def test_invalid_scores_are_reported_not_scored(item: dict[str, Any], reason: str) -> None:
    """A missing, non-numeric, NaN, infinite or negative score makes the lead invalid."""
    assert score_item(item, WEIGHTS, keyword_score_max=10) == Invalid(reason)


def test_custom_weights_and_keyword_maximum() -> None:
    """The weights and the keyword maximum come from the config."""
    weights = ConfidenceWeights(keyword=0.5, model=0.5)

    scored = score_item({"score": 10, "llmScore": 0.6}, weights, keyword_score_max=20)

    assert scored == Scored(0.55, 0.5, 0.6)


def test_weights_must_sum_to_one() -> None:
    """Weights that do not sum to 1 are refused."""
    with pytest.raises(ValueError, match="must sum to 1"):
        ConfidenceWeights(keyword=0.5, model=0.6)


def test_marking_sets_flags_counts_new_and_clears_stale() -> None:
    """New selections are counted, old ones kept, stale flags cleared, drafted leads untouched."""
    queue: list[Any] = [
        {"id": "new", "score": 0.9},
        {
            "id": "kept",
            "score": 0.9,
            "selectedForDraft": True,
            "selectedAt": dated("2026-11-27T23:00:00.000Z"),
        },
        {
            "id": "stale",
            "score": 0.5,
            "selectedForDraft": True,
            "selectedAt": dated("2026-11-27T23:00:00.000Z"),
        },
        {"id": "drafted", "score": 0.99, "draftRecordId": "d-1"},
        {"id": "drafted-flagged", "score": 0.99, "selectedForDraft": True, "draftRecordId": "d-2"},
        {"id": "invalid-flagged", "score": "x", "selectedForDraft": True},
        "not an object",
    ]

    selection = mark_queue(queue, RULE, dated("2026-11-28T23:00:00.000Z"))

    assert selection.marked == 1
    assert [item["id"] for _, item, _ in selection.selected] == ["new", "kept"]
    assert queue[0] == {
        "id": "new",
        "score": 0.9,
        "confidence": 0.9,
        "selectedForDraft": True,
        "selectedAt": dated("2026-11-28T23:00:00.000Z"),
    }
    assert queue[1]["selectedAt"] == dated("2026-11-27T23:00:00.000Z")
    assert queue[2] == {"id": "stale", "score": 0.5, "confidence": 0.5, "selectedForDraft": False}
    assert queue[3] == {"id": "drafted", "score": 0.99, "draftRecordId": "d-1"}
    assert queue[4] == {
        "id": "drafted-flagged",
        "score": 0.99,
        "selectedForDraft": True,
        "draftRecordId": "d-2",
    }
    assert queue[5] == {"id": "invalid-flagged", "score": "x", "selectedForDraft": False}
    assert selection.invalid == [
        ("invalid-flagged", "score 'x' is not a finite number"),
        ("#6", "queue entry is str, not an object"),
    ]


def test_digest_lists_newest_selection_first_then_by_confidence() -> None:
    """The digest order: newest selectedAt first, then highest confidence, then queue order."""
    queue: list[Any] = [
        {
            "id": "old-high",
            "score": 0.99,
            "selectedForDraft": True,
            "selectedAt": dated("2026-11-01T23:00:00.000Z"),
        },
        {"id": "new-low", "score": 0.8},
        {"id": "new-high", "score": 0.95},
        {"id": "new-low-later", "score": 0.8},
    ]
    selection = mark_queue(queue, RULE, dated("2026-11-28T23:00:00.000Z"))

    entries = digest_entries(selection, WEIGHTS)

    assert [entry["id"] for entry in entries] == [
        "new-high",
        "new-low",
        "new-low-later",
        "old-high",
    ]
    assert entries[0]["confidenceBreakdown"] == {
        "keyword": 0.95,
        "model": None,
        "weights": {"keyword": 0.4, "model": 0.6},
    }
