"""What one pass over the queue learns beside the selection: the near misses, the drafted leads
and the earlier selections that tell how precise the threshold has been (issue 19).

Both batch paths (marking for dicts, fastmark for bytes) feed one Tally per pass; a test holds
them to the same digest.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from nightly_batch.rules.confidence import Scored

# The confidence bands precision is shown in; the first starts at the default threshold.
BANDS = ((0.75, 0.8), (0.8, 0.9), (0.9, 1.0))
# Below these counts a band's share says little, and no threshold is suggested from it.
SUGGESTION_MIN_TOTAL = 50
SUGGESTION_MIN_BAND = 20
# A band where fewer than this share of the selections were drafted costs more reading than
# it pays: the suggestion is the lowest band's floor that reaches it.
SUGGESTION_DRAFTED_SHARE = 0.5


def _number(value: Any) -> float | None:
    """A confidence as a float; None for anything else (`true`, text, an integer beyond any
    float). Literal subclasses (json_literals) count as the numbers they are."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return float(value)
    except OverflowError:
        return None


@dataclass(slots=True)
class Precision:
    """Selections made in the window before this batch (by their `selectedAt`), and how many
    of them were drafted, overall and per band of the confidence they were selected with."""

    start: str  # the window, [start, end), as ISO-8601 instants
    end: str
    selected: int = 0
    drafted: int = 0
    bands: list[list[int]] = field(default_factory=lambda: [[0, 0] for _ in BANDS])
    _seen: dict[str, bool] = field(default_factory=dict)  # selectedAt -> within the window
    # The ids of leads approved in the state's `approvals` (rules/approvals): drafted too.
    approved: frozenset[str] = frozenset()

    def add(self, selected_at: Any, confidence: Any, *, drafted: bool, lead_id: Any = None) -> None:
        """One lead as read, before this batch changed it."""
        if not isinstance(selected_at, str):
            return
        within = self._seen.get(selected_at)
        if within is None:
            # One batch stamps all its selections alike, so a handful of values recur.
            within = self._seen[selected_at] = self._within(selected_at)
        if not within:
            return
        # Only text ids: a number keeps its literal in one batch path and not the other.
        drafted = drafted or (isinstance(lead_id, str) and str(lead_id) in self.approved)
        self.selected += 1
        self.drafted += drafted
        value = _number(confidence)
        for band, (low, high) in zip(self.bands, BANDS, strict=True):
            if (
                value is not None
                and math.isfinite(value)
                and low <= value
                and (value < high or high == 1.0)
            ):
                band[0] += 1
                band[1] += drafted
                break

    def _within(self, stamp: str) -> bool:
        try:
            moment = datetime.fromisoformat(stamp)
        except ValueError:
            return False
        start, end = datetime.fromisoformat(self.start), datetime.fromisoformat(self.end)
        if moment.tzinfo is None:
            return False
        return start <= moment < end

    def merge(self, other: Precision) -> None:
        self.selected += other.selected
        self.drafted += other.drafted
        for mine, theirs in zip(self.bands, other.bands, strict=True):
            mine[0] += theirs[0]
            mine[1] += theirs[1]

    def report(self, days: int, threshold: float) -> dict[str, Any]:
        """The digest's `precision`."""
        bands = [
            {"band": f"{low:g}-{high:g}", "selected": n, "drafted": d, "share": _share(d, n)}
            for (low, high), (n, d) in zip(BANDS, self.bands, strict=True)
        ]
        return {
            "windowDays": days,
            "selected": self.selected,
            "drafted": self.drafted,
            "share": _share(self.drafted, self.selected),
            "bands": bands,
            "suggestedThreshold": self._suggestion(threshold),
        }

    def _suggestion(self, threshold: float) -> float | None:
        """The lowest band floor from which every band up reaches SUGGESTION_DRAFTED_SHARE,
        each with enough selections, when it is above the threshold in use. Only a raise is
        ever suggested: a lead below the threshold is never selected, so nothing tells how
        often it would have been drafted."""
        if self.selected < SUGGESTION_MIN_TOTAL:
            return None
        floor = None
        for (low, _), (n, d) in reversed(list(zip(BANDS, self.bands, strict=True))):
            if n < SUGGESTION_MIN_BAND or d / n < SUGGESTION_DRAFTED_SHARE:
                break
            floor = low
        if floor is None or floor <= threshold + 1e-9:
            return None
        return floor


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass(slots=True)
class Tally:
    """What a pass over the queue counted beside the selection."""

    precision: Precision
    drafted: int = 0
    near: list[tuple[int, Scored]] = field(default_factory=list)  # (index, Scored), queue order

    def merge(self, other: Tally, index: int) -> None:
        """A one-lead pass's tally (fastmark's dict fallback) as lead `index` of this one."""
        self.drafted += other.drafted
        self.near.extend((index, scored) for _, scored in other.near)
        self.precision.merge(other.precision)


def new_tally(stamp: str, window_days: int, approved: frozenset[str] = frozenset()) -> Tally:
    """A tally whose precision window is the `window_days` before `stamp` (this batch), with
    the leads `approved` counted as drafted."""
    end = datetime.fromisoformat(stamp)
    start = end - timedelta(days=window_days)
    return Tally(Precision(start.isoformat(), end.isoformat(), approved=approved))


def best_near_misses(near: list[tuple[int, Scored]], limit: int) -> list[tuple[int, Scored]]:
    """The `limit` highest confidences among the near misses, the earlier lead first on a tie,
    in queue order (the caller orders them for people)."""
    best = heapq.nsmallest(limit, near, key=lambda entry: (-entry[1].confidence, entry[0]))
    return sorted(best, key=lambda entry: entry[0])


def suppressed(
    count: int, selected: int, invalid: int, drafted: int, duplicate: int, stale: int
) -> dict[str, int]:
    """The digest's `summary.suppressed`: why each lead of the queue is not listed. With the
    listed leads (the `selected` less the duplicates and the stale) they add up to the queue."""
    return {
        "belowThreshold": count - selected - invalid - drafted,
        "invalid": invalid,
        "alreadyDrafted": drafted,
        "duplicate": duplicate,
        "stale": stale,
    }
