"""Dashboard render times with a year of digests and 100,000 run records (SPEC 12: < 100 ms).

Usage: .venv/bin/python bench/dashboard_speed.py [--runs 7]
Builds a throwaway project, then requests each page in-process through Starlette's test client
and prints the median and the slowest time per page.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
import uuid
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

from nightly_batch.core.clock import iso_utc
from nightly_batch.core.jsonio import dump_json
from nightly_batch.delivery.factory import build_channel
from nightly_batch.runtime.app import build_app, load_settings
from nightly_batch.web.app import create_dashboard

warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
from starlette.testclient import TestClient  # noqa: E402


def populate(folder: Path, digests: int, runs: int) -> Path:
    config = folder / "config.json"
    config.write_text('{"stateFile": "state.json", "logsDir": "logs"}')
    app = build_app(load_settings(config, {}), build_channel)
    start = datetime(2026, 11, 28, 23, tzinfo=UTC)
    app.config.digests.mkdir(parents=True, exist_ok=True)
    for number in range(digests):
        day = (start - timedelta(days=number)).date()
        leads = [
            {
                "id": f"t3_{i}",
                "question": f"Question {i}?",
                "subreddit": "selfhosted",
                "link": f"https://www.reddit.com/r/selfhosted/comments/{i}/",
                "confidence": 0.9,
                "confidenceBreakdown": {
                    "keyword": 0.9,
                    "model": None,
                    "weights": {"keyword": 0.4, "model": 0.6},
                },
            }
            for i in range(20)
        ]
        digest = {
            "generatedAt": iso_utc(start - timedelta(days=number)),
            "batchId": str(uuid.uuid4()),
            "digestDate": day.isoformat(),
            "timeZone": "UTC",
            "summary": {
                "docsProcessed": 0,
                "queueTotal": 140,
                "markedForDraft": 3,
                "selectedTotal": 20,
                "invalidItems": 0,
                "threshold": 0.75,
            },
            "redditQueue": leads,
            "docChanges": [],
        }
        (app.config.digests / f"digest-{day.isoformat()}.json").write_bytes(
            dump_json(digest, indent=True)
        )
    with sqlite3.connect(app.config.database_path) as db:
        rows = []
        for number in range(runs):
            task = ("heartbeat", "nightly-batch", "send-digest")[number % 3]
            started = start - timedelta(minutes=5 * number // 3)
            result = "error" if number % 17 == 0 else "ok"
            rows.append(
                (
                    str(uuid.uuid4()),
                    task,
                    "schedule",
                    iso_utc(started),
                    iso_utc(started),
                    0.4,
                    result,
                    "m",
                    None,
                    1,
                    "{}",
                )
            )
        columns = "id, task, trigger, started_at, ended_at, duration_s, result, message, error, pid, details"
        db.executemany(f"INSERT INTO runs ({columns}) VALUES ({', '.join('?' * 11)})", rows)  # noqa: S608
        # What the store keeps up to date as each run finishes.
        db.execute(
            "INSERT INTO run_days (day, task, result, runs, seconds) "
            "SELECT substr(started_at, 1, 10), task, result, COUNT(*), SUM(duration_s) "
            "FROM runs GROUP BY 1, 2, 3"
        )
    app.store.close()
    return config


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        config = populate(Path(folder), 365, 100_000)
        app = build_app(load_settings(config, {}), build_channel)
        client = TestClient(create_dashboard(app.config, app.store, clock=app.clock))
        pages = ["/", "/digests", "/digests/digest-2026-11-28.json", "/runs", "/alerts"]
        print("| page | median ms | slowest ms |")
        print("| --- | --- | --- |")
        for page in pages:
            client.get(page)  # warm: templates compiled, digest heads cached
            times = []
            for _ in range(arguments.runs):
                started = time.perf_counter()
                if client.get(page).status_code != 200:
                    raise SystemExit(f"{page} failed")
                times.append((time.perf_counter() - started) * 1000)
            print(f"| {page} | {statistics.median(times):.1f} | {max(times):.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
