"""Every reader of a digest at 1k and at 1M leads: time and peak memory of each command.

Usage: .venv/bin/python bench/digest_readers.py [--small 1000] [--large 1000000] [--runs 3]

Writes two throwaway projects whose newest digest lists --small and --large leads (laid out as
the batch writes them), then runs each reader as its own process, as an operator would:
send-digest to Slack (a local HTTP server standing in for it) and to `log`, `digests list`,
`digests show --limit 20`, `status`, and the dashboard's digest page (Starlette's test client
in a process of its own). For each: the best wall time of --runs, the peak RSS of that process
(the kernel's own count, from wait4), and the ratio of the large to the small. Issue 17's
targets: within 1.5x the small time and under 150 MB at the large size.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

DAY = "2026-11-28"
LEAD = (
    '{"id":"t3_%07d","subreddit":"selfhosted","question":"How do I keep a nightly job alive '
    'on a small VPS, number %d?","link":"https://www.reddit.com/r/selfhosted/comments/%07d/",'
    '"queuedAt":"2026-11-28T07:14:07.512Z","score":9,"confidence":0.9,"selectedForDraft":true,'
    '"selectedAt":"2026-11-28T23:00:00.000Z","confidenceBreakdown":{"keyword":0.9,"model":null,'
    '"weights":{"keyword":0.4,"model":0.6}}}'
)
PAGE_SCRIPT = """
import sys, warnings
from pathlib import Path
warnings.filterwarnings("ignore")
from starlette.testclient import TestClient
from nightly_batch.delivery.factory import build_channel
from nightly_batch.runtime.app import build_app, load_settings
from nightly_batch.web.app import create_dashboard
app = build_app(load_settings(Path(sys.argv[1]), {}), build_channel)
page = TestClient(create_dashboard(app.config, app.store)).get(sys.argv[2])
assert page.status_code == 200, page.text
"""


def write_project(folder: Path, leads: int, port: int) -> Path:
    """A project whose digest of DAY lists `leads` leads; returns its config."""
    digests = folder / "logs" / "digests"
    digests.mkdir(parents=True)
    config = folder / "config.json"
    config.write_text(
        json.dumps(
            {
                "stateFile": "state.json",
                "logsDir": "logs",
                "digestNotificationChannel": "log",
                "allowedWebhookHosts": [f"127.0.0.1:{port}"],
                "digestMaxAgeHours": 24 * 31,
            }
        )
    )
    (folder / "state.json").write_text('{"redditQueue": []}')
    head = {
        "generatedAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "batchId": str(uuid.uuid4()),
        "digestDate": DAY,
        "timeZone": "UTC",
        "summary": {
            "docsProcessed": 0,
            "queueTotal": leads,
            "markedForDraft": leads,
            "selectedTotal": leads,
            "invalidItems": 0,
            "threshold": 0.75,
        },
    }
    opening = json.dumps(head, indent=2)[: -len("\n}")]
    with (digests / f"digest-{DAY}.json").open("w") as digest:
        digest.write(opening + ',\n  "redditQueue": [\n    ')
        for number in range(leads):
            digest.write((",\n    " if number else "") + LEAD % (number, number, number))
        digest.write('\n  ],\n  "docChanges": []\n}\n')
    return config


def measure(command: list[str], environ: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one run of `command`."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=environ, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{command} exited {process.returncode}")
    return elapsed, usage.ru_maxrss / 1024


def readers(config: Path, port: int) -> dict[str, tuple[list[str], dict[str, str]]]:
    cli = [sys.executable, "-m", "nightly_batch"]
    quiet = {**os.environ, "NIGHTLY_BATCH_LOG_LEVEL": "warning"}
    slack = {**quiet, "SLACK_WEBHOOK_URL": f"http://127.0.0.1:{port}/hook"}
    forced = ["--force", "--config", str(config)]
    return {
        "send-digest to Slack": (
            [*cli, "run-once", "send-digest", "--channel", "slack", *forced],
            slack,
        ),
        "send-digest to log": ([*cli, "run-once", "send-digest", *forced], quiet),
        "digests list": ([*cli, "digests", "list", "--config", str(config)], quiet),
        "digests show --limit 20": (
            [*cli, "digests", "show", DAY, "--limit", "20", "--config", str(config)],
            quiet,
        ),
        "status": ([*cli, "status", "--config", str(config)], quiet),
        "dashboard digest page": (
            [sys.executable, "-c", PAGE_SCRIPT, str(config), f"/digests/digest-{DAY}.json"],
            quiet,
        ),
    }


class Slack(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *_: object) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Slack)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    with tempfile.TemporaryDirectory() as folder:
        sizes = {"small": arguments.small, "large": arguments.large}
        configs = {
            name: write_project(Path(folder) / name, leads, port) for name, leads in sizes.items()
        }
        size = (configs["large"].parent / "logs/digests" / f"digest-{DAY}.json").stat().st_size
        print(f"digests: {arguments.small:,} and {arguments.large:,} leads ({size / 1e6:.0f} MB)")
        print(
            f"{'reader':<26} {'small s':>8} {'large s':>8} {'ratio':>6} {'small MB':>9} {'large MB':>9}"
        )
        for name in readers(configs["small"], port):
            best = {}
            for which, config in configs.items():
                command, environ = readers(config, port)[name]
                runs = [measure(command, environ) for _ in range(arguments.runs)]
                best[which] = (min(r[0] for r in runs), max(r[1] for r in runs))
            (small_s, small_mb), (large_s, large_mb) = best["small"], best["large"]
            print(
                f"{name:<26} {small_s:>8.2f} {large_s:>8.2f} {large_s / small_s:>5.2f}x "
                f"{small_mb:>9.0f} {large_mb:>9.0f}"
            )
    server.shutdown()


if __name__ == "__main__":
    main()
