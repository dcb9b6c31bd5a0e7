"""The dashboard with Starlette's test client: every page, the JSON route, escaping, traversal."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from conftest import Project
from fakes import dated
from nightly_batch.core.jsonio import parse_json
from nightly_batch.web.app import create_dashboard

Lead = Callable[..., dict[str, Any]]
SCRIPT = "<script>alert('x')</script> How do I back up?"


@pytest.fixture
def client(project: Project, lead: Lead) -> TestClient:
    project.write_state(
        {
            "redditQueue": [
                lead("a", 0.9, question=SCRIPT),
                lead("b", 0.95, link="javascript:alert(1)"),
            ]
        }
    )
    app = project.live_a_day()
    return TestClient(create_dashboard(app.config, app.store, clock=app.clock))


def test_overview_shows_next_runs_last_runs_heartbeat_and_digest(client: TestClient) -> None:
    """The overview page answers with what status has."""
    page = client.get("/")

    assert page.status_code == 200
    assert "Next runs" in page.text
    # A time as a person reads it: how soon, the local time, the exact instant on hover.
    next_batch = dated("2026-11-29T23:00:00.000Z")
    assert re.search(
        f'<time datetime="{next_batch}" title="{next_batch}">in 17 h · '
        r"\w{3} \d{2} \w{3} 23:00 UTC</time>",
        page.text,
    )
    assert dated("digest-2026-11-28.json") in page.text
    assert "No alert is firing." in page.text
    assert "<script" not in page.text


def test_digest_page_links_leads_and_escapes_reddit_text(client: TestClient) -> None:
    """A title with a script tag renders as text; a javascript: link is not a link."""
    page = client.get(dated("/digests/digest-2026-11-28.json"))

    assert page.status_code == 200
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; How do I back up?" in page.text
    assert "<script>" not in page.text
    assert 'href="https://www.reddit.com/r/selfhosted/comments/a/"' in page.text
    assert 'href="javascript' not in page.text
    assert "keyword 0.9" in page.text


def test_digest_json_is_the_file_itself(client: TestClient, project: Project) -> None:
    """?format=json returns the digest file's bytes."""
    response = client.get(dated("/digests/digest-2026-11-28.json?format=json"))

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == (project.digests / dated("digest-2026-11-28.json")).read_bytes()
    assert parse_json(response.content)["summary"]["selectedTotal"] == 2


@pytest.mark.parametrize(
    "path",
    [
        "/digests/../orchestrator_state.json",
        "/digests/..%2F..%2Forchestrator_state.json",
        "/digests/%2e%2e%2forchestrator_state.json",
        "/digests/%252e%252e%252forchestrator_state.json",
        "/digests/..%252F..%252Fconfig%252Forchestrator_config.json",
        dated("/digests/digest-2026-11-28.json%00.txt"),
        "/digests/archive",
        "/digests/digest-2099-01-01.json",
        "/digests/nightly_batch.db",
    ],
)
def test_nothing_outside_the_digests_can_be_fetched(client: TestClient, path: str) -> None:
    """Traversal attempts, encoded and double-encoded, and unknown names: 404."""
    response = client.get(path)

    assert response.status_code == 404
    assert "redditQueue" not in response.text


def test_digests_runs_and_alerts_pages(client: TestClient) -> None:
    """The list, the history with its charts, and the alerts page render."""
    digests = client.get("/digests")
    runs = client.get("/runs")
    alerts = client.get("/alerts")

    assert digests.status_code == runs.status_code == alerts.status_code == 200
    assert dated('<a href="/digests/digest-2026-11-28.json">2026-11-28</a>') in digests.text
    # 30 and 90 days of results, and 30 days of durations, for each of the three tasks
    assert runs.text.count("<svg") == 9
    assert "nightly-batch: mean duration of the successful runs, last 30 days" in runs.text
    assert "mean duration of successful runs</th>" not in runs.text  # a chart, not a table
    assert "success rate 100.0 %" in runs.text
    assert "No alert in the last 7 days." in alerts.text


def test_a_token_guards_every_page(project: Project) -> None:
    """With DASHBOARD_TOKEN set: 401 without it; bearer or basic with it."""
    app = project.app()
    client = TestClient(
        create_dashboard(app.config, app.store, token="s3cret-token", clock=app.clock)
    )
    basic = base64.b64encode(b"ops:s3cret-token").decode()

    assert client.get("/").status_code == 401
    assert client.get("/", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
    assert client.get("/digests", headers={"Authorization": f"Basic {basic}"}).status_code == 200


@pytest.fixture
def reviewed(project: Project, lead: Lead) -> TestClient:
    """The dashboard a month into use (leadgen.reviewed_queue), the morning after a batch."""
    from leadgen import reviewed_queue  # noqa: PLC0415

    project.write_state({"redditQueue": reviewed_queue(lead)})
    app = project.live_a_day()
    return TestClient(create_dashboard(app.config, app.store, clock=app.clock))


def test_the_digest_page_shows_what_was_left_out_near_misses_and_ages(
    reviewed: TestClient,
) -> None:
    page = reviewed.get(dated("/digests/digest-2026-11-28.json")).text

    left_out = page[page.index('id="left-out"') : page.index('id="precision"')]
    assert re.findall(r'<span class="number">([\d,]+)</span> ([a-z ,]+)</li>', left_out) == [
        ("2", "below the threshold"),  # the two near misses
        ("0", "invalid"),
        ("44", "already drafted"),
        ("1", "duplicates, grouped under another"),
        ("0", "stale"),
    ]
    assert "59 % of the last 30 days&#39; selections were drafted, n=75" in page
    near = page[page.index('id="near-misses"') : page.index("<h2>Leads</h2>")]
    assert near.index("Is a cron job enough") < near.index("Monitoring a VPS")
    assert '<td>r/linux</td>\n<td>0.72</td><td class="nowrap">20 h ago</td>' in near
    assert (
        'Which reverse proxy for two domains?</a><br><span class="muted">also in r/homelab' in page
    )
    assert "Which reverse proxy for two domains</a>" not in page  # grouped, not listed


def test_the_precision_page_charts_the_bands_and_shows_the_suggestion(
    reviewed: TestClient,
) -> None:
    page = reviewed.get("/precision").text

    assert "<strong>Suggested threshold: 0.8</strong>" in page
    assert "never applied" in page
    assert "0.9-1: 25 of 30 drafted (83 %)" in page  # a bar's hover
    assert "0.75-0.8: 4 of 20 drafted (20 %)" in page
    assert "<tr><td>0.8-0.9</td><td>25</td><td>15</td><td>60 %</td></tr>" in page
    assert page.count("<svg") == 2  # the bands, and the share over time
    assert dated("2026-11-28: 58.67 %") in page


def test_an_odd_digest_head_never_fails_a_page(project: Project, lead: Lead) -> None:
    """A hand-edited or foreign digest: counts as text, bands that are not objects, a time
    beyond what datetime holds. Every page still renders."""
    project.write_state({"redditQueue": [lead("a", 0.9)]})
    app = project.live_a_day()
    path = project.digests / dated("digest-2026-11-28.json")
    digest = parse_json(path.read_bytes())
    digest["generatedAt"] = "9999-12-31T23:59:59-05:00"
    digest["summary"]["suppressed"] = {"duplicate": "many", "stale": None}
    digest["precision"] = {
        "selected": "x",
        "drafted": 5,
        "bands": [1, {"band": "0.9-1", "selected": "3"}],
    }
    path.write_text(json.dumps(digest, indent=2))
    client = TestClient(create_dashboard(app.config, app.store, clock=app.clock))

    for page in ("/", "/digests", dated("/digests/digest-2026-11-28.json"), "/precision"):
        assert client.get(page).status_code == 200, page
    shown = client.get(dated("/digests/digest-2026-11-28.json")).text
    assert '<span class="number">many</span> duplicates' in shown
    assert "9999-12-31T23:59:59-05:00" in shown
    assert "no selection in the last 0 days yet" in client.get("/precision").text
