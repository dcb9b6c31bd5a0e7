"""Two daemons, two "hosts" (each its own folder and state), one real PostgreSQL: exactly one
leads; a killed leader is replaced; a paused one comes back fenced and runs nothing.

The lease is 3 s here (leaderLeaseSeconds), so each takeover takes seconds; the waits are
generous because a busy machine may be slow, and no assertion depends on its speed.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conftest import Project
from daemon_process import DaemonProcess, tail, wait_for
from nightly_batch.core.clock import iso_utc
from nightly_batch.core.locks import FileLock
from pg import postgres_url  # noqa: F401  (a fixture)
from servers import OK, Answer, tcp_proxy, webhook_server

pytestmark = pytest.mark.slow

LEASE_SECONDS = 3
BATCH_HOST_LEASE_SECONDS = 10
# The lease of the test that kills the leader's sessions: its renewal then reconnects first,
# and a 3 s lease (renewed each second) left a busy machine 2 s for that; one `.ci/run` saw
# it lapse. Twice the length leaves 4 s.
KILLED_LEASE_SECONDS = 2 * LEASE_SECONDS


def start(root: Path, url: str, node: str, **config: object) -> tuple[Project, DaemonProcess]:
    project = Project(root)
    project.write_config(**{"leaderLeaseSeconds": LEASE_SECONDS, **config})
    environ = {"NIGHTLY_BATCH_DATABASE_URL": url, "NIGHTLY_BATCH_NODE": node}
    return project, DaemonProcess(project, env=environ)


def said(daemon: DaemonProcess, event: str) -> list[str]:
    """The daemon's log lines of `event` (logfmt on a pipe)."""
    return [line for line in daemon.stderr.splitlines() if f"event={event} " in line]


def says(daemon: DaemonProcess, event: str) -> bool:
    """A wait's condition: `event` logged (and the daemon still up, see `gone`)."""
    return bool(said(daemon, event)) or gone(daemon)


def gone(daemon: DaemonProcess) -> bool:
    """False while the daemon runs; once it has exited, the test fails at once with the
    daemon's account, instead of waiting out its timeout."""
    if daemon.process.poll() is not None:
        pytest.fail(f"the daemon exited ({daemon.process.returncode}):\n{tail(daemon.err_path)}")
    return False


def epoch_of(line: str) -> int:
    found = re.search(r"\bepoch=(\d+)", line)
    assert found is not None, line
    return int(found.group(1))


def status(project: Project, url: str, node: str) -> dict[str, object]:
    environ = {**os.environ, "NIGHTLY_BATCH_DATABASE_URL": url, "NIGHTLY_BATCH_NODE": node}
    result = subprocess.run(
        project.cli("status", "--json"),
        capture_output=True,
        text=True,
        check=True,
        env=environ,
    )
    cluster = json.loads(result.stdout)["cluster"]
    assert isinstance(cluster, dict)
    return cluster


def accounts(*daemons: DaemonProcess) -> str:
    return "\n".join(f"--- daemon {n}:\n{tail(d.err_path)}" for n, d in enumerate(daemons))


def test_of_two_daemons_one_leads_and_a_killed_leader_is_replaced(
    tmp_path: Path,
    postgres_url: str,  # noqa: F811
) -> None:
    """host-a leads and starts the owed batch, held at its state's lock (the test holds it),
    so its run is under way when it is SIGKILLed. host-b takes over under epoch 2, finds the
    slot claimed by a run of the previous leader, and runs it again, with a warning."""
    from nightly_batch.storage.postgres import PostgresStore  # noqa: PLC0415

    now = datetime.now(UTC)
    store = PostgresStore(postgres_url, "check")
    store.set_fact("installedAt", iso_utc(now - timedelta(days=1)), iso_utc(now))
    schedule = {
        "nightlyBatchSchedule": cron_at(now - timedelta(minutes=10)),
        "leaderLeaseSeconds": LEASE_SECONDS,
    }
    projects = [Project(tmp_path / name) for name in ("a", "b")]
    for project in projects:
        project.write_config(**schedule)
        project.write_state({"redditQueue": [selected_lead("t3_abc123")]})
    held = FileLock(projects[0].state_path.with_name(projects[0].state_path.name + ".lock"))
    assert held.acquire()
    try:
        environ = {"NIGHTLY_BATCH_DATABASE_URL": postgres_url}
        first = DaemonProcess(projects[0], env={**environ, "NIGHTLY_BATCH_NODE": "host-a"})
        wait_for(lambda: says(first, "task.started"), 60, "host-a's batch", lambda: accounts(first))
        second = DaemonProcess(projects[1], env={**environ, "NIGHTLY_BATCH_NODE": "host-b"})
        wait_for(
            lambda: says(second, "cluster.standby"),
            60,
            "host-b to stand by",
            lambda: accounts(second),
        )
        assert status(projects[1], postgres_url, "host-b")["role"] == "standby"
        leader_view = status(projects[0], postgres_url, "host-a")
        assert (leader_view["role"], leader_view["leader"], leader_view["epoch"]) == (
            "leader",
            "host-a",
            1,
        )

        first.kill()  # SIGKILL mid-run: no resignation, the lease expires by the database's clock
        wait_for(
            lambda: says(second, "task.finished"),
            60,
            "host-b to take over and run the interrupted slot again",
            lambda: accounts(first, second),
        )
    finally:
        held.release()

    assert epoch_of(said(second, "cluster.leading")[0]) == 2
    [rerun] = said(second, "schedule.rerun_interrupted")
    assert "the previous leader's (epoch 1)" in rerun
    assert "result=ok" in said(second, "task.finished")[0]
    assert status(projects[1], postgres_url, "host-b")["role"] == "leader"
    runs = store.recent_runs(10, "nightly-batch")
    assert sorted((run.epoch, run.result) for run in runs) == [(1, "running"), (2, "ok")]
    # The operator on the other host: a run there could send beside the leader's own.
    beside = subprocess.run(
        projects[0].cli("run-once", "send-digest"),
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **environ, "NIGHTLY_BATCH_NODE": "host-a"},
    )
    assert beside.returncode == 2
    assert beside.stderr.endswith(
        "host-b leads the hosts that share this store: run send-digest there (a run here, "
        "on host-a, could send or write beside the leader's own).\n"
    )
    assert second.stop() == 0
    store.close()


def test_a_paused_leader_comes_back_fenced_and_exits_without_running_anything(
    tmp_path: Path,
    postgres_url: str,  # noqa: F811
) -> None:
    """Heartbeats every minute: the paused leader stays frozen until the new leader has run
    one, so a heartbeat of its own is overdue when it resumes. It runs none, and exits."""
    _, first = start(tmp_path / "a", postgres_url, "host-a", heartbeatMinutes=1)
    wait_for(
        lambda: says(first, "task.finished"),
        60,
        "host-a's first heartbeat",
        lambda: accounts(first),
    )
    _, second = start(tmp_path / "b", postgres_url, "host-b", heartbeatMinutes=1)
    wait_for(
        lambda: says(second, "cluster.standby"), 60, "host-b to stand by", lambda: accounts(second)
    )
    started_before = len(said(first, "task.started"))

    first.process.send_signal(signal.SIGSTOP)  # a VM paused, a process frozen
    try:
        wait_for(
            lambda: says(second, "task.finished"),
            150,
            "host-b to take over from the paused leader and run a heartbeat",
            lambda: accounts(first, second),
        )
    finally:
        first.process.send_signal(signal.SIGCONT)

    assert first.process.wait(60) == 3  # EXIT_FENCED: systemd restarts it as a standby
    assert said(first, "cluster.fenced"), accounts(first)
    assert len(said(first, "task.started")) == started_before
    assert epoch_of(said(second, "cluster.leading")[0]) == 2
    assert "task=heartbeat" in said(second, "task.finished")[0]
    assert second.stop() == 0


def test_a_leader_killed_between_its_post_and_its_record_leaves_one_labelled_duplicate(
    tmp_path: Path,
    postgres_url: str,  # noqa: F811
) -> None:
    """The morning's send-digest is owed (a catch-up at start); the Slack server kills the
    leader as its POST arrives, before any answer. The standby takes over, brings the digest
    from the store (its own digest folder is empty), finds the previous epoch's pending
    record, and sends once more, saying it may be a duplicate."""
    from nightly_batch.storage.postgres import PostgresStore  # noqa: PLC0415

    now = datetime.now(UTC)
    earlier = PostgresStore(postgres_url, "seed")
    try:  # installed a day ago: today's slots, already past, are owed
        earlier.set_fact("installedAt", iso_utc(now - timedelta(days=1)), iso_utc(now))
    finally:
        earlier.close()
    victim: list[DaemonProcess] = []

    def kill_the_sender() -> Answer:
        if len(received) == 1:
            os.kill(victim[0].process.pid, signal.SIGKILL)
        return OK

    with webhook_server(kill_the_sender) as (port, received):
        schedule = {
            "digestNotificationChannel": "slack",
            "allowedWebhookHosts": [f"127.0.0.1:{port}"],
            "nightlyBatchSchedule": cron_at(now - timedelta(minutes=20)),
            "morningNotificationSchedule": cron_at(now - timedelta(minutes=10)),
            "leaderLeaseSeconds": LEASE_SECONDS,
        }
        environ = {
            "NIGHTLY_BATCH_DATABASE_URL": postgres_url,
            "SLACK_WEBHOOK_URL": f"http://127.0.0.1:{port}/hook",
        }
        projects = [Project(tmp_path / name) for name in ("a", "b")]
        for project in projects:
            project.write_config(**schedule)
            project.write_state({"redditQueue": [selected_lead("t3_abc123")]})
        victim.append(DaemonProcess(projects[0], env={**environ, "NIGHTLY_BATCH_NODE": "host-a"}))
        wait_for(
            lambda: victim[0].process.poll() is not None,
            90,
            "host-a's send-digest to reach Slack (and be killed there)",
            lambda: accounts(victim[0]),
        )
        successor = DaemonProcess(projects[1], env={**environ, "NIGHTLY_BATCH_NODE": "host-b"})
        wait_for(
            lambda: len(received) >= 2 or (says(successor, "never logged") and False),
            90,
            "host-b to send the orphaned digest again",
            lambda: accounts(victim[0], successor),
        )
        assert successor.stop() == 0

    assert len(received) == 2, [body[:200] for _, body in received]
    first, again = (body.decode() for _, body in received)
    assert "possible duplicate" not in first
    assert "(possible duplicate)" in again
    assert said(successor, "delivery.orphaned")
    store = PostgresStore(postgres_url, "check")
    try:
        [digest] = projects[0].digests.glob("digest-*.json")
        brought = projects[1].digests / digest.name
        assert brought.read_bytes() == digest.read_bytes()  # the store's copy, byte for byte
        [record] = store.deliveries_for(json.loads(digest.read_bytes())["batchId"])
        assert (record.status, record.epoch, record.attempts) == ("sent", 2, 2)
        assert record.note is not None
        assert record.note.startswith("possible duplicate: the leader of epoch 1 died mid-send")
    finally:
        store.close()


def cron_at(moment: datetime) -> str:
    return f"{moment.minute} {moment.hour} * * *"


def selected_lead(lead_id: str) -> dict[str, object]:
    return {
        "id": lead_id,
        "subreddit": "selfhosted",
        "question": "How do I keep a nightly job honest?",
        "link": f"https://www.reddit.com/r/selfhosted/comments/{lead_id}/",
        "queuedAt": iso_utc(datetime.now(UTC) - timedelta(hours=1)),
        "score": 0.9,
    }


def test_a_leader_cut_off_by_a_silent_partition_stops_and_is_fenced_when_it_returns(
    tmp_path: Path,
    postgres_url: str,  # noqa: F811
) -> None:
    """The leader reaches the database through a proxy that stops forwarding without closing
    anything. It says the store is unreachable (in the log and through its alert channel,
    which needs no database), starts nothing, the standby takes over; healed, it is fenced."""
    import psycopg  # noqa: PLC0415
    from psycopg.conninfo import make_conninfo  # noqa: PLC0415

    with psycopg.connect(postgres_url) as probe:
        server = (probe.info.host, probe.info.port)
    with webhook_server() as (port, notices), tcp_proxy(server) as proxy:
        through_proxy = make_conninfo(postgres_url, host="127.0.0.1", port=str(proxy.port))
        project = Project(tmp_path / "a")
        project.write_config(
            leaderLeaseSeconds=LEASE_SECONDS, allowedWebhookHosts=[f"127.0.0.1:{port}"]
        )
        environ = {
            "NIGHTLY_BATCH_DATABASE_URL": through_proxy,
            "NIGHTLY_BATCH_NODE": "host-a",
            "SLACK_ERROR_WEBHOOK": f"http://127.0.0.1:{port}/alerts",
        }
        first = DaemonProcess(project, env=environ)
        # Its start's heartbeat done first: a partition in the middle of it would hold the
        # fenced daemon's exit until that run gives up (its statements then fail, slowly).
        wait_for(
            lambda: says(first, "task.finished"),
            60,
            "host-a's first heartbeat as leader",
            lambda: accounts(first),
        )
        _, second = start(tmp_path / "b", postgres_url, "host-b")
        wait_for(
            lambda: says(second, "cluster.standby"),
            60,
            "host-b to stand by",
            lambda: accounts(second),
        )

        proxy.partition()
        wait_for(
            lambda: says(second, "cluster.leading"),
            60,
            "host-b to take over from the cut-off leader",
            lambda: accounts(first, second),
        )
        wait_for(
            lambda: any(b"store is unreachable" in body for _, body in notices) or gone(first),
            60,
            "host-a's notice that the store is unreachable",
            lambda: accounts(first),
        )
        assert said(first, "cluster.store_unreachable")
        started_before = len(said(first, "task.started"))
        proxy.heal()

        assert first.process.wait(120) == 3, accounts(first)
    assert said(first, "cluster.fenced")
    assert len(said(first, "task.started")) == started_before
    assert second.stop() == 0


def test_the_batch_runs_on_its_host_and_the_leader_says_when_that_host_is_gone(
    tmp_path: Path,
    postgres_url: str,  # noqa: F811
) -> None:
    """batchNode names host-b (it has the state file). host-a leads and does not run the owed
    batch; host-b, a standby, does. Killed, host-b is missed: the leader raises
    batch_host_down."""
    from nightly_batch.storage.postgres import PostgresStore  # noqa: PLC0415

    now = datetime.now(UTC)
    store = PostgresStore(postgres_url, "check")
    try:
        store.set_fact("installedAt", iso_utc(now - timedelta(days=1)), iso_utc(now))
        projects = [Project(tmp_path / name) for name in ("a", "b")]
        for project in projects:
            project.write_config(
                nightlyBatchSchedule=cron_at(now - timedelta(minutes=10)),
                # Longer than elsewhere: host-b's start, seconds after the leader's, must stay
                # well inside the three leases of grace, on a busy machine too.
                leaderLeaseSeconds=BATCH_HOST_LEASE_SECONDS,
                batchNode="host-b",
            )
            project.write_state({"redditQueue": [selected_lead("t3_abc123")]})
        environ = {"NIGHTLY_BATCH_DATABASE_URL": postgres_url}
        leader = DaemonProcess(projects[0], env={**environ, "NIGHTLY_BATCH_NODE": "host-a"})
        wait_for(
            lambda: says(leader, "schedule.start_checked"),
            60,
            "host-a's start",
            lambda: accounts(leader),
        )
        batch_host = DaemonProcess(projects[1], env={**environ, "NIGHTLY_BATCH_NODE": "host-b"})
        wait_for(
            lambda: says(batch_host, "task.finished"),
            60,
            "host-b to run the owed batch",
            lambda: accounts(leader, batch_host),
        )
        assert said(batch_host, "cluster.standby")
        assert "task=nightly-batch" in said(batch_host, "task.finished")[0]
        assert not [line for line in said(leader, "task.started") if "task=nightly-batch" in line]
        assert list(projects[1].digests.glob("digest-*.json"))
        assert not list(projects[0].digests.glob("digest-*.json"))
        runs = store.recent_runs(10, "nightly-batch")
        assert [(run.trigger, run.result) for run in runs] == [("catch-up", "ok")]

        # Not raised while the hosts were starting (host-b came seconds after the leader).
        assert not [a for a in store.alerts.all() if a.name == "batch_host_down"]
        batch_host.kill()
        killed = time.monotonic()
        wait_for(
            lambda: any(a.name == "batch_host_down" for a in store.alerts.firing()) or gone(leader),
            60,
            "the leader's batch_host_down alert",
            lambda: accounts(leader),
        )
        # Three leases without a sign of it, by the database's clock.
        assert time.monotonic() - killed >= 3 * BATCH_HOST_LEASE_SECONDS - 1
        [down] = [a for a in store.alerts.firing() if a.name == "batch_host_down"]
        assert down.severity == "critical"
        assert "host-b" in down.summary
        assert leader.stop() == 0
    finally:
        store.close()


def test_the_leaders_sessions_killed_on_the_server_change_nothing(
    tmp_path: Path,
    postgres_url: str,  # noqa: F811
) -> None:
    """pg_terminate_backend on every session of the leader (its pool and its lease): it
    reconnects and keeps leading under the same epoch; the standby stays a standby."""
    import psycopg  # noqa: PLC0415

    lease = {"leaderLeaseSeconds": KILLED_LEASE_SECONDS}
    _, first = start(tmp_path / "a", postgres_url, "host-a", **lease)
    wait_for(lambda: says(first, "cluster.leading"), 60, "host-a to lead", lambda: accounts(first))
    _, second = start(tmp_path / "b", postgres_url, "host-b", **lease)
    wait_for(
        lambda: says(second, "cluster.standby"), 60, "host-b to stand by", lambda: accounts(second)
    )

    with psycopg.connect(postgres_url, autocommit=True) as admin:
        killed = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'nightly-batch host-a'"
        ).fetchall()
        assert killed
        # Three leases later, host-a still holds the lease it held, under epoch 1.
        deadline = time.monotonic() + 3 * KILLED_LEASE_SECONDS
        while time.monotonic() < deadline:
            time.sleep(0.2)
            holder = admin.execute(
                "SELECT holder, epoch FROM leader_lease WHERE expires_at > now()"
            ).fetchone()
            assert holder == ("host-a", 1), accounts(first, second)

    assert said(second, "cluster.leading") == []
    assert said(first, "cluster.fenced") == []
    assert said(first, "cluster.store_unreachable") == []
    assert first.stop() == 0
    assert second.stop() == 0
