"""The nightly batch end to end: state in, marked state and digest out."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from structlog.testing import capture_logs

from conftest import Project
from fakes import at, dated, hours
from nightly_batch.cli.main import main
from nightly_batch.tasks.runner import run_task

Lead = Callable[..., dict[str, Any]]


def original_state(lead: Lead) -> dict[str, Any]:
    """A state shaped like the original orchestrator's, with keys other programs own."""
    return {
        "redditQueue": [
            lead(
                "queue-1",
                0.82,
                tag="priority",
                matchedKeywords=["proxy"],
                author="u/\u00e9l\u00e8ve",
            ),
            lead(
                "queue-2",
                0.45,
                tag="draft",
                entryContent="caf&eacute; \U0001f680 \u05e9\u05dc\u05d5\u05dd",
            ),
            lead("raw-sum", 9, pillar="infra", feedId=12345678901234567890123),
            lead("drafted", 15, draftRecordId="draft-77", suggestedReply="Try Caddy."),
            lead(
                "model", 6, llmScore=0.95, ctaVariant="b", futureField={"nested": [1e-300, 5e-324]}
            ),
            lead("bad", "high"),
        ],
        "pendingDocChanges": ["doc-1.md", "doc-2.md"],
        "rssSeenIds": ["t3_a", "t3_b"],
        "approvals": {
            "appr-1": {"status": "pending", "requestedAt": dated("2026-11-27T10:00:00.000Z")}
        },
        "taskExecutions": [{"taskId": "t1", "idempotencyKey": "auto-abc", "status": "success"}],
        "taskHistory": [
            {
                "id": "old",
                "type": "rss-sweep",
                "handledAt": dated("2026-11-27T10:00:00.000Z"),
                "result": "ok",
                "message": "swept",
            }
        ],
        "updatedAt": dated("2026-11-28T22:59:00.000Z"),
        "bigNumber": 123456789012345678901234567890,
        "tinyFloat": 5e-324,
        "unicode": "\u00fc\u00df \U0001f600 \u202eevil",
    }


OWNED_ITEM_FIELDS = {"selectedForDraft", "confidence", "selectedAt"}
OWNED_KEYS = {"redditQueue", "pendingDocChanges", "lastNightlyBatchAt", "taskHistory"}


def test_nightly_batch_changes_only_what_it_owns(project: Project, lead: Lead) -> None:
    """Every key and item field we do not own is unchanged in value after a batch."""
    before = original_state(lead)
    project.write_state(before)

    outcome = run_task(project.app(), "nightly-batch", "manual")

    after = project.read_state()
    assert outcome.ok, outcome.message
    for key in before.keys() - OWNED_KEYS:
        assert after[key] == before[key], key
    assert list(after)[: len(before)] == list(before)
    for old, new in zip(before["redditQueue"], after["redditQueue"], strict=True):
        assert {k: v for k, v in new.items() if k not in OWNED_ITEM_FIELDS} == old
    assert after["taskHistory"][0] == before["taskHistory"][0]


def test_nightly_batch_marks_and_writes_the_digest(project: Project, lead: Lead) -> None:
    """The state gets flags and confidences; the digest lists the selected leads with breakdowns."""
    project.write_state(original_state(lead))
    project.clock.set(at(dated("2026-11-28T23:00:00.123Z")))

    outcome = run_task(project.app(), "nightly-batch", "schedule")

    state = project.read_state()
    queue = {item["id"]: item for item in state["redditQueue"]}
    assert outcome.message == "nightly batch: synced 2 docs, marked 3 for draft"
    assert queue["queue-1"]["selectedForDraft"] is True
    assert queue["queue-1"]["confidence"] == 0.82
    assert "selectedForDraft" not in queue["queue-2"]
    assert queue["raw-sum"]["confidence"] == 0.9
    assert queue["model"]["confidence"] == 0.81  # 0.4 * 0.6 + 0.6 * 0.95
    assert "confidence" not in queue["drafted"]
    assert state["pendingDocChanges"] == []
    assert state["lastNightlyBatchAt"] == dated("2026-11-28T23:00:00.123Z")
    assert state["taskHistory"][-1] | {"id": "-"} == {
        "id": "-",
        "type": "nightly-batch",
        "handledAt": dated("2026-11-28T23:00:00.123Z"),
        "result": "ok",
        "message": "nightly batch: synced 2 docs, marked 3 for draft",
    }
    digest_path = project.digests / dated("digest-2026-11-28.json")
    digest = project.read_json(digest_path)
    assert list(digest) == [
        "generatedAt",
        "batchId",
        "digestDate",
        "timeZone",
        "summary",
        "precision",
        "nearMisses",
        "redditQueue",
        "docChanges",
    ]
    assert digest["generatedAt"] == dated("2026-11-28T23:00:00.123Z")
    assert digest["digestDate"] == dated("2026-11-28")
    assert digest["timeZone"] == "UTC"
    assert digest["summary"] == {
        "docsProcessed": 2,
        "queueTotal": 6,
        "markedForDraft": 3,
        "selectedTotal": 3,
        "invalidItems": 1,
        "threshold": 0.75,
        "listedTotal": 3,
        "suppressed": {
            "belowThreshold": 1,
            "invalid": 1,
            "alreadyDrafted": 1,
            "duplicate": 0,
            "stale": 0,
        },
    }
    assert digest["nearMisses"] == []  # queue-2's 0.45 is far below 0.75
    assert [item["id"] for item in digest["redditQueue"]] == ["raw-sum", "queue-1", "model"]
    assert digest["redditQueue"][2]["confidenceBreakdown"] == {
        "keyword": 0.6,
        "model": 0.95,
        "weights": {"keyword": 0.4, "model": 0.6},
    }
    assert digest["redditQueue"][2]["futureField"] == {"nested": [1e-300, 5e-324]}
    assert digest["docChanges"] == ["doc-1.md", "doc-2.md"]
    assert digest_path.stat().st_mode & 0o777 == 0o640


def test_the_digest_is_named_by_the_business_date_in_the_configured_zone(project: Project) -> None:
    """23:30 on 2026-03-07 in Los Angeles is 03-08 in UTC; the digest still says 03-07."""
    project.write_config(digestTimeZone="America/Los_Angeles")
    project.write_state({"redditQueue": []})
    project.clock.set(at("2026-03-08T07:30:00Z"))

    run_task(project.app(), "nightly-batch", "schedule")

    assert project.digest_files() == ["digest-2026-03-07.json"]
    assert (
        project.read_json(project.digests / "digest-2026-03-07.json")["timeZone"]
        == "America/Los_Angeles"
    )


def test_invalid_leads_are_counted_logged_and_never_fatal(project: Project, lead: Lead) -> None:
    """Leads with unusable scores are skipped and logged with their ids; the batch succeeds."""
    # Python writers may put NaN in the file; JavaScript's JSON.stringify would write null.
    project.state_path.write_text(
        '{"redditQueue": [{"id": "ok", "score": 0.9}, {"id": "nan", "score": NaN},'
        ' {"id": "neg", "score": -1}, {"no": "id"}]}'
    )

    with capture_logs() as logs:
        outcome = run_task(project.app(), "nightly-batch", "manual")

    invalid = [
        (entry["lead"], entry["reason"]) for entry in logs if entry["event"] == "lead.invalid"
    ]
    assert outcome.ok
    assert invalid == [
        ("nan", "score NaN is not a finite number"),
        ("neg", "score -1 is negative"),
        ("#3", "score is missing"),
    ]
    assert outcome.message == "nightly batch: synced 0 docs, marked 1 for draft"


def test_a_rerun_on_the_same_day_keeps_the_first_digest_and_sends_once(
    project: Project, lead: Lead
) -> None:
    """The second digest replaces the first atomically; the first is archived; one send."""
    project.write_state({"redditQueue": [lead("a", 0.9)], "pendingDocChanges": ["doc.md"]})
    app = project.app()
    run_task(app, "nightly-batch", "schedule")
    first = project.read_json(project.digests / dated("digest-2026-11-28.json"))
    project.clock.advance(hours(0.5))

    second_outcome = run_task(app, "nightly-batch", "manual")

    second = project.read_json(project.digests / dated("digest-2026-11-28.json"))
    kept = project.read_json(
        project.digests / "archive" / dated(f"digest-2026-11-28.{first['batchId']}.json")
    )
    assert second_outcome.message == "nightly batch: synced 0 docs, marked 0 for draft"
    assert second["batchId"] != first["batchId"]
    assert kept == first
    assert second["summary"]["selectedTotal"] == 1
    assert project.digest_files() == [dated("digest-2026-11-28.json")]

    project.clock.advance(hours(7))
    sent = run_task(app, "send-digest", "schedule")
    again = run_task(app, "send-digest", "manual")

    assert sent.message == "digest notification sent (1 lead) to log"
    assert again.message == dated("digest-2026-11-28.json was already delivered to log")
    assert [m.batch_id for m in project.channels["log"].sent] == [second["batchId"]]


def test_task_history_is_capped(project: Project) -> None:
    """taskHistory keeps only the newest taskHistoryLimit entries."""
    project.write_config(taskHistoryLimit=3)
    project.write_state({"taskHistory": [{"id": str(i)} for i in range(5)]})
    app = project.app()

    run_task(app, "nightly-batch", "manual")
    run_task(app, "nightly-batch", "manual")

    history = project.read_state()["taskHistory"]
    assert [entry.get("type", entry["id"]) for entry in history] == [
        "4",
        "nightly-batch",
        "nightly-batch",
    ]


def test_a_missing_state_file_is_an_empty_queue(project: Project) -> None:
    """With no state yet, the batch writes an empty digest and creates the state."""
    outcome = run_task(project.app(), "nightly-batch", "manual")

    assert outcome.ok
    assert project.read_state()["lastNightlyBatchAt"] == dated("2026-11-28T23:00:00.000Z")
    assert (
        project.read_json(project.digests / dated("digest-2026-11-28.json"))["summary"][
            "queueTotal"
        ]
        == 0
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"redditQueue": [', "not valid JSON at line 1, column 18"),
        (b'{"redditQueue": {"a": 1}}', "'redditQueue' must be a list, not dict"),
        (b'{"pendingDocChanges": "doc.md"}', "'pendingDocChanges' must be a list, not str"),
        (b'{"taskHistory": 7}', "'taskHistory' must be a list, not int"),
    ],
)
def test_corrupt_state_exits_2_and_changes_no_file(
    project: Project, content: bytes, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A state that cannot be used is one sentence and exit 2; nothing is written anywhere."""
    project.state_path.write_bytes(content)

    code = main(["run-once", "nightly-batch", "--config", str(project.config_path)])

    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert "Traceback" not in err
    assert project.state_path.read_bytes() == content
    assert not (project.root / "orchestrator_state.json.bak").exists()
    assert project.digest_files() == []


def test_heartbeat_never_touches_the_state_file(project: Project) -> None:
    """The heartbeat records itself in the runtime store and leaves the state alone, even a bad one."""
    project.state_path.write_bytes(b"{not json")
    before = project.state_path.stat()
    app = project.app()

    outcome = run_task(app, "heartbeat", "schedule")

    after = project.state_path.stat()
    assert outcome.ok
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert app.store.last_heartbeat() == dated("2026-11-28T23:00:00.000Z")


def test_every_run_is_recorded_in_the_runtime_store(project: Project, lead: Lead) -> None:
    """Start, end, duration, result and the error of each run are kept."""
    project.write_state({"redditQueue": [lead("a", 0.9)]})
    app = project.app()
    run_task(app, "nightly-batch", "schedule")
    project.state_path.write_bytes(b"[]")
    run_task(app, "nightly-batch", "manual")

    runs = app.store.recent_runs(10, task="nightly-batch")

    assert [(run.result, run.trigger) for run in runs] == [("error", "manual"), ("ok", "schedule")]
    assert runs[1].details["selectedTotal"] == 1
    assert runs[1].ended_at == dated("2026-11-28T23:00:00.000Z")
    assert runs[0].error is not None
    assert "the top level must be a JSON object, not list" in runs[0].error


def test_state_is_unchanged_when_the_digest_cannot_be_written(project: Project, lead: Lead) -> None:
    """The digest is written first: if that fails, marks and doc changes stay as they were."""
    original = project.write_state({"redditQueue": [lead("a", 0.9)], "pendingDocChanges": ["d.md"]})
    # Something in the way of the digest file: a directory where the file should go.
    (project.digests / dated("digest-2026-11-28.json")).mkdir(parents=True)

    outcome = run_task(project.app(), "nightly-batch", "manual")

    assert not outcome.ok
    assert outcome.exit_code == 1
    after = project.read_state()
    assert after["pendingDocChanges"] == ["d.md"]
    assert "selectedForDraft" not in after["redditQueue"][0]
    assert after["taskHistory"][-1]["result"] == "error"
    assert copy.deepcopy(after["redditQueue"]) == project.decode(original)["redditQueue"]


def test_status_reads_only_the_head_of_a_digest(project: Project, lead: Lead) -> None:
    """The summary comes from the file's head; a digest in another key order is read whole."""
    from nightly_batch.storage.digests import read_digest, read_digest_head  # noqa: PLC0415

    project.write_state({"redditQueue": [lead(f"l{i}", 0.9) for i in range(50)]})
    run_task(project.app(), "nightly-batch", "manual")
    path = project.digests / dated("digest-2026-11-28.json")
    foreign = project.digests / dated("digest-2026-11-27.json")
    foreign.write_text(
        '{"redditQueue": [], "generatedAt": "x", "batchId": "b", "summary": {"selectedTotal": 0}}'
    )

    head = read_digest_head(path)

    assert "redditQueue" not in head
    assert head["summary"] == read_digest(path)["summary"]
    assert head["batchId"] == read_digest(path)["batchId"]
    assert read_digest_head(foreign)["redditQueue"] == []


def test_the_digest_lists_near_misses_newest_first_and_the_precision_of_earlier_selections(
    project: Project, lead: Lead
) -> None:
    """Near misses: the best below the threshold within the margin, at most nearMissLimit,
    newest first by post time (else queue time). Precision: earlier selections of the window
    (by selectedAt) and how many were drafted, per band."""
    posted = at(dated("2026-11-28T20:00:00Z")).timestamp()
    project.write_config(nearMissLimit=3)
    project.write_state(
        {
            "redditQueue": [
                # lead() queues at 10:00; n1 later, n5 at 10:00
                lead("n1", 0.70, queuedAt=dated("2026-11-28T12:00:00Z")),
                lead("n2", 0.74, created_utc=posted, entryContent="a long body " * 50),
                lead("n3", 0.66),  # a near miss, but the fourth best
                lead("floor", 0.65),  # exactly the margin below: not a near miss
                lead("n5", 0.75),  # exactly the threshold: not selected, the best near miss
                lead(
                    "d1",
                    0.78,
                    confidence=0.78,
                    draftRecordId="x",
                    selectedAt=dated("2026-11-20T23:00:00Z"),
                ),
                lead(
                    "s1",
                    0.95,
                    confidence=0.95,
                    selectedForDraft=True,
                    selectedAt=dated("2026-11-25T23:00:00Z"),
                ),
                lead("old", 0.9, draftRecordId="y", selectedAt=dated("2026-10-01T23:00:00Z")),
                lead(
                    "s2",
                    0.85,
                    confidence=0.85,
                    selectedForDraft=True,
                    selectedAt=dated("2026-11-26T23:00:00Z"),
                ),
            ],
            # Approved by a person (the drafting side's records): drafted, for precision.
            "approvals": [
                {"id": "ap-1", "status": "approved", "leadId": "s2"},
                {"id": "ap-2", "status": "pending", "leadId": "s1"},
            ],
        }
    )
    project.clock.set(at(dated("2026-11-28T23:00:00.000Z")))

    run_task(project.app(), "nightly-batch", "schedule")

    digest = project.read_json(project.digests / dated("digest-2026-11-28.json"))
    near = digest["nearMisses"]
    assert [card["id"] for card in near] == ["n2", "n1", "n5"]
    assert near[0] == {
        "id": "n2",
        "subreddit": near[0]["subreddit"],
        "question": near[0]["question"],
        "link": near[0]["link"],
        "created_utc": posted,
        "queuedAt": near[0]["queuedAt"],
        "confidence": 0.74,
        "confidenceBreakdown": {
            "keyword": 0.74,
            "model": None,
            "weights": {"keyword": 0.4, "model": 0.6},
        },
    }  # cut to a card: no entryContent
    assert digest["summary"]["suppressed"] == {
        "belowThreshold": 5,
        "invalid": 0,
        "alreadyDrafted": 2,
        "duplicate": 0,
        "stale": 0,
    }
    assert digest["precision"] == {
        "windowDays": 30,
        "selected": 3,
        "drafted": 2,  # d1 by its draftRecordId, s2 by its approval; s1's is only pending
        "share": 0.6667,
        "bands": [
            {"band": "0.75-0.8", "selected": 1, "drafted": 1, "share": 1.0},
            {"band": "0.8-0.9", "selected": 1, "drafted": 1, "share": 1.0},
            {"band": "0.9-1", "selected": 1, "drafted": 0, "share": 0.0},
        ],
        "suggestedThreshold": None,
    }

    # The morning's message says the same in a line each, and how old the lead is.
    project.clock.set(at(dated("2026-11-29T07:00:00.000Z")))
    with capture_logs() as logs:
        run_task(project.app(real_channels=True), "send-digest", "manual")
    notice = next(entry for entry in logs if entry["event"] == "digest.notification")
    assert notice["near_misses"] == 3
    assert notice["precision"] == "67 % of the last 30 days' selections were drafted, n=3."
    assert notice["left_out"] == "Left out: 5 below the threshold, 2 already drafted."
    listed = [entry for entry in logs if entry["event"] == "digest.lead"]
    assert [(entry["lead"], entry["age"]) for entry in listed] == [
        ("s2", "21 h ago"),
        ("s1", "21 h ago"),
    ]


def test_cross_posts_are_listed_once_and_stale_leads_left_out(project: Project, lead: Lead) -> None:
    """One post by three URLs and one question asked twice are two leads in the digest, each
    with the others in `alsoIn`; a lead older than maxLeadAgeHours is counted `stale`. The
    state keeps every lead as the rule marked it; the message says where else it was asked."""
    project.write_config(maxLeadAgeHours=48)
    project.write_state(
        {
            "redditQueue": [
                lead("p1", 9, link="https://www.reddit.com/r/selfhosted/comments/p1/x/"),
                lead("p1b", 8, subreddit="homelab", link="https://redd.it/P1"),
                lead(
                    "p1c",
                    8,
                    subreddit="docker",
                    link="https://old.reddit.com/r/docker/comments/p1?s=1",
                ),
                lead("q1", 9, author="u/asker", title="Which reverse proxy for docker?"),
                lead(
                    "q2",
                    9,
                    subreddit="linux",
                    author="u/Asker",
                    title="which reverse proxy for Docker",
                ),
                lead("old", 9, queuedAt=dated("2026-11-26T22:00:00.000Z")),
                lead("low", 2),
            ]
        }
    )
    project.clock.set(at(dated("2026-11-28T23:00:00.000Z")))

    run_task(project.app(), "nightly-batch", "schedule")

    digest = project.read_json(project.digests / dated("digest-2026-11-28.json"))
    listed = {item["id"]: item.get("alsoIn") for item in digest["redditQueue"]}
    assert listed == {
        "p1": [{"subreddit": "homelab", "id": "p1b"}, {"subreddit": "docker", "id": "p1c"}],
        "q1": [{"subreddit": "linux", "id": "q2"}],
    }
    summary = digest["summary"]
    assert (summary["selectedTotal"], summary["listedTotal"]) == (6, 2)  # all selected; listed
    assert summary["suppressed"] == {
        "belowThreshold": 1,
        "invalid": 0,
        "alreadyDrafted": 0,
        "duplicate": 3,
        "stale": 1,
    }
    state = project.read_json(project.state_path)
    assert [item["id"] for item in state["redditQueue"] if item.get("selectedForDraft")] == [
        "p1",
        "p1b",
        "p1c",
        "q1",
        "q2",
        "old",
    ]  # grouped in the digest only

    project.clock.set(at(dated("2026-11-29T07:00:00.000Z")))
    with capture_logs() as logs:
        run_task(project.app(real_channels=True), "send-digest", "manual")
    notice = next(entry for entry in logs if entry["event"] == "digest.notification")
    assert notice["left_out"] == "Left out: 1 below the threshold, 3 duplicates, 1 stale."
    first = next(entry for entry in logs if entry["event"] == "digest.lead")
    assert (first["lead"], first["also_in"]) == ("p1", ["homelab", "docker"])


def test_a_lead_that_already_holds_also_in_is_grouped_as_a_dict_would(
    project: Project, lead: Lead
) -> None:
    """A sweeper's own `alsoIn` (or a lead copied from a digest) takes the reference path,
    which replaces it where it stands on the lead that heads a group, and keeps it elsewhere."""
    project.write_state(
        {
            "redditQueue": [
                lead("a", 9, alsoIn="theirs", link="https://redd.it/p9"),
                lead("b", 8, link="https://www.reddit.com/comments/p9", alsoIn=["kept"]),
            ]
        }
    )
    project.clock.set(at(dated("2026-11-28T23:00:00.000Z")))

    run_task(project.app(), "nightly-batch", "schedule")

    digest = project.read_json(project.digests / dated("digest-2026-11-28.json"))
    (only,) = digest["redditQueue"]
    assert only["id"] == "a"
    assert list(only).index("alsoIn") < list(only).index("confidenceBreakdown")
    assert only["alsoIn"] == [{"subreddit": "selfhosted", "id": "b"}]
    state = project.read_json(project.state_path)
    assert [item["alsoIn"] for item in state["redditQueue"]] == ["theirs", ["kept"]]


def test_the_lead_selected_first_stays_the_one_listed_when_a_cross_post_arrives(
    project: Project, lead: Lead
) -> None:
    """Night one lists A; night two brings B, the same post, newly selected: A is still the
    lead listed (B in its alsoIn), so the channels that had A are not told of B as new."""
    project.write_state({"redditQueue": [lead("a", 8, link="https://redd.it/p7")]})
    project.clock.set(at(dated("2026-11-27T23:00:00.000Z")))
    run_task(project.app(), "nightly-batch", "schedule")
    state = project.read_json(project.state_path)
    state["redditQueue"].append(lead("b", 9.5, subreddit="homelab", link="/r/homelab/comments/p7/"))
    project.write_state(state)
    project.clock.set(at(dated("2026-11-28T23:00:00.000Z")))

    run_task(project.app(), "nightly-batch", "schedule")

    digest = project.read_json(project.digests / dated("digest-2026-11-28.json"))
    assert [(item["id"], item.get("alsoIn")) for item in digest["redditQueue"]] == [
        ("a", [{"subreddit": "homelab", "id": "b"}])
    ]
