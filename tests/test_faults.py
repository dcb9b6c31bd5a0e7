"""Fault injection: network faults at the channels, a disk that refuses writes, a concurrent writer."""

from __future__ import annotations

import contextlib
import json
import resource
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import Project
from fakes import FakeClock, Pauses, message
from leadgen import make_state_bytes
from nightly_batch.cli.main import main
from nightly_batch.delivery.channels.slack import SlackChannel
from nightly_batch.delivery.http import USER_AGENT, HttpPoster
from nightly_batch.observability.redact import Redactor
from nightly_batch.storage.state import SharedStateStore
from servers import refused_port

Lead = Callable[..., dict[str, Any]]


@contextlib.contextmanager
def raw_server(respond: Callable[[socket.socket], None]) -> Iterator[int]:
    """A TCP server on 127.0.0.1 that hands each connection to `respond`."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            with connection, contextlib.suppress(OSError):
                respond(connection)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        listener.close()


def slack_at(url: str, pauses: Pauses, timeout: float = 1.0) -> SlackChannel:
    client = httpx.Client(
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
        limits=httpx.Limits(max_keepalive_connections=0),
    )
    return SlackChannel(
        HttpPoster("slack", client, pauses), Redactor(), FakeClock(), webhook_url=url
    )


# How long the slow server holds a request: far beyond the client's 0.5 s time-out, so the
# client returning before it proves the time-out, on a machine of any speed.
HOLD_SECONDS = 30


def read_request(connection: socket.socket) -> None:
    connection.settimeout(2)
    data = b""
    while b"\r\n\r\n" not in data:
        data += connection.recv(65536)


def test_connection_refused_is_transient_after_bounded_retries() -> None:
    """Nothing listens: three quick attempts, transient."""
    pauses = Pauses()
    with refused_port() as port:
        result = slack_at(f"http://127.0.0.1:{port}/hook", pauses).send(message())

    assert result.status == "transient"
    assert len(pauses.waits) == 2  # three attempts, the waits between them asked of the pauser
    assert result.error == "could not connect (ConnectError)"  # refused at once, no time-out


def test_dns_failure_is_transient() -> None:
    """A name that cannot resolve is a connect error: safe to retry later."""
    result = slack_at("http://no-such-host.invalid/hook", Pauses()).send(message())

    assert result.status == "transient"
    assert "could not connect" in (result.error or "")


def test_a_slow_server_is_ambiguous_within_the_timeout() -> None:
    """The request went out and no answer came: ambiguous, not resent, bounded by the timeout."""
    hits = []
    done = threading.Event()

    def slow(connection: socket.socket) -> None:
        read_request(connection)
        hits.append(1)
        done.wait(HOLD_SECONDS)  # no answer until the client is done

    with raw_server(slow) as port:
        started = time.monotonic()
        result = slack_at(f"http://127.0.0.1:{port}/hook", Pauses(), timeout=0.5).send(message())
        elapsed = time.monotonic() - started
        done.set()

    assert result.status == "ambiguous"
    assert len(hits) == 1
    # The client gave up on its own time-out: the server would have held on far longer.
    assert elapsed < HOLD_SECONDS


def test_a_tls_error_is_a_connect_failure() -> None:
    """https to a server that does not speak TLS fails before any request is sent."""

    def plain(connection: socket.socket) -> None:
        connection.recv(1024)
        connection.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    with raw_server(plain) as port:
        result = slack_at(f"https://127.0.0.1:{port}/hook", Pauses()).send(message())

    assert result.status == "transient"


def test_a_connection_closed_mid_response_is_ambiguous() -> None:
    """Half a response, then the socket closes: the message may have been posted."""

    def half(connection: socket.socket) -> None:
        read_request(connection)
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nok")

    with raw_server(half) as port:
        result = slack_at(f"http://127.0.0.1:{port}/hook", Pauses()).send(message())

    assert result.status == "ambiguous"


def test_a_429_storm_is_bounded() -> None:
    """Every answer 429: a few waits as asked, then rate-limited for a later heartbeat."""
    hits = []

    def storm(connection: socket.socket) -> None:
        read_request(connection)
        hits.append(1)
        connection.sendall(
            b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n"
        )

    pauses = Pauses()
    with raw_server(storm) as port:
        result = slack_at(f"http://127.0.0.1:{port}/hook", pauses).send(message())

    assert result.status == "rate-limited"
    assert len(hits) == 3
    assert all(1.0 <= wait <= 1.25 for wait in pauses.waits)


def _limit_file_size() -> None:
    # The disk "fills up" at 1 MB for this process: writes past it fail with EFBIG.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, 1_000_000))


@pytest.mark.slow
def test_a_disk_that_refuses_writes_leaves_the_old_state_and_the_next_run_succeeds(
    project: Project,
) -> None:
    """A failed write: one clear sentence, the old state intact; once space is back, success."""
    old = make_state_bytes(5000)
    project.state_path.write_bytes(old)
    project.logs.mkdir()
    command = project.command("nightly-batch")

    full = subprocess.run(
        command, capture_output=True, text=True, preexec_fn=_limit_file_size, check=False
    )
    after_full = project.state_path.read_bytes()
    fine = subprocess.run(command, capture_output=True, text=True, check=False)

    assert full.returncode in (1, 2)
    assert "Traceback" not in full.stderr
    assert full.stderr.splitlines()[-1].startswith("nightly-batch: failed after")
    assert "File too large" in full.stderr.splitlines()[-1]
    assert after_full == old
    assert not list(project.root.glob(".orchestrator_state.json.*.tmp"))
    assert fine.returncode == 0, fine.stderr
    assert json.loads(project.state_path.read_bytes())["lastNightlyBatchAt"]
    events = [
        json.loads(line) for line in (project.logs / "orchestrator.log").read_text().splitlines()
    ]
    assert [e["alert"] for e in events if e["event"] == "alert.firing"] == ["task_failed"]
    assert [e["alert"] for e in events if e["event"] == "alert.resolved"] == ["task_failed"]


def test_a_cooperating_writer_never_loses_a_lead(project: Project, lead: Lead) -> None:
    """A sweeper appending under the lock while batches run: every appended lead survives."""
    project.write_state({"redditQueue": [lead(f"seed-{i}", 0.9) for i in range(200)]})
    store = SharedStateStore(project.state_path)
    app = project.app()
    from nightly_batch.tasks.runner import run_task  # noqa: PLC0415

    def sweeper() -> None:
        for number in range(40):
            with store.transaction() as transaction:
                state = transaction.read()
                state["redditQueue"].append({"id": f"new-{number}", "score": 8})
                transaction.write(state)

    thread = threading.Thread(target=sweeper)
    thread.start()
    for _ in range(5):
        assert run_task(app, "nightly-batch", "manual").ok
    thread.join()

    ids = [item["id"] for item in project.read_state()["redditQueue"]]
    assert ids[:200] == [f"seed-{i}" for i in range(200)]
    assert sorted(i for i in ids if i.startswith("new-")) == sorted(f"new-{n}" for n in range(40))


def test_a_writer_ignoring_the_lock_is_detected_and_nothing_is_lost(
    project: Project, lead: Lead
) -> None:
    """A rewrite behind the lock between our read and our replace: refused, retried, kept."""
    from nightly_batch.errors import ConflictError  # noqa: PLC0415
    from nightly_batch.tasks.nightly import run_nightly_batch  # noqa: PLC0415
    from nightly_batch.tasks.result import RunInfo, TaskResult  # noqa: PLC0415
    from nightly_batch.tasks.runner import run_task  # noqa: PLC0415

    project.write_state({"redditQueue": [lead("a", 0.9)]})
    store = SharedStateStore(project.state_path)
    with store.transaction() as transaction:
        transaction.read()
        project.state_path.write_text(json.dumps({"redditQueue": [{"id": "rude", "score": 8}]}))
        with pytest.raises(
            ConflictError, match="changed by another program that does not take the lock"
        ):
            transaction.write({"redditQueue": []})
    assert json.loads(project.state_path.read_bytes())["redditQueue"] == [
        {"id": "rude", "score": 8}
    ]

    calls = []

    def interrupted(app: Any, run: RunInfo) -> TaskResult:
        calls.append(1)
        if len(calls) == 1:
            # The sweeper rewrites the file without the lock while the first attempt works.
            original = app.state.transaction

            @contextlib.contextmanager
            def sneaky() -> Iterator[Any]:
                with original() as transaction:
                    data = transaction.read_bytes()
                    sneaky_state = json.loads(data)
                    sneaky_state["redditQueue"].append({"id": "sneaked-in", "score": 9})
                    project.state_path.write_text(json.dumps(sneaky_state))
                    transaction.read_bytes = lambda: data  # the batch works on what it read first
                    yield transaction

            app.state.transaction = sneaky
            try:
                return run_nightly_batch(app, run)
            finally:
                app.state.transaction = original
        return run_nightly_batch(app, run)

    outcome = run_task(project.app(), "nightly-batch", "manual", handler=interrupted)

    ids = [item["id"] for item in project.read_state()["redditQueue"]]
    assert outcome.ok
    assert len(calls) == 2
    assert ids == ["rude", "sneaked-in"]


@contextlib.contextmanager
def immutable(directory: Path) -> Iterator[None]:
    """chattr +i: not even root may create files inside (ext4 and most Linux file systems)."""
    directory.mkdir(parents=True, exist_ok=True)
    if (
        subprocess.run(
            ["chattr", "+i", str(directory)], capture_output=True, check=False
        ).returncode
        != 0
    ):
        pytest.skip("chattr +i is not supported here")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(directory)], check=False)


@pytest.mark.parametrize("key", ["logsDir", "digestDir", "stateFile"])
def test_an_unwritable_directory_is_refused_at_start_and_by_check_config(
    project: Project, key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A directory nobody may write to: one sentence naming the key, exit 2, from every command."""
    locked = project.root / "locked"
    values = {"logsDir": "../locked", "digestDir": "../locked", "stateFile": "../locked/state.json"}
    project.write_config(**{key: values[key]})

    with immutable(locked):
        check = main(["check-config", "--config", str(project.config_path)])
        check_err = capsys.readouterr().err
        run = main(["run-once", "nightly-batch", "--config", str(project.config_path)])
        run_err = capsys.readouterr().err

    assert (check, run) == (2, 2)
    for err in (check_err, run_err):
        assert f"{key} = '{locked}" in err
        assert "is not writable by this user" in err
        assert "Traceback" not in err


@pytest.mark.slow
def test_a_full_tmpfs_gives_enospc_and_space_coming_back_heals_it(
    project: Project, tmp_path: Path
) -> None:
    """A real full disk: a small tmpfs holding the state; ENOSPC, old state kept, then success."""
    disk = tmp_path / "disk"
    disk.mkdir()
    old = make_state_bytes(3000)
    size_kb = len(old) // 1024 + 64  # room for the state, not for a second, grown copy of it
    if (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(disk)],
            capture_output=True,
            check=False,
        ).returncode
        != 0
    ):
        pytest.skip("cannot mount a tmpfs here")
    try:
        (disk / "state.json").write_bytes(old)
        project.write_config(stateFile=str(disk / "state.json"))
        command = project.command("nightly-batch")

        full = subprocess.run(command, capture_output=True, text=True, check=False)
        kept = (disk / "state.json").read_bytes()
        leftovers = [p.name for p in disk.iterdir() if p.name.endswith(".tmp")]
        subprocess.run(["mount", "-o", f"remount,size={size_kb * 4}k", str(disk)], check=True)
        healed = subprocess.run(command, capture_output=True, text=True, check=False)
        new_state = json.loads((disk / "state.json").read_bytes())
    finally:
        subprocess.run(["umount", str(disk)], check=False)

    assert full.returncode == 1
    assert "No space left on device" in full.stderr.splitlines()[-1]
    assert "the previous state is unchanged" in full.stderr.splitlines()[-1]
    assert kept == old
    assert leftovers == []
    assert healed.returncode == 0, healed.stderr
    assert new_state["lastNightlyBatchAt"]
