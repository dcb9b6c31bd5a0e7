"""The dashboard in a real browser: headless Chromium loads the pages from a served daemon
thread; the rendered DOM is checked and a screenshot of each page is taken.

The screenshots are written inside the test's own folder, so two runs on one machine never
share a file; with NIGHTLY_BATCH_ARTIFACTS set they are also copied there, one folder per run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import Project
from daemon_process import wait_for, without_faketime
from fakes import dated
from nightly_batch.web.server import DashboardThread

Lead = Callable[..., dict[str, Any]]
CHROMIUM = shutil.which("chromium")
ARTIFACTS = os.environ.get("NIGHTLY_BATCH_ARTIFACTS")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is missing (.ci/run installs it)"
)


@pytest.fixture
def served(project: Project, lead: Lead) -> Iterator[str]:
    from leadgen import reviewed_queue  # noqa: PLC0415

    project.write_state(
        {
            "redditQueue": [
                lead("a", 0.9, question="<script>alert('x')</script> Backups for a home server?"),
                *reviewed_queue(lead),
            ]
        }
    )
    app = project.live_a_day()
    thread = DashboardThread(app, "127.0.0.1", 0)  # the system picks a free port
    thread.start()
    try:
        wait_for(lambda: thread.port is not None, 20, "the dashboard to listen")
        base = f"http://127.0.0.1:{thread.port}"
        assert httpx.get(base + "/").status_code == 200
        yield base
    finally:
        thread.stop()


def chromium(tmp_path: Path, *arguments: str) -> str:
    assert CHROMIUM is not None
    result = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            *arguments,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        # The browser keeps the true clock, whatever libfaketime the suite runs under: the pages
        # carry the app's clock already, and a faked clock breaks Chromium's own timers.
        env=without_faketime(os.environ),
    )
    return result.stdout


@pytest.mark.slow
@needs_chromium
@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("/", ["Next runs", dated("digest-2026-11-28.json"), "No alert is firing."]),
        (
            dated("/digests/digest-2026-11-28.json"),
            [
                "Which reverse proxy for two domains?",
                "&lt;script&gt;alert('x')&lt;/script&gt; Backups",
                "Near misses",
                "Is a cron job enough for nightly backups?",
                "duplicates, grouped under another",
                "also in r/homelab",
            ],
        ),
        ("/precision", ["Suggested threshold: 0.8", "0.9-1: 25 of 30 drafted (83 %)"]),
        ("/runs", ["Run history", "success rate 100.0 %"]),
        ("/alerts", ["Alerts, last 7 days"]),
    ],
)
def test_pages_render_in_headless_chromium(
    served: str, tmp_path: Path, page: str, expected: list[str]
) -> None:
    """The browser's DOM holds the content (the script tag stayed text); a screenshot is saved."""
    name = "overview" if page == "/" else page.strip("/").replace("/", "_")
    shots = tmp_path / "shots"
    shots.mkdir()
    shot = shots / f"dashboard-{name}.png"

    dom = chromium(tmp_path, "--dump-dom", served + page)
    chromium(
        tmp_path,
        f"--screenshot={shot}",
        "--window-size=1000,1400",
        "--hide-scrollbars",
        served + page,
    )

    if page == "/":
        # And as a phone shows it.
        chromium(
            tmp_path,
            f"--screenshot={shots / 'dashboard-overview-phone.png'}",
            "--window-size=390,844",
            served + page,
        )
    for text in expected:
        assert text in dom
    assert "<script>alert" not in dom
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 10_000
    if ARTIFACTS:
        keep = Path(ARTIFACTS) / f"run-{os.getpid()}"
        keep.mkdir(parents=True, exist_ok=True)
        for taken in shots.iterdir():
            shutil.copyfile(taken, keep / taken.name)
