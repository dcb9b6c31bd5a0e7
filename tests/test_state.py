"""The shared state store: lock, atomic replace, .bak, exact pass-through, loud corruption."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path

import pytest

from nightly_batch.errors import BusyError, StateError
from nightly_batch.storage.state import SharedStateStore

ORIGINAL = (
    b'{\n  "redditQueue": [{"id": "a", "score": 8, "\\u00fcnknown": "\\ud83d\\ude80 caf\\u00e9"}],\n'
    b'  "rssSeenIds": ["x", "y"],\n  "approvals": {"k": {"n": null}},\n'
    b'  "big": 123456789012345678901234567890,\n  "tiny": 5e-324,\n  "neg": -0.0,\n'
    b'  "float": 0.1, "exp": 1.5e300, "int64": 18446744073709551615\n}'
)


def test_missing_file_is_an_empty_state(tmp_path: Path) -> None:
    """A state file that does not exist yet reads as an empty state."""
    store = SharedStateStore(tmp_path / "state.json")

    assert store.read() == {}


def test_values_round_trip_exactly(tmp_path: Path) -> None:
    """Big integers, tiny floats, unicode and nested unknown keys come back equal in value."""
    path = tmp_path / "state.json"
    path.write_bytes(ORIGINAL)
    store = SharedStateStore(path)
    before = store.read()

    with store.transaction() as transaction:
        transaction.write(transaction.read())

    after = store.read()
    assert after == before
    assert after["big"] == 123456789012345678901234567890
    assert after["tiny"] == 5e-324
    assert after["int64"] == 18446744073709551615
    assert after["redditQueue"][0]["ünknown"] == "🚀 café"
    assert list(after) == list(before)


def test_write_keeps_previous_version_as_bak_and_preserves_mode(tmp_path: Path) -> None:
    """The previous good version is kept as <state>.bak; the file's mode is kept."""
    path = tmp_path / "state.json"
    path.write_bytes(b'{"v": 1}')
    path.chmod(0o640)
    store = SharedStateStore(path)

    with store.transaction() as transaction:
        transaction.write({"v": 2})

    assert (tmp_path / "state.json.bak").read_bytes() == b'{"v": 1}'
    assert store.read() == {"v": 2}
    assert path.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "state.json",
        "state.json.bak",
        "state.json.lock",
    ]


def test_new_state_file_is_private(tmp_path: Path) -> None:
    """A state file created by us is readable by its owner only."""
    store = SharedStateStore(tmp_path / "state.json")

    with store.transaction() as transaction:
        transaction.write({"v": 1})

    assert (tmp_path / "state.json").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("content", "position"),
    [
        (b'{"redditQueue": [1, 2,]}', "line 1, column 23"),
        (b'{\n  "a": 1,\n  "b": tru\n}', "line 3, column 8"),
        (b'{"a": 1', "line 1, column 8"),
        (b"", "line 1, column 1"),
    ],
)
def test_corrupt_file_names_file_and_position_and_is_untouched(
    tmp_path: Path, content: bytes, position: str
) -> None:
    """A file that does not parse is an error naming the file and position; it is never reset."""
    path = tmp_path / "state.json"
    path.write_bytes(content)

    with pytest.raises(StateError) as raised:
        SharedStateStore(path).read()

    assert str(raised.value).startswith(f"{path}: not valid JSON at {position}")
    assert str(raised.value).endswith("the file was left untouched.")
    assert path.read_bytes() == content
    assert not (tmp_path / "state.json.bak").exists()


def test_top_level_must_be_an_object(tmp_path: Path) -> None:
    """A JSON array at the top level is refused."""
    path = tmp_path / "state.json"
    path.write_bytes(b"[1, 2]")

    with pytest.raises(StateError, match="the top level must be a JSON object, not list"):
        SharedStateStore(path).read()


def test_invalid_utf8_is_reported(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 are a clear error too."""
    path = tmp_path / "state.json"
    path.write_bytes(b'{"a": "\xff"}')

    with pytest.raises(StateError, match="not valid UTF-8 at byte 7"):
        SharedStateStore(path).read()


def test_another_writer_holding_the_lock_makes_us_wait(tmp_path: Path) -> None:
    """A cooperating writer that holds the sidecar lock delays us until it lets go."""
    path = tmp_path / "state.json"
    store = SharedStateStore(path, lock_timeout=5)
    fd = os.open(tmp_path / "state.json.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    released_at: list[float] = []

    def release() -> None:
        released_at.append(time.monotonic())
        os.close(fd)

    released = threading.Timer(0.3, release)
    released.start()

    with store.transaction() as transaction:
        entered = time.monotonic()
        transaction.write({"v": 1})

    released.join()
    assert entered >= released_at[0]  # we got in only after the other writer let go
    assert store.read() == {"v": 1}


def test_a_lock_held_too_long_is_a_busy_error(tmp_path: Path) -> None:
    """When the lock is not released in time, nothing is written and the error says why."""
    path = tmp_path / "state.json"
    path.write_bytes(b'{"v": 1}')
    fd = os.open(tmp_path / "state.json.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        with (
            pytest.raises(BusyError, match="another process has held the state lock"),
            SharedStateStore(path, lock_timeout=0.2).transaction(),
        ):
            pass
    finally:
        os.close(fd)
    assert path.read_bytes() == b'{"v": 1}'


def test_stale_temp_files_of_a_killed_writer_are_swept(tmp_path: Path) -> None:
    """Temp files left by a writer killed mid-write are removed at the next locked access."""
    path = tmp_path / "state.json"
    leftover = tmp_path / ".state.json.abc123.tmp"
    leftover.write_bytes(b"{half")
    unrelated = tmp_path / ".other.json.abc.tmp"
    unrelated.write_bytes(b"x")

    SharedStateStore(path).read()

    assert not leftover.exists()
    assert unrelated.exists()


def test_a_long_wait_for_the_lock_says_who_holds_it(tmp_path: Path) -> None:
    """Waiting on the state lock was silent for up to a minute; after two seconds it says
    which pid holds it and how long it will wait (the holder lets go once it is said)."""
    from structlog.testing import capture_logs  # noqa: PLC0415

    from nightly_batch.core.locks import FileLock  # noqa: PLC0415

    path = tmp_path / "state.json"
    holder = FileLock(tmp_path / "state.json.lock")
    assert holder.acquire(0, record_pid=True)

    with capture_logs() as logs:

        def release_once_said() -> None:
            pause = threading.Event()
            while not any(entry["event"] == "state.lock_waiting" for entry in logs):
                pause.wait(0.05)
            holder.release()

        released = threading.Thread(target=release_once_said, daemon=True)
        released.start()
        with SharedStateStore(path, lock_timeout=60).transaction() as transaction:
            transaction.write({"v": 1})
        released.join(60)

    waits = [entry for entry in logs if entry["event"] == "state.lock_waiting"]
    assert [(w["holder_pid"], w["waiting_up_to_s"]) for w in waits] == [(str(os.getpid()), 60)]
    assert SharedStateStore(path).read() == {"v": 1}


SHARED_GID = 100  # Debian's `users` group
can_share = pytest.mark.skipif(
    os.geteuid() != 0 and SHARED_GID not in os.getgroups(),
    reason="needs root or membership of gid 100 to hand files to that group",
)


@can_share
def test_files_keep_their_owner_group_and_mode_across_writes(tmp_path: Path) -> None:
    """A state shared by group (root:users 0660, for the sweeper) came back root:root after
    one write, and the lock was created 0600: the sweeper lost both."""
    path = tmp_path / "state.json"
    path.write_bytes(b'{"redditQueue": []}')
    os.chown(path, -1, SHARED_GID)
    path.chmod(0o660)
    store = SharedStateStore(path)

    with store.transaction() as transaction:
        transaction.write({"redditQueue": [], "v": 1})
    with store.transaction() as transaction:
        transaction.write({"redditQueue": [], "v": 2})

    for written in (path, tmp_path / "state.json.bak"):
        info = written.stat()
        assert (info.st_gid, info.st_mode & 0o777) == (SHARED_GID, 0o660), written
    lock = (tmp_path / "state.json.lock").stat()
    assert (lock.st_gid, lock.st_mode & 0o777) == (SHARED_GID, 0o660)


@can_share
def test_a_replaced_digest_keeps_its_group_and_mode(tmp_path: Path) -> None:
    from datetime import date  # noqa: PLC0415

    from nightly_batch.storage.digests import write_digest  # noqa: PLC0415

    first, _ = write_digest(tmp_path, date(2026, 11, 28), b'{"batchId": "a"}')
    os.chown(first, -1, SHARED_GID)
    first.chmod(0o640)

    again, kept = write_digest(tmp_path, date(2026, 11, 28), b'{"batchId": "b"}')

    assert again == first
    assert kept is not None
    for written in (again, kept):
        info = written.stat()
        assert (info.st_gid, info.st_mode & 0o777) == (SHARED_GID, 0o640), written
