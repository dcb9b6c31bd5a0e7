"""The leader lease and its fence on a real PostgreSQL: one leader, takeovers with a new
epoch, and no decisive write from anyone but the current leader.

The database's clock decides expiry, so a test moves a lease past its expiry by writing the
row (as the passing of time would), and the leader's own monotonic clock is a fake one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest

from nightly_batch.errors import FencedError
from nightly_batch.storage.postgres import PostgresStore
from nightly_batch.storage.postgres_lease import LeaderLease
from nightly_batch.storage.records import SilenceRecord
from pg import postgres_url  # noqa: F401  (a fixture)

T0 = "2026-11-28T23:00:00.000Z"


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


MADE: list[LeaderLease] = []


@pytest.fixture(autouse=True)
def _close_leases() -> Iterator[None]:
    yield
    while MADE:
        MADE.pop().close()


@pytest.fixture
def stores(postgres_url: str) -> Iterator[list[PostgresStore]]:  # noqa: F811
    opened = [PostgresStore(postgres_url, "node-a"), PostgresStore(postgres_url, "node-b")]
    try:
        yield opened
    finally:
        while MADE:
            MADE.pop().close()
        for store in opened:
            store.close()


def lease_of(store: PostgresStore, node: str, clock: Monotonic) -> LeaderLease:
    """A daemon's lease on `store`, closed after the test."""
    made = store.leader_lease(node, clock, 30.0)
    MADE.append(made)
    return made


def expire(url: str) -> None:
    """The lease's time has run out, as the database's clock counts it."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("UPDATE leader_lease SET expires_at = now() - interval '1 second'")


def leases(stores: list[PostgresStore], clock: Monotonic) -> list[LeaderLease]:
    return [lease_of(store, node, clock) for store, node in zip(stores, "ab", strict=True)]


def test_one_daemon_leads_and_the_other_stands_by(stores: list[PostgresStore]) -> None:
    clock = Monotonic()
    first, second = leases(stores, clock)

    assert first.attempt() is True
    assert second.attempt() is False
    assert (first.epoch, second.epoch) == (1, None)
    assert first.attempt() is True  # a renewal keeps the epoch
    assert first.epoch == 1
    view = second.view()
    assert view is not None
    assert (view.holder, view.epoch) == ("a", 1)
    assert 0 < view.expires_in_s <= 30


def test_the_leader_stops_trusting_its_lease_by_its_own_clock(
    stores: list[PostgresStore],
) -> None:
    """Renewed at t, it starts work until t + 20 s (30 s less the safety third), not after."""
    clock = Monotonic()
    lease = leases(stores, clock)[0]
    assert lease.attempt()

    clock.now += 19.9
    assert lease.trusted()
    clock.now += 0.2
    assert not lease.trusted()


def test_an_expired_lease_is_taken_over_with_a_new_epoch_and_the_old_leader_fenced(
    stores: list[PostgresStore],
    postgres_url: str,  # noqa: F811
) -> None:
    clock = Monotonic()
    old, new = leases(stores, clock)
    assert old.attempt()
    assert stores[0].claim_slot("nightly-batch", "2026-11-28", T0, "schedule")

    expire(postgres_url)
    assert new.attempt() is True
    assert new.epoch == 2

    # The old leader's writes are refused in their own transaction, before it even knows.
    with pytest.raises(FencedError):
        stores[0].claim_slot("nightly-batch", "2026-11-29", T0, "schedule")
    with pytest.raises(FencedError, match="epoch 1 was taken over"):
        old.attempt()
    assert stores[1].claim_slot("nightly-batch", "2026-11-29", T0, "schedule")
    assert stores[1].slot_claim("nightly-batch", "2026-11-29") == T0


def test_a_standby_decides_nothing_but_the_operator_still_can(
    stores: list[PostgresStore],
) -> None:
    clock = Monotonic()
    leader, standby = leases(stores, clock)
    assert leader.attempt()
    assert not standby.attempt()

    with pytest.raises(FencedError, match="standby"):
        stores[1].start_run("send-digest", "schedule", T0, 1)
    # A silence is the operator's, written from whichever host they are on.
    stores[1].alerts.add_silence(SilenceRecord("s1", "*", "*", "maintenance", T0, "2026-12-01"))
    assert [silence.id for silence in stores[0].alerts.silences(T0)] == ["s1"]


def test_a_killed_lease_connection_is_replaced_and_the_lease_kept(
    stores: list[PostgresStore],
    postgres_url: str,  # noqa: F811
) -> None:
    clock = Monotonic()
    lease = leases(stores, clock)[0]
    assert lease.attempt()
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        terminated = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid != pg_backend_pid() "
            "AND query LIKE '%cluster_nodes%'"
        ).fetchall()
    assert terminated  # the lease's own connection (its last statement), apart from the pool

    # The dead connection is replaced within the attempt: the same unexpired lease, no blip.
    assert lease.attempt() is True
    assert (lease.reachable, lease.epoch) == (True, 1)


def test_of_standbys_racing_for_an_expired_lease_exactly_one_takes_it(
    stores: list[PostgresStore],
    postgres_url: str,  # noqa: F811
) -> None:
    clock = Monotonic()
    first = leases(stores, clock)[0]
    assert first.attempt()
    # Six daemons, each its own process: a store (and so an instance) of its own.
    racing_stores = [PostgresStore(postgres_url, f"racer-{n}") for n in range(6)]
    racers = [lease_of(store, f"racer-{n}", clock) for n, store in enumerate(racing_stores)]
    for round_number in range(10):
        expire(postgres_url)
        start = threading.Barrier(len(racers))
        won: list[bool] = []

        def race(lease: LeaderLease, start: threading.Barrier, won: list[bool]) -> None:
            start.wait()
            won.append(lease.attempt())

        threads = [threading.Thread(target=race, args=(lease, start, won)) for lease in racers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert won.count(True) == 1, f"round {round_number}: {won}"
        for lease in racers:  # the next round's racers are standbys again
            lease.epoch = None
    while MADE:
        MADE.pop().close()
    for store in racing_stores:
        store.close()


def test_over_a_hundred_slots_across_repeated_failovers_each_run_exactly_once(
    postgres_url: str,  # noqa: F811
) -> None:
    """Three daemons fire every slot (each thinks it is due); the lease changes hands every
    few slots, sometimes while a fenced leader still fires. Each slot is claimed and run once,
    by whoever led when it fired."""
    clock = Monotonic()
    daemons = [PostgresStore(postgres_url, f"node-{n}") for n in range(3)]
    try:
        leases = [lease_of(store, f"node-{n}", clock) for n, store in enumerate(daemons)]
        ran: dict[str, list[int]] = {}
        leader = 0
        assert leases[leader].attempt()
        for number in range(120):
            if number % 7 == 6:  # the leader dies or pauses; another takes the expired lease
                expire(postgres_url)
                leader = (leader + 1 + number % 2) % 3
                # A daemon that led before was fenced and restarted by systemd: a new lease.
                leases[leader] = lease_of(daemons[leader], f"node-{leader}", clock)
                assert leases[leader].attempt()
            slot = f"2026-11-{1 + number // 24:02d}T{number % 24:02d}:00"
            start = threading.Barrier(3)

            def fire(index: int, slot: str, start: threading.Barrier) -> None:
                store = daemons[index]
                start.wait()
                try:
                    if store.claim_slot("nightly-batch", slot, T0, "schedule"):
                        run_id = store.start_run("nightly-batch", "schedule", T0, index, slot)
                        ran.setdefault(slot, []).append(index)
                        assert run_id
                except FencedError:
                    pass  # a standby, or a leader whose lease was taken: it decides nothing

            threads = [threading.Thread(target=fire, args=(n, slot, start)) for n in range(3)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert ran.get(slot) == [leader], (slot, ran.get(slot), leader)
        assert len(ran) == 120
        runs = daemons[0].recent_runs(1000, "nightly-batch")
        assert sorted(run.slot or "" for run in runs) == sorted(ran)
        assert {run.epoch for run in runs} == set(range(1, 19))  # 17 takeovers
    finally:
        for store in daemons:
            store.close()


def test_a_leader_whose_own_lease_lapsed_gives_it_back_as_it_leaves(
    stores: list[PostgresStore],
    postgres_url: str,  # noqa: F811
) -> None:
    """After an outage longer than the lease, the old leader's attempt takes the lapsed lease
    anew (a new epoch): it is fenced, and hands the lease back at once, so the standby leads
    at its next try instead of a lease's length later."""
    clock = Monotonic()
    old, standby = leases(stores, clock)
    assert old.attempt()
    expire(postgres_url)

    with pytest.raises(FencedError):
        old.attempt()

    view = standby.view()
    assert view is not None
    assert view.expires_in_s <= 0
    assert standby.attempt() is True
    assert standby.epoch == 3  # 2 was the old leader's brief retake
