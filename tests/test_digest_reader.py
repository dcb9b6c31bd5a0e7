"""Digests read in parts: the streaming reader gives what a full parse gives, and the readers
built on it (send-digest, `digests show`, the dashboard, the log channel) show the leads they
promise and count the rest."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient
from structlog.testing import capture_logs

from conftest import Project
from fakes import dated
from nightly_batch.cli.main import main
from nightly_batch.core.jsonio import dump_json
from nightly_batch.errors import ConfigError
from nightly_batch.rules.digest_layout import lay_out_digest
from nightly_batch.storage import digest_reader
from nightly_batch.storage.digest_reader import open_digest
from nightly_batch.tasks.runner import run_task
from nightly_batch.web.app import create_dashboard

Lead = Callable[..., dict[str, Any]]
SUBREDDITS = st.sampled_from(["selfhosted", "docker", "sysadmin", "homelab"])
LEADS = st.lists(
    st.fixed_dictionaries(
        {
            "id": st.text(min_size=1, max_size=8),
            "question": st.text(max_size=20),
            "subreddit": SUBREDDITS,
            "confidence": st.floats(0, 1),
        }
    ),
    max_size=30,
)
HEAD: dict[str, Any] = {
    "generatedAt": "2026-11-28T23:00:00.000Z",
    "batchId": "b-1",
    "digestDate": "2026-11-28",
    "timeZone": "UTC",
    "summary": {"selectedTotal": 0, "queueTotal": 0, "threshold": 0.75},
}


def written(leads: list[dict[str, Any]], layout: str, docs: list[Any]) -> bytes:
    """A digest as the batch writes it, or as another program might have laid it out."""
    # As the batch writes it: the summary counts the leads the digest lists.
    head = {**HEAD, "summary": {**HEAD["summary"], "selectedTotal": len(leads)}}
    if layout == "ours":
        lines = b",\n    ".join(dump_json(lead) for lead in leads)
        return lay_out_digest(head, lines, dump_json(docs))
    digest = {**head, "redditQueue": leads, "docChanges": docs}
    return json.dumps(digest, indent=2 if layout == "indented" else None).encode()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    leads=LEADS,
    layout=st.sampled_from(["ours", "indented", "compact"]),
    docs=st.lists(st.text(max_size=5), max_size=3),
    offset=st.integers(0, 35),
    limit=st.one_of(st.none(), st.integers(0, 35)),
    only=st.one_of(st.none(), SUBREDDITS),
    chunk=st.sampled_from([1, 5, 64, 1 << 20]),
)
def test_the_streaming_reader_agrees_with_a_full_parse(  # noqa: PLR0917  (hypothesis's draws)
    monkeypatch: pytest.MonkeyPatch,
    chunk: int,
    tmp_path: Path,
    leads: list[dict[str, Any]],
    layout: str,
    docs: list[Any],
    offset: int,
    limit: int | None,
    only: str | None,
) -> None:
    """Head, count, any page of leads with or without a subreddit filter, and what follows
    the leads: the same as json.loads of the whole file, in every layout."""
    monkeypatch.setattr(digest_reader, "_CHUNK", chunk)  # count() across chunk boundaries
    path = tmp_path / "digest-2026-11-28.json"
    path.write_bytes(written(leads, layout, docs))
    full = json.loads(path.read_bytes())

    view = open_digest(path)
    keep = (lambda lead: lead["subreddit"] == only) if only else None
    expected = [lead for lead in full["redditQueue"] if only is None or lead["subreddit"] == only]
    end = None if limit is None else offset + limit

    # Ours are always streamed; another layout only where it cannot be told apart (no lead).
    assert view.streamed == (layout == "ours" or (layout == "indented" and not leads))
    assert view.head == {k: v for k, v in full.items() if k not in ("redditQueue", "docChanges")}
    assert view.count() == len(full["redditQueue"])
    assert view.total() == len(full["redditQueue"])
    assert list(view.leads(offset=offset, limit=limit, keep=keep)) == expected[offset:end]
    assert view.after_leads() == {"docChanges": docs}


def big_digest(project: Project, lead: Lead, count: int) -> None:
    """A night whose digest lists `count` leads."""
    project.write_state(
        {"redditQueue": [lead(f"l{i:04d}", 0.9, subreddit=f"s{i % 3}") for i in range(count)]}
    )
    run_task(project.app(), "nightly-batch", "manual")


def test_digests_show_prints_the_page_asked_for(
    project: Project, lead: Lead, capsys: pytest.CaptureFixture[str]
) -> None:
    """--offset 5 --limit 3 prints leads 6 to 8 and says how many follow."""
    big_digest(project, lead, 12)
    day = dated("2026-11-28")

    code = main(project.main_args("digests", "show", day, "--offset", "5", "--limit", "3"))

    out = capsys.readouterr().out
    assert code == 0
    ranks = re.findall(r"^ +(\d+)\. ", out, re.MULTILINE)
    assert ranks == ["6", "7", "8"]
    assert "+4 more: --offset 8 shows the next" in out
    assert main(project.main_args("digests", "show", day, "--limit", "-1")) == 2


def test_the_dashboard_pages_a_digest_and_filters_by_subreddit(
    project: Project, lead: Lead
) -> None:
    """250 leads: page 1 has 100 and a next link, page 3 the last 50, a filter one subreddit."""
    big_digest(project, lead, 250)
    app = project.app()
    client = TestClient(create_dashboard(app.config, app.store, clock=app.clock))
    url = dated("/digests/digest-2026-11-28.json")

    first, third = client.get(url), client.get(url + "?page=3")
    only = client.get(url + "?subreddit=s1&page=1")

    def rows(page: str) -> list[str]:
        return re.findall(r"<tr><td>(\d+)</td>", page)

    assert len(rows(first.text)) == 100
    assert 'rel="next"' in first.text
    assert rows(third.text) == [str(n) for n in range(201, 251)]
    assert 'rel="next"' not in third.text
    assert len(rows(only.text)) == 83  # l0001, l0004, ... among 250
    assert "s0</a>" not in only.text
    assert len(first.content) < 120_000
    assert client.get(url + "?page=zero").status_code == 400


def test_the_log_channel_logs_the_top_leads_and_where_the_rest_are(
    project: Project, lead: Lead
) -> None:
    """30 leads: the summary with the count and the digest's path, then ten digest.lead events."""
    big_digest(project, lead, 30)

    with capture_logs() as logs:
        run_task(project.app(real_channels=True), "send-digest", "manual")

    notification = next(entry for entry in logs if entry["event"] == "digest.notification")
    assert notification["leads"] == 30
    assert notification["digest"] == str(project.digests / dated("digest-2026-11-28.json"))
    assert [entry["rank"] for entry in logs if entry["event"] == "digest.lead"] == list(
        range(1, 11)
    )


@respx.mock
def test_slack_counts_every_lead_beyond_those_the_message_carries(
    project: Project, lead: Lead
) -> None:
    """500 leads, of which a message carries 200: Slack's "+N more" counts all the rest."""
    webhook = "https://hooks.slack.com/services/T0/B0/secret"
    project.write_config(digestNotificationChannel="slack")
    route = respx.post(webhook).respond(200, text="ok")
    big_digest(project, lead, 500)

    run_task(
        project.app({"SLACK_WEBHOOK_URL": webhook}, real_channels=True), "send-digest", "manual"
    )

    payload = json.loads(route.calls.last.request.content)
    sections = [block for block in payload["blocks"] if block["type"] == "section"]
    listed = sum(text.count("\n") + 1 for text in (b["text"]["text"] for b in sections[1:]))
    more = next(block for block in payload["blocks"] if block["type"] == "context")
    assert more["elements"][0]["text"].startswith(f"+{500 - listed:,} more in ")


def archived(project: Project, days_ago: int, batch: str) -> Path:
    """A replaced digest of the date `days_ago` before the project's today, as a re-run keeps it."""
    day = (project.clock.now() - timedelta(days=days_ago)).date().isoformat()
    path = project.digests / "archive" / f"digest-{day}.{batch}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{}")
    return path


@pytest.mark.parametrize(("keep", "kept"), [("14d", {"b0", "b1", "b13"}), (2, {"b0", "b1"})])
def test_the_heartbeat_prunes_replaced_digests_beyond_digest_archive_keep(
    project: Project, keep: object, kept: set[str]
) -> None:
    """By age (versions of the last 14 days stay) or by count (the newest stay); logged."""
    project.write_config(digestArchiveKeep=keep)
    paths = [archived(project, days, f"b{days}") for days in (0, 1, 13, 14, 40)]
    foreign = project.digests / "archive" / "notes.txt"
    foreign.write_text("not ours")

    with capture_logs() as logs:
        run_task(project.app(), "heartbeat", "manual")

    left = {path.name.split(".")[1] for path in paths if path.exists()}
    assert left == kept
    assert foreign.exists()
    pruned = next(entry for entry in logs if entry["event"] == "digest.archive_pruned")
    assert pruned["removed"] == len(paths) - len(kept)


def test_digest_archive_keep_is_a_count_or_days(project: Project) -> None:
    """ "2w" is refused in one sentence that says what is allowed."""
    project.write_config(digestArchiveKeep="2w")

    with pytest.raises(ConfigError) as raised:
        project.app()

    assert 'digestArchiveKeep = "2w" must be a count of versions (10) or an age in days' in str(
        raised.value
    )
