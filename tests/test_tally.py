"""The digest's precision report and its suggested threshold, from counted selections."""

from __future__ import annotations

from typing import Any

import pytest

from nightly_batch.rules.tally import new_tally

STAMP = "2026-11-28T23:00:00.000Z"


def precision_of(selections: list[tuple[float, bool]], threshold: float = 0.75) -> dict[str, Any]:
    """The report for earlier selections given as (confidence, drafted), all in the window."""
    tally = new_tally(STAMP, 30)
    for confidence, drafted in selections:
        tally.precision.add("2026-11-20T23:00:00.000Z", confidence, drafted=drafted)
    return tally.precision.report(30, threshold)


def band(confidence: float, count: int, drafted: int) -> list[tuple[float, bool]]:
    return [(confidence, index < drafted) for index in range(count)]


@pytest.mark.parametrize(
    ("selections", "threshold", "suggested"),
    [
        # The lowest band is read and passed over: raise the threshold to where it pays.
        (band(0.77, 30, 6) + band(0.85, 30, 20) + band(0.95, 30, 25), 0.75, 0.8),
        # Every band pays: nothing to suggest.
        (band(0.77, 30, 20) + band(0.85, 30, 20) + band(0.95, 30, 25), 0.75, None),
        # Only the top band pays.
        (band(0.77, 30, 6) + band(0.85, 30, 9) + band(0.95, 30, 25), 0.75, 0.9),
        # Too few in a band to tell: no suggestion from it or below it.
        (band(0.77, 30, 6) + band(0.85, 30, 20) + band(0.95, 10, 9), 0.75, None),
        # Fewer than 50 selections in all: too little to say anything.
        (band(0.77, 20, 2) + band(0.85, 20, 19), 0.75, None),
        # The threshold is already at the suggestion.
        (band(0.77, 30, 6) + band(0.85, 30, 20) + band(0.95, 30, 25), 0.8, None),
        # Never a lower threshold: nothing says how often an unselected lead would be drafted.
        (band(0.77, 30, 25) + band(0.85, 30, 25) + band(0.95, 30, 25), 0.85, None),
    ],
)
def test_a_threshold_is_suggested_only_with_enough_data(
    selections: list[tuple[float, bool]], threshold: float, suggested: float | None
) -> None:
    assert precision_of(selections, threshold)["suggestedThreshold"] == suggested


def test_the_window_counts_selections_before_this_batch_and_within_its_days() -> None:
    tally = new_tally(STAMP, 30)
    for stamp in (
        "2026-10-29T23:00:00.000Z",  # exactly 30 days before: in
        "2026-10-29T22:59:59.999Z",  # just before the window
        STAMP,  # this batch's own selections: too new to have been drafted
        "2026-11-28T23:00:00.000+01:00",  # an hour earlier, in another offset: in
        "yesterday",
        "2026-11-20T23:00:00",  # no offset: not an instant
    ):
        tally.precision.add(stamp, 0.8, drafted=True)
    report = tally.precision.report(30, 0.75)
    assert (report["selected"], report["drafted"], report["share"]) == (2, 2, 1.0)
    assert report["bands"][1] == {"band": "0.8-0.9", "selected": 2, "drafted": 2, "share": 1.0}


def test_approvals_are_read_leniently_in_either_shape() -> None:
    """The drafting side's records: a list or an object of them; only "approved" ones that
    name a lead count, and nothing else in them is ever an error."""
    from nightly_batch.rules.approvals import approved_leads  # noqa: PLC0415

    listed = [
        {"status": "approved", "leadId": "a"},
        {"status": " Approved ", "itemId": "b"},
        {"status": "pending", "leadId": "c"},
        {"status": "rejected", "redditId": "d"},
        {"status": "approved", "queueItemId": "e"},
        {"status": "approved", "leadId": 7},
        {"status": "approved"},
        "junk",
        None,
    ]
    keyed = {"appr-1": {"status": "approved", "leadId": "f"}, "appr-2": {"status": "pending"}}

    assert approved_leads(listed) == {"a", "b", "e"}
    assert approved_leads(keyed) == {"f"}
    assert approved_leads(None) == frozenset()
    assert approved_leads("approved") == frozenset()
