"""A Debian bookworm machine under systemd-nspawn, booted with its own systemd, for one test.

The root file system is made once with debootstrap from the mirror apt already uses and kept
(NIGHTLY_BATCH_ROOTFS, default /var/cache/nightly-batch-test/bookworm); each boot runs on a
throwaway copy of it (--ephemeral), so a test never changes the cached one. Commands reach the
machine with nsenter, in all of its namespaces, as its root or as another user.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOTFS = Path(os.environ.get("NIGHTLY_BATCH_ROOTFS", "/var/cache/nightly-batch-test/bookworm"))
# What the README's install section needs on a bare system, and systemd itself to boot.
PACKAGES = (
    "systemd,systemd-sysv,dbus,python3,python3-venv,git,make,sudo,curl,ca-certificates,procps"
    # docs/MONITORING.md's commands read the log with jq.
    ",jq"
)
# The host's package-index configuration and CA certificates: pip inside the machine reaches
# the same index the same way (a proxy's CA included). Local index folders are shared read-only.
PIP_FILES = (
    "/etc/pip.conf",
    "/etc/xdg/pip/pip.conf",
    "/etc/xdg/pip/constraints.txt",
    "/root/.config/pip/pip.conf",
    "/etc/ssl/certs/ca-certificates.crt",
)
# file:// indexes and find-links folders named there or in PIP_* variables are bind-mounted.
_LOCAL_PATH = re.compile(r"(?:file://)?(/[^\s'\"]+)")
BOOT_SECONDS = 90

needs_nspawn = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("systemd-nspawn") or not shutil.which("debootstrap"),
    reason="needs root, systemd-nspawn and debootstrap (.ci/run installs systemd-container "
    "and debootstrap)",
)


def apt_mirror() -> str:
    """The Debian mirror apt uses here (deb822 `URIs:` or a one-line `deb` entry)."""
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for source in sources:
        text = source.read_text() if source.is_file() else ""
        found = re.search(r"^URIs:\s*(\S+)", text, re.MULTILINE) or re.search(
            r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+bookworm\b", text, re.MULTILINE
        )
        if found:
            return found.group(1)
    return "http://deb.debian.org/debian"


def local_indexes() -> list[str]:
    """The local folders pip's configuration here names (find-links, file:// index URLs), so
    pip in the machine finds the same packages; a `simple/` index with the folder above it,
    where its files are."""
    texts = [Path(n).read_text() for n in PIP_FILES if n.endswith(".conf") and Path(n).is_file()]
    texts += [value for name, value in os.environ.items() if name.startswith("PIP_")]
    found: list[str] = []
    for text in texts:
        for line in text.splitlines():
            key = line.split("=", 1)[0]
            if "=" in line and not any(word in key for word in ("find-links", "index-url")):
                continue
            for path in _LOCAL_PATH.findall(line.split("=", 1)[-1]):
                folder = Path(path)
                folder = folder.parent if folder.name == "simple" else folder
                if folder.is_dir() and str(folder) not in found:
                    found.append(str(folder))
    return found


def ensure_rootfs() -> Path:
    """The cached root file system, made first if there is none (about a minute)."""
    ROOTFS.parent.mkdir(parents=True, exist_ok=True)
    with (ROOTFS.parent / "build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        made_with = ROOTFS / "etc/nightly-batch-test-packages"
        if made_with.exists() and made_with.read_text() == PACKAGES:
            return ROOTFS
        building = ROOTFS.with_name(ROOTFS.name + ".building")
        shutil.rmtree(building, ignore_errors=True)
        subprocess.run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={PACKAGES}",
                "bookworm",
                str(building),
                apt_mirror(),
            ],
            check=True,
            capture_output=True,
        )
        (building / "etc/nightly-batch-test-packages").write_text(PACKAGES)
        shutil.rmtree(ROOTFS, ignore_errors=True)  # one made with other packages
        building.rename(ROOTFS)
    return ROOTFS


class Machine:
    """A booted machine; `run` executes a shell line in it."""

    def __init__(self, process: subprocess.Popen[bytes], console: Path) -> None:
        self.process = process
        self.console = console
        self.leader = 0

    def run(
        self, line: str, *, check: bool = True, timeout: float = 600
    ) -> subprocess.CompletedProcess[str]:
        """`line` in bash inside the machine, as its root, with a clean environment."""
        environ = [
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME=/root",
            "LANG=C.UTF-8",
            *(f"{name}={value}" for name, value in os.environ.items() if name.startswith("PIP_")),
        ]
        result = subprocess.run(
            ["nsenter", "-t", str(self.leader), "-a", "env", "-i", *environ, "bash", "-c", line],
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{line!r} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
            )
        return result

    def put(self, path: str, data: bytes) -> None:
        """Write a file inside the machine."""
        subprocess.run(
            [
                "nsenter",
                "-t",
                str(self.leader),
                "-a",
                "sh",
                "-c",
                f'mkdir -p "$(dirname {path})" && cat > {path}',
            ],
            input=data,
            check=True,
        )

    def wait_until_booted(self) -> None:
        deadline = time.monotonic() + BOOT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"the machine stopped while booting:\n{self.console.read_text()}"
                )
            self.leader = self.leader or _inner_systemd(self.process.pid)
            if self.leader:
                state = self.run("systemctl is-system-running", check=False).stdout.strip()
                if state in ("running", "degraded"):
                    return
            time.sleep(0.5)
        raise AssertionError(f"the machine did not boot in {BOOT_SECONDS} s")


def _inner_systemd(nspawn_pid: int) -> int:
    """The container's init: the `systemd` process below systemd-nspawn."""
    pending = [nspawn_pid]
    while pending:
        parent = pending.pop()
        children = Path(f"/proc/{parent}/task/{parent}/children")
        with contextlib.suppress(OSError):
            for child in children.read_text().split():
                if Path(f"/proc/{child}/comm").read_text().strip() == "systemd":
                    return int(child)
                pending.append(int(child))
    return 0


@contextlib.contextmanager
def booted(source: Path, scratch: Path) -> Iterator[Machine]:
    """A bookworm machine with `source` (a git repository) at /src, read-only."""
    rootfs = ensure_rootfs()
    console = scratch / "console.txt"
    binds = [f"--bind-ro={source}:/src"]
    binds += [f"--bind-ro={path}" for path in local_indexes()]
    with console.open("wb") as output:
        process = subprocess.Popen(
            [
                "systemd-nspawn",
                "--quiet",
                "--directory",
                str(rootfs),
                "--ephemeral",
                "--boot",
                "--register=no",
                "--keep-unit",
                f"--machine=nb-{uuid.uuid4().hex[:8]}",
                *binds,
            ],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    machine = Machine(process, console)
    try:
        machine.wait_until_booted()
        for name in PIP_FILES:
            if Path(name).is_file():
                machine.put(name, Path(name).read_bytes())
        yield machine
    finally:
        if machine.leader:
            machine.run("systemctl poweroff", check=False, timeout=30)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
