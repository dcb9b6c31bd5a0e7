"""Differential test: the fast byte-level batch and the reference dict path always agree."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakes import dated
from nightly_batch.core.json_literals import indent_of, parse_literal
from nightly_batch.core.jsonio import parse_json
from nightly_batch.rules.batch_plan import BatchInputs, BatchPlan, plan_from_bytes, plan_from_dicts
from nightly_batch.rules.fastmark import NotFast
from nightly_batch.rules.marking import Rule
from nightly_batch.rules.queue_layout import GROUP, array_of
from nightly_batch.settings.config import ConfidenceWeights

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 20),
    st.floats(-2, 20, allow_nan=False),
    st.text(max_size=8),
)
SCORES = st.one_of(
    st.integers(0, 15),
    st.floats(0, 1),
    st.floats(0, 30, allow_nan=False, allow_infinity=False),
    st.just(0.75),
    st.just(7.5),
    st.just(10**400),
    st.just(-1),
    st.just("9"),
    st.just(value=True),
    st.none(),
)
# Duplicates: two posts in many URL forms, one person asking one question twice.
ASKED = {
    "link": st.sampled_from(
        [
            "https://www.reddit.com/r/a/comments/Ab12/x/",
            "https://old.reddit.com/r/b/comments/ab12?utm=1",
            "https://redd.it/ab12",
            "/r/c/comments/cd34/",
            "https://example.com/comments/ab12/",
        ]
    ),
    # json.dumps escapes "é": the reference path reads that as a str subclass, msgspec as str.
    "author": st.sampled_from(["u/asker", "[deleted]", "u/other", "u/Jos\u00e9"]),
    "title": st.sampled_from(
        ["How do I back up?", "how do I back-up", "Why cron?", "\u00bfQu\u00e9 es un cron job?"]
    ),
}
LEADS = st.fixed_dictionaries(
    {"id": st.one_of(st.text(max_size=6), st.integers(), st.none())},
    optional={
        "score": SCORES,
        "llmScore": st.one_of(st.floats(-1, 2, allow_nan=False), st.none(), st.text(max_size=3)),
        "modelScore": st.floats(0, 1),
        "draftRecordId": st.one_of(st.none(), st.just(""), st.just("d-1")),
        "selectedForDraft": st.one_of(st.booleans(), st.none(), st.just(1), st.just("x")),
        "selectedAt": st.one_of(st.just("2026-11-01T23:00:00.000Z"), st.none()),
        "confidence": st.one_of(st.floats(0, 1), st.just(0.9), st.just(0.5)),
        "confidenceBreakdown": st.just({"old": True}),
        "question": st.text(max_size=20),
        "queuedAt": st.sampled_from(["2026-11-27T08:00:00Z", "2026-11-28T08:00:00Z", "soon"]),
        "created_utc": st.one_of(st.integers(1_700_000_000, 1_800_000_000), st.just("x")),
        **ASKED,
        "subreddit": st.sampled_from(["selfhosted", "homelab"]),
        "bigNumber": st.just(123456789012345678901234567890),
        "nested": st.dictionaries(st.text(max_size=4), SCALARS, max_size=3),
    },
)
# Selected leads that share posts and questions: what duplicate grouping and maxLeadAgeHours
# work on (LEADS alone is mostly invalid, and is rarely selected twice).
SELECTED = st.fixed_dictionaries(
    {
        "id": st.one_of(st.sampled_from(["a", "b"]), st.text(max_size=6), st.integers()),
        "score": st.integers(8, 15),
    },
    optional={
        **ASKED,
        "subreddit": st.one_of(st.sampled_from(["selfhosted", "homelab"]), st.integers()),
        "queuedAt": st.sampled_from(["2026-11-27T08:00:00Z", "2026-11-28T20:00:00Z", "soon"]),
        "created_utc": st.one_of(st.integers(1_700_000_000, 1_800_000_000), st.just("x")),
        "selectedAt": st.just("2026-11-01T23:00:00.000Z"),
        "entryContent": st.text(max_size=10),
    },
)
QUEUE = st.lists(st.one_of(LEADS, SCALARS), max_size=25)
STATES = st.fixed_dictionaries(
    {"redditQueue": QUEUE},
    optional={
        "pendingDocChanges": st.one_of(st.lists(st.text(max_size=6), max_size=3), st.none()),
        "taskHistory": st.one_of(
            st.lists(st.fixed_dictionaries({"id": st.text(max_size=4)}), max_size=3), st.none()
        ),
        "rssSeenIds": st.lists(st.text(max_size=4), max_size=3),
        "lastNightlyBatchAt": st.just(dated("2026-11-27T23:00:00.000Z")),
        "unknown": st.dictionaries(st.text(max_size=4), SCALARS, max_size=3),
    },
)
INPUTS = BatchInputs(
    stamp=dated("2026-11-28T23:00:00.000Z"),
    batch_id="b-1",
    day=date(2026, 11, 28),
    zone="UTC",
    rule=Rule(0.75, ConfidenceWeights(), 10.0),
    weights=ConfidenceWeights(),
    history_limit=3,
    state_path=Path("state.json"),
)


def same_ids(state: Any) -> Any:
    for entry in state.get("taskHistory", []):
        if entry.get("type") == "nightly-batch":
            entry["id"] = "-"
    return state


def lead_lines(digest: bytes | bytearray) -> list[Any]:
    """The digest's lead lines, each parsed on its own: it must hold one whole lead per line."""
    # split("\n"), not splitlines(): a lead may hold U+0085 or U+2028, which splitlines() breaks at.
    lines = digest.decode().split("\n")
    if '  "redditQueue": [],' in lines:
        return []
    start = lines.index('  "redditQueue": [')
    end = lines.index("  ],", start)
    return [json.loads(line.strip().removesuffix(",")) for line in lines[start + 1 : end]]


def reference_plan(data: bytes) -> BatchPlan:
    """The dict path as the batch takes it: every literal kept, in the file's layout."""
    return plan_from_dicts(parse_literal(data), INPUTS, indent=indent_of(data))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(state=STATES, indent=st.booleans(), max_age=st.sampled_from([None, 30.0]))
def test_fast_and_reference_paths_agree(
    state: dict[str, Any], indent: bool, max_age: float | None
) -> None:
    """Same new state, same digest, same counts and invalid leads, for any state."""
    data = json.dumps(state, indent=2 if indent else None).encode()
    inputs = replace(INPUTS, max_lead_age_hours=max_age)

    fast = plan_from_bytes(data, inputs)
    fast_digest = b"".join(fast.digest)
    reference = plan_from_dicts(parse_literal(data), inputs, indent=indent_of(data))

    assert same_ids(parse_json(b"".join(fast.state))) == same_ids(
        parse_json(b"".join(reference.state))
    )
    assert fast_digest == b"".join(reference.digest)
    assert lead_lines(fast_digest) == lead_lines(b"".join(reference.digest))
    assert fast.summary == reference.summary
    assert fast.invalid == reference.invalid
    assert fast.message == reference.message
    # Every lead is listed or left out for one reason.
    summary = fast.summary
    assert summary["listedTotal"] + sum(summary["suppressed"].values()) == summary["queueTotal"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    queue=st.lists(st.one_of(SELECTED, LEADS), max_size=20),
    indent=st.booleans(),
    max_age=st.sampled_from([None, 30.0]),
)
def test_the_paths_agree_on_grouped_and_stale_leads(
    queue: list[Any], indent: bool, max_age: float | None
) -> None:
    """Duplicates grouped under one lead with `alsoIn`, stale leads left out: byte for byte."""
    approvals = [{"status": "Approved", "leadId": "a"}, {"status": "pending", "leadId": "b"}]
    state = {"redditQueue": queue, "approvals": approvals}
    data = json.dumps(state, indent=2 if indent else None).encode()
    inputs = replace(INPUTS, max_lead_age_hours=max_age)

    fast = plan_from_bytes(data, inputs)
    reference = plan_from_dicts(parse_literal(data), inputs, indent=indent_of(data))

    assert b"".join(fast.digest) == b"".join(reference.digest)  # precision and its approvals too
    assert fast.summary == reference.summary
    summary = fast.summary
    assert summary["listedTotal"] + sum(summary["suppressed"].values()) == summary["queueTotal"]
    listed = lead_lines(b"".join(fast.digest))
    grouped = sum(len(lead.get("alsoIn", [])) for lead in listed)
    assert grouped == summary["suppressed"]["duplicate"]


@pytest.mark.parametrize(
    ("author", "titles"),
    [
        # json.dumps writes "é" as \u00e9: the reference path reads an escaped string as a str
        # subclass (json_literals), msgspec as str; one person all the same.
        ("u/Jos\u00e9", ["How do I back up?", "how do I back-up"]),
        # A lone surrogate, which JSON allows: the reference path takes the file (msgspec
        # refuses it) and must still tell the words.
        ("u/asker", ["\ud800 how do I back up", "\ud800 how do I back-up?"]),
    ],
)
def test_one_person_asking_twice_is_one_lead_on_both_paths(author: str, titles: list[str]) -> None:
    queue = [
        {"id": f"l{number}", "score": 9, "author": author, "title": title, "subreddit": "a"}
        for number, title in enumerate(titles)
    ]
    data = json.dumps({"redditQueue": queue}).encode()

    reference = plan_from_dicts(parse_literal(data), INPUTS, indent=indent_of(data))
    try:
        fast = b"".join(plan_from_bytes(data, INPUTS).digest)
    except NotFast:
        fast = None  # the batch then takes the reference path

    digest = b"".join(reference.digest)
    assert fast in (None, digest)
    (listed,) = lead_lines(digest)
    assert listed["alsoIn"] == [{"subreddit": "a", "id": "l1"}]
    assert reference.summary["suppressed"]["duplicate"] == 1


def test_a_lead_nested_to_the_limit_is_the_reference_paths_to_word() -> None:
    """An id nested near the parser's limit, in a lead only its id can name (invalid, or
    counted against approvals): the fast path declines it, it never raises. Which depth
    reaches the limit depends on the stack below the call, so every depth up to it is tried."""
    for depth in range(700, 1001):
        nested = "[" * depth + "]" * depth
        for lead in (
            f'{{"id":{nested},"score":"x"}}',
            f'{{"id":{nested},"score":9,"selectedAt":"x"}}',
        ):
            data = f'{{"redditQueue":[{lead}],"approvals":[{{"status":"approved","leadId":"a"}}]}}'
            try:
                plan = plan_from_bytes(data.encode(), INPUTS)
            except NotFast:
                continue
            b"".join(plan.digest)


def test_a_second_batch_leaves_every_lead_byte_for_byte_as_it_was() -> None:
    """Steady state: leads already carrying our fields are written back exactly as read."""
    from leadgen import make_state_bytes  # noqa: PLC0415

    first = b"".join(plan_from_bytes(make_state_bytes(2000), INPUTS).state)
    second = plan_from_bytes(first, INPUTS)

    def queue_of(data: bytes) -> list[dict[str, Any]]:
        return list(json.loads(data)["redditQueue"])

    assert queue_of(b"".join(second.state)) == queue_of(first)
    assert second.summary["markedForDraft"] == 0
    assert second.summary["selectedTotal"] == sum(
        1 for lead in queue_of(first) if lead.get("selectedForDraft")
    )
    start = first.index(b'"redditQueue":')
    assert (
        b"".join(second.state)[start : start + len(first) // 2]
        == first[start : start + len(first) // 2]
    )


@pytest.mark.parametrize(
    "state",
    [
        {"redditQueue": None, "pendingDocChanges": None},
        {"redditQueue": None, "note": "the sweeper has not run yet"},
        {},
    ],
)
def test_both_paths_read_a_null_or_missing_queue_as_empty(state: dict[str, Any]) -> None:
    """`"redditQueue": null` (and a missing queue) is an empty queue on either path, and the
    sweeper's value is left as it was."""
    data = json.dumps(state).encode()

    fast = plan_from_bytes(data, INPUTS)
    reference = reference_plan(data)

    fast_state = parse_json(b"".join(fast.state))
    assert ("redditQueue" in fast_state) == ("redditQueue" in state)
    assert fast_state.get("redditQueue") is None
    assert same_ids(fast_state) == same_ids(parse_json(b"".join(reference.state)))
    assert parse_json(b"".join(fast.digest)) == parse_json(b"".join(reference.digest))
    assert fast.summary == reference.summary
    assert fast.summary["queueTotal"] == 0


def test_the_fast_path_applies_the_one_confidence_rule_once_per_distinct_score(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The rule lives in rules/confidence.py only: the fast path asks it once for each distinct
    keyword score (0 and -0.0 apart) and reuses the answer for every lead that has it."""
    from nightly_batch.rules import fastmark  # noqa: PLC0415
    from nightly_batch.rules.confidence import score_item as rule  # noqa: PLC0415

    asked: list[Any] = []

    def counted(item: dict[str, Any], *arguments: Any) -> Any:
        asked.append(item.get("score"))
        return rule(item, *arguments)

    monkeypatch.setattr(fastmark, "score_item", counted)
    scores = [0.9, 3, 0.9, 0, -0.0, 3, 0, 0.5, 0.9, -0.0] * 100
    data = json.dumps({"redditQueue": [{"id": str(i), "score": s} for i, s in enumerate(scores)]})

    fast = plan_from_bytes(data.encode(), INPUTS)

    assert sorted(map(repr, asked)) == sorted(map(repr, [0.9, 3, 0, -0.0, 0.5]))
    assert fast.summary["markedForDraft"] == 300  # the 0.9s; 3 normalises to 0.3


LAYOUTS: dict[str, dict[str, Any]] = {
    "indent 2": {"indent": 2},
    "indent 4": {"indent": 4},
    "indent tab": {"indent": "\t"},
    "compact": {"separators": (",", ":")},
    "json.dumps defaults": {},
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_queue_of_thousands_of_leads_is_written_as_the_reference_path_writes_it(
    layout: str,
) -> None:
    """Byte for byte, the digest, and the state unless it is one line with spaces: the fast
    path lays out an indented queue a thousand leads at a time (spaces) or lead by lead (a
    tab), copies compact leads, and makes spaced ones compact a group at a time."""
    from leadgen import make_state  # noqa: PLC0415

    data = json.dumps(make_state(5000), ensure_ascii=False, **LAYOUTS[layout]).encode()
    fast, reference = plan_from_bytes(data, INPUTS), reference_plan(data)

    def without_history_ids(state: bytes) -> bytes:
        # The new history entry's id is made afresh by each path; every lead keeps its own.
        return re.sub(rb'("id": ?)"[^"]*"', rb'\1"-"', state)

    fast_state, reference_state = b"".join(fast.state), b"".join(reference.state)
    if layout == "json.dumps defaults":
        # The fast path keeps the sweeper's spaces in the leads it leaves as they were; the
        # reference path writes a one-line file compact.
        assert b'{"id": "t3_0000000", "subreddit": ' in fast_state
        assert same_ids(parse_json(fast_state)) == same_ids(parse_json(reference_state))
    else:
        assert without_history_ids(fast_state) == without_history_ids(reference_state)
    digest = b"".join(fast.digest)
    assert digest == b"".join(reference.digest)
    assert b'\n    {"id":"t3_' in digest  # one compact lead per line, whatever the layout
    assert fast.summary["queueTotal"] == 5000
    # More leads in the digest than one group of its lines (and of the queue's layout).
    assert fast.summary["selectedTotal"] > GROUP


@pytest.mark.parametrize("unreadable", [0, 999, 1000, 1500, 2499])
def test_a_lead_msgspec_cannot_view_in_any_thousand_keeps_the_fast_path(unreadable: int) -> None:
    """The queue's views are decoded a thousand leads at a time: a lead msgspec cannot view
    (`1e999`), in whichever group it stands, is read lead by lead within its group, without
    declining the file (plan_from_bytes would raise NotFast), and the batch writes what the
    reference path writes."""
    from leadgen import make_state  # noqa: PLC0415

    state = make_state(2500)
    state["redditQueue"][unreadable]["score"] = 12345.5  # written below as 1e999
    data = json.dumps(state, separators=(",", ":")).replace("12345.5", "1e999", 1).encode()
    fast, reference = plan_from_bytes(data, INPUTS), reference_plan(data)

    assert b'"score":1e999' in b"".join(fast.state)  # the literal kept as written
    assert b"".join(fast.digest) == b"".join(reference.digest)
    assert same_ids(parse_json(b"".join(fast.state))) == same_ids(
        parse_json(b"".join(reference.state))
    )
    assert fast.summary == reference.summary


@given(leads=st.lists(st.binary(min_size=1, max_size=8), max_size=30))
def test_array_of_is_the_leads_between_brackets_and_commas(leads: list[bytes]) -> None:
    """array_of joins in one copy what b"[" + b",".join(leads) + b"]" gives, none and one
    lead included, and takes msgspec's views of the leads as well as their bytes."""
    expected = b"[" + b",".join(leads) + b"]"

    assert array_of(leads) == expected
    assert array_of([memoryview(lead) for lead in leads]) == expected


@pytest.mark.parametrize("indent", ["  ", "    ", None])
def test_a_lead_nested_near_the_limit_is_written_or_declined_never_raised(
    indent: str | None,
) -> None:
    """A lead the fast path read is one it can write: formatting the state (an indented one
    is laid out again) or the digest (made compact again) never runs out of recursion where
    reading it did not. Which depth reaches the limit depends on the stack below the call,
    so every depth up to it is tried; the leads are written by hand, as json.dumps recurses
    too. (A tab goes through the same format_json, lead by lead, in a second a lead this
    deep.)"""

    def plan_of(depth: int) -> tuple[bytes, BatchPlan] | None:
        nested = b"[" * depth + b"]" * depth
        leads = [b'{"id":"a","score":9,"deep":%b}' % nested, b'{"id":"b","score":9}']
        if indent is None:
            data = b'{"redditQueue":[%b]}' % b",".join(leads)
        else:
            unit = indent.encode()
            inner = (b",\n" + unit * 2).join(leads)
            data = b'{\n%b"redditQueue": [\n%b%b\n%b]\n}' % (unit, unit * 2, inner, unit)
        try:
            return data, plan_from_bytes(data, INPUTS)
        except NotFast:
            return None

    def added_arrays(depth: int, data: bytes, plan: BatchPlan) -> tuple[int, int]:
        """The arrays the new state and the digest hold beyond the lead's own `depth`."""
        state, digest = b"".join(plan.state), b"".join(plan.digest)
        assert data.count(b"[") >= depth
        return state.count(b"[") - depth, digest.count(b"[") - depth

    shallow = plan_of(1)
    assert shallow is not None
    expected = added_arrays(1, *shallow)
    for depth in range(900, 1001):
        planned = plan_of(depth)
        if planned is not None:
            assert added_arrays(depth, *planned) == expected, depth
