"""The store port's contract, held by both stores: SQLite (one host) and a real PostgreSQL.

The same calls, the same answers: the SQL is shared, so what differs is only how each
database runs it (placeholders, upserts, RETURNING, the compare and sets).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from nightly_batch.core.names import RecordStatus, RunResult
from nightly_batch.storage.port import RuntimeStore
from nightly_batch.storage.records import AlertRecord, AttemptOutcome, SilenceRecord
from pg import postgres_url  # noqa: F401  (a fixture)

T0 = "2026-11-28T23:00:00.000Z"
T1 = "2026-11-28T23:00:05.000Z"
T2 = "2026-11-29T07:00:00.000Z"


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RuntimeStore]:
    if request.param == "sqlite":
        from nightly_batch.storage.sqlite import SqliteStore  # noqa: PLC0415

        opened: RuntimeStore = SqliteStore(tmp_path / "nightly_batch.db")
    else:
        from nightly_batch.storage.postgres import PostgresStore  # noqa: PLC0415

        opened = PostgresStore(request.getfixturevalue("postgres_url"), "node-a")
    try:
        yield opened
    finally:
        opened.close()


def test_a_run_is_recorded_counted_and_summed_per_day(store: RuntimeStore) -> None:
    run_id = store.start_run("nightly-batch", "schedule", T0, 4242, slot="2026-11-28")
    assert [run.id for run in store.running_runs()] == [run_id]

    store.finish_run(
        run_id,
        ended_at=T1,
        duration_s=5.0,
        result=RunResult.OK,
        message="marked 3",
        error=None,
        details={"selected": 3},
    )

    last = store.last_runs()["nightly-batch"]
    assert (last.result, last.message, last.details, last.slot) == (
        RunResult.OK,
        "marked 3",
        {"selected": 3},
        "2026-11-28",
    )
    assert store.running_runs() == []
    assert store.last_success("nightly-batch") == T0
    assert store.first_run("nightly-batch") == T0
    assert store.daily_results("2026-11-01") == [("2026-11-28", "nightly-batch", "ok", 1, 5.0)]
    assert store.counters("runs") == [(("nightly-batch", "ok"), 1)]
    assert store.slot_run("nightly-batch", "2026-11-28") == last
    assert [run.id for run in store.recent_runs(5, "nightly-batch")] == [run_id]


def test_a_slot_is_claimed_once_and_an_interrupted_claim_taken_over_once(
    store: RuntimeStore,
) -> None:
    assert store.claim_slot("send-digest", "2026-11-29", T0, "schedule") is True
    assert store.claim_slot("send-digest", "2026-11-29", T1, "catch-up") is False
    assert store.slot_claim("send-digest", "2026-11-29") == T0
    assert store.first_activity() == T0

    assert store.reclaim_slot("send-digest", "2026-11-29", T0, T2, "catch-up") is True
    # The second taker compares with the claim it read, which is gone.
    assert store.reclaim_slot("send-digest", "2026-11-29", T0, T2, "catch-up") is False
    assert store.slot_claim("send-digest", "2026-11-29") == T2


def test_a_delivery_is_recorded_before_and_after_its_attempt(store: RuntimeStore) -> None:
    first = store.begin_delivery("batch-1", "slack", "2026-11-28", "digest.json", T0)
    again = store.begin_delivery("batch-1", "slack", "2026-11-28", "digest.json", T1)
    assert (first.attempts, again.attempts, again.status) == (1, 2, "pending")
    assert [record.channel for record in store.unsent_deliveries("2026-11-01")] == ["slack"]

    store.finish_delivery(
        "batch-1", "slack", AttemptOutcome(status=RecordStatus.AMBIGUOUS, error="timed out"), T2
    )
    assert store.ambiguous_dates("2026-11-01") == ["2026-11-28"]
    assert store.resolve_ambiguous("batch-1", "slack", "sent", "seen in Slack") is True
    assert store.resolve_ambiguous("batch-1", "slack", "sent", "again") is False

    record = store.delivery("batch-1", "slack")
    assert record is not None
    assert (record.status, record.note, record.last_error) == ("sent", "seen in Slack", "timed out")
    assert store.last_delivered_at() == T2
    assert store.delivery_counts() == [("slack", "sent", 1)]
    assert store.counters("deliveries") == [(("slack", "ambiguous"), 1)]
    assert [r.batch_id for r in store.deliveries_on("2026-11-28")] == ["batch-1"]
    assert [r.channel for r in store.deliveries_for("batch-1")] == ["slack"]


def test_heartbeats_facts_and_pruning(store: RuntimeStore) -> None:
    store.record_heartbeat(T2, 1)
    store.record_heartbeat(T0, 1)  # the clock stepped back: the last written is the truth
    assert store.last_heartbeat() == T0
    store.set_fact("installedAt", {"at": T0}, T0)
    store.set_fact("installedAt", {"at": T1}, T1)
    assert store.fact("installedAt") == {"at": T1}
    assert store.fact("missing") is None
    old = store.start_run("heartbeat", "schedule", T0, 1)
    store.finish_run(
        old, ended_at=T0, duration_s=0.0, result=RunResult.OK, message=None, error=None, details={}
    )

    removed = store.prune(heartbeats_before=T1, runs_before=T0)

    assert removed == 2  # the T0 heartbeat and the heartbeat run
    assert store.last_heartbeat() == T2


def alert(state: str, at: str) -> AlertRecord:
    return AlertRecord(
        fingerprint="task_failed:nightly-batch",
        name="task_failed",
        task="nightly-batch",
        severity="critical",
        state=state,
        summary="the batch failed",
        run_id=None,
        started_at=T0,
        updated_at=at,
        resolved_at=None,
        last_notified_at=None,
        notified_severity=None,
    )


def test_an_alert_moves_only_from_the_state_its_writer_read(store: RuntimeStore) -> None:
    alerts = store.alerts
    firing = alert("firing", T0)
    notice_id = alerts.transition(
        None, firing, ("firing", "critical", "the batch failed", "pending", T0)
    )
    assert isinstance(notice_id, int)
    assert alerts.transition(None, alert("firing", T1), None) is False  # it is no longer absent
    assert alerts.transition(firing, alert("resolved", T1), None) is None
    assert [record.state for record in alerts.all()] == ["resolved"]
    assert alerts.firing() == []

    alerts.finish_notification(notice_id, "sent", "slack", None)
    [notice] = alerts.notifications(status="sent")
    assert (notice.id, notice.channel, notice.kind) == (notice_id, "slack", "firing")
    assert alerts.sent_since(T0) == 1
    assert [alerts.count_failure("nightly-batch", at) for at in (T0, T1)] == [1, 2]
    alerts.reset_failures("nightly-batch")
    assert alerts.count_failure("nightly-batch", T2) == 1

    silence = SilenceRecord("s1", "task_*", "*", "maintenance", T0, T2)
    alerts.add_silence(silence)
    assert alerts.silences(T1) == [silence]
    assert alerts.remove_silence("s1") is True
    assert alerts.remove_silence("s1") is False
    assert alerts.purge_resolved(T2) == 1


def test_of_many_threads_racing_for_one_alert_change_one_wins(store: RuntimeStore) -> None:
    """The compare and set holds under contention, in one process as across two."""
    outcomes: list[object] = []
    start = threading.Barrier(8)

    def race() -> None:
        start.wait()
        outcomes.append(store.alerts.transition(None, alert("firing", T0), None))

    threads = [threading.Thread(target=race) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(map(repr, outcomes)) == ["False"] * 7 + ["None"]


def test_a_digest_kept_for_the_other_host_comes_back_byte_for_byte(
    tmp_path: Path,
    postgres_url: str,  # noqa: F811
) -> None:
    """Several compressed chunks (over a megabyte of incompressible text), a second version
    of the same date replacing the first on the host that lacked it, the old one archived."""
    import json  # noqa: PLC0415
    import random  # noqa: PLC0415

    from nightly_batch.storage.digest_sharing import bring_digests_here, share_digest  # noqa: PLC0415
    from nightly_batch.storage.postgres import PostgresStore  # noqa: PLC0415

    store = PostgresStore(postgres_url, "node-a")
    here, there = tmp_path / "a", tmp_path / "b"
    here.mkdir()
    rng = random.Random(5)
    try:
        versions = []
        for batch in ("batch-1", "batch-2"):
            noise = "".join(rng.choice("abcdefghij0123456789") for _ in range(1_500_000))
            head = {"generatedAt": T0, "batchId": batch, "digestDate": "2026-11-28"}
            path = here / "digest-2026-11-28.json"
            path.write_text(json.dumps({**head, "summary": {}, "redditQueue": [noise]}))
            versions.append(path.read_bytes())
            share_digest(store, path, head, T1 if batch == "batch-1" else T2, "2026-11-01")
            if batch == "batch-1":
                assert bring_digests_here(store, there, "2026-11-01") == [
                    there / "digest-2026-11-28.json"
                ]
                assert (there / "digest-2026-11-28.json").read_bytes() == versions[0]

        assert bring_digests_here(store, there, "2026-11-01") == [there / "digest-2026-11-28.json"]
        assert (there / "digest-2026-11-28.json").read_bytes() == versions[1]
        assert (there / "archive" / "digest-2026-11-28.batch-1.json").read_bytes() == versions[0]
        assert bring_digests_here(store, there, "2026-11-01") == []  # it has the newest now
        assert [d.batch_id for d in store.shared_digests("2026-11-01")] == ["batch-1", "batch-2"]
    finally:
        store.close()
