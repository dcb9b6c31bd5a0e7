"""Digests read in parts: the streaming reader gives what a full parse gives, and the readers
built on it (send-digest, `digests show`, the dashboard, the log channel) show the leads they
promise and count the rest."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
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
from nightly_batch.core import pinned_file
from nightly_batch.errors import ConfigError, DigestError
from nightly_batch.rules.digest_layout import lay_out_digest
from nightly_batch.storage import digest_reader
from nightly_batch.storage.digest_reader import open_digest
from nightly_batch.storage.digests import HEAD_BYTES, write_digest
from nightly_batch.tasks.runner import run_task
from nightly_batch.web.app import create_dashboard

Lead = Callable[..., dict[str, Any]]
SUBREDDITS = st.sampled_from(["selfhosted", "docker", "sysadmin", "homelab"])
# A number a full parse reads (as inf) and msgspec refuses; kept by the batch as it was written.
BIG = "__1e999__"
LEADS = st.lists(
    st.one_of(
        st.fixed_dictionaries(
            {
                "id": st.text(min_size=1, max_size=8),
                # A title cut in the middle of an emoji by JavaScript: a lone surrogate, which
                # msgspec refuses and a full parse reads.
                "question": st.one_of(st.text(max_size=20), st.sampled_from(["cut \ud83d"])),
                "subreddit": SUBREDDITS,
                "confidence": st.floats(0, 1),
            },
            optional={"score": st.sampled_from([3, 2.5, BIG]), "tags": st.lists(st.integers())},
        ),
        # Not an object: a full parse has it in the list, and every reader leaves it out.
        st.sampled_from([7, "text", None]),
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


@dataclass(frozen=True)
class Layout:
    """How a digest's file is laid out: ours, or another program's."""

    name: str  # "ours" (one lead per line), "indented" or "compact" (json.dumps)
    spread: int | None = None  # ours, with the lead at this place laid over several lines
    ascii_only: bool = True  # ours: non-ASCII text escaped, else written as UTF-8
    docs_indented: bool = False  # ours: docChanges laid over several lines
    crlf: bool = False
    member_after: bool = False  # another member after docChanges


def lead_line(lead: Any, layout: Layout, place: int) -> bytes:
    if place == layout.spread:
        return json.dumps(lead, indent=2).replace("\n", "\n    ").encode()
    compact = json.dumps(lead, separators=(",", ":"))
    try:
        return (
            compact.encode()
            if layout.ascii_only
            else json.dumps(lead, separators=(",", ":"), ensure_ascii=False).encode()
        )
    except UnicodeEncodeError:  # a lone surrogate has no UTF-8: it stays escaped
        return compact.encode()


def written(leads: list[Any], layout: Layout, docs: list[Any]) -> bytes:
    """A digest as the batch writes it, or as another program might have laid it out."""
    # As the batch writes it: the summary counts the leads the digest lists.
    listed = sum(isinstance(lead, dict) for lead in leads)
    head = {**HEAD, "summary": {**HEAD["summary"], "selectedTotal": listed}}
    if layout.name == "ours":
        lines = b",\n    ".join(lead_line(lead, layout, at) for at, lead in enumerate(leads))
        doc_bytes = json.dumps(docs, indent=2 if layout.docs_indented else None)
        data = lay_out_digest(head, lines, doc_bytes.replace("\n", "\n  ").encode())
        if layout.member_after:
            data = data.removesuffix(b"\n}\n") + b',\n  "after": 1\n}\n'
    else:
        digest = {**head, "redditQueue": leads, "docChanges": docs}
        if layout.member_after:
            digest["after"] = 1
        data = json.dumps(digest, indent=2 if layout.name == "indented" else None).encode()
    data = data.replace(b'"' + BIG.encode() + b'"', b"1e999")
    # JSON strings hold no raw line break: every one is layout.
    return data.replace(b"\n", b"\r\n") if layout.crlf else data


@st.composite
def layouts(draw: st.DrawFn) -> Layout:
    name = draw(st.sampled_from(["ours", "ours", "indented", "compact"]))
    if name != "ours":
        return Layout(name, crlf=draw(st.booleans()), member_after=draw(st.booleans()))
    return Layout(
        name,
        spread=draw(st.one_of(st.none(), st.integers(0, 5))),
        ascii_only=draw(st.booleans()),
        docs_indented=draw(st.booleans()),
        crlf=draw(st.booleans()),
        member_after=draw(st.booleans()),
    )


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    leads=LEADS,
    layout=layouts(),
    # Objects too: a member after the leads laid over several lines may end in a line that
    # looks like a lead's.
    docs=st.lists(
        st.one_of(
            st.text(max_size=5),
            st.just({}),  # one line even when indented, as a lead's is
            st.dictionaries(st.text(max_size=3), st.integers()),
        ),
        max_size=3,
    ),
    offset=st.integers(0, 35),
    limit=st.one_of(st.none(), st.integers(0, 35)),
    only=st.one_of(st.none(), SUBREDDITS),
    chunk=st.sampled_from([1, 5, 64, 1 << 20]),
)
def test_the_streaming_reader_agrees_with_a_full_parse(  # noqa: PLR0917  (hypothesis's draws)
    monkeypatch: pytest.MonkeyPatch,
    chunk: int,
    tmp_path: Path,
    leads: list[Any],
    layout: Layout,
    docs: list[Any],
    offset: int,
    limit: int | None,
    only: str | None,
) -> None:
    """Head, count, any page of leads with or without a subreddit filter, and what follows
    the leads: the same as json.loads of the whole file, in every layout, whatever the
    leads hold (lone surrogates, numbers msgspec refuses, a lead over several lines)."""
    # Reads of `chunk` bytes: lines and the list's end found across read boundaries.
    monkeypatch.setattr(pinned_file, "_FIRST_READ", chunk)
    monkeypatch.setattr(pinned_file, "_LARGEST_READ", chunk)
    monkeypatch.setattr(digest_reader, "_TAIL_READ", chunk)
    path = tmp_path / "digest-2026-11-28.json"
    path.write_bytes(written(leads, layout, docs))
    full = json.loads(path.read_bytes())
    objects = [lead for lead in full["redditQueue"] if isinstance(lead, dict)]

    view = open_digest(path)
    keep = (lambda lead: lead["subreddit"] == only) if only else None
    expected = [lead for lead in objects if only is None or lead["subreddit"] == only]
    end = None if limit is None else offset + limit

    # Ours are streamed unless their first lead is not one line; another layout only where
    # it cannot be told apart (no lead).
    first_whole = not leads or (isinstance(leads[0], dict) and layout.spread != 0)
    assert view.streamed == (
        (layout.name == "ours" and first_whole) or (layout.name == "indented" and not leads)
    )
    keys = list(full)
    before = keys[: keys.index("redditQueue")]
    assert view.head == {key: full[key] for key in before}
    assert view.count() == len(objects)
    assert view.total() == len(objects)
    assert list(view.leads(offset=offset, limit=limit, keep=keep)) == expected[offset:end]
    assert view.after_leads() == {
        "docChanges": docs,
        **({"after": 1} if layout.member_after else {}),
    }


@pytest.mark.parametrize(
    "after",
    [
        # docChanges over several lines, ending in a line that reads as a whole lead.
        b'  "docChanges": [\n    "readme.md",\n    {}\n  ]\n}\n',
        b'  "docChanges": [\n    {"x": 1}\n  ],\n  "other": 1\n}\n',
    ],
)
def test_what_follows_the_leads_is_read_whole_where_it_is_laid_over_lines(
    tmp_path: Path, after: bytes
) -> None:
    """Its "]" is not taken for the end of the leads: the reader gives what json.loads does."""
    path = tmp_path / "digest-2026-11-28.json"
    ours = lay_out_digest(HEAD, b'{"id":"a"},\n    {"id":"b"}', b"[]")
    path.write_bytes(ours[: ours.index(b'  "docChanges"')] + after)
    full = json.loads(path.read_bytes())

    view = open_digest(path)

    assert view.streamed
    keys = list(full)
    assert view.after_leads() == {key: full[key] for key in keys[keys.index("redditQueue") + 1 :]}
    assert view.after_leads()["docChanges"]
    assert [lead["id"] for lead in view.leads()] == ["a", "b"]


def test_a_head_of_many_long_near_misses_is_still_read_alone(tmp_path: Path) -> None:
    """100 near misses of 2 KB each (a head of 200 KB, beyond the first read): the leads are
    still streamed, not parsed with the whole file."""
    cards = [{"id": f"n{i}", "question": "why " * 500} for i in range(100)]
    path = tmp_path / "digest-2026-11-28.json"
    path.write_bytes(lay_out_digest(HEAD, b'{"id":"a"},\n    {"id":"b"}', b"[]", cards))

    view = open_digest(path)

    assert path.stat().st_size > 3 * HEAD_BYTES
    assert view.streamed
    assert view.head["nearMisses"] == cards
    assert [lead["id"] for lead in view.leads()] == ["a", "b"]


def test_a_digest_that_cannot_be_read_is_one_sentence(tmp_path: Path) -> None:
    """A directory where a digest should be, and a lead nested too deeply to read: a
    DigestError naming the file, as a full parse gives, never an OSError or RecursionError."""
    folder = tmp_path / "digest-2026-11-28.json"
    folder.mkdir()
    deep = tmp_path / "digest-2026-11-29.json"
    nested = b'{"a":' * 5000 + b"1" + b"}" * 5000
    deep.write_bytes(lay_out_digest(HEAD, b'{"id":"a"},\n    ' + nested, b"[]"))

    with pytest.raises(
        DigestError,
        match=r"digest-2026-11-28\.json: the digest file cannot be read \(Is a directory\)\.$",
    ):
        open_digest(folder)
    with pytest.raises(DigestError, match=r"digest-2026-11-29\.json: nested too deeply to read\.$"):
        list(open_digest(deep).leads())


def test_a_digest_replaced_while_it_is_read_is_read_as_it_was_opened(tmp_path: Path) -> None:
    """A re-run replaces the digest between its head and its leads being read: the reader
    gives the version it opened, whole, never one's head with the other's leads."""
    day = date(2026, 11, 28)
    first = lay_out_digest({**HEAD, "batchId": "A"}, b'{"id":"a1"},\n    {"id":"a2"}', b"[]")
    path, _ = write_digest(tmp_path, day, first)
    view = open_digest(path)

    lines = b'{"id":"b1"},\n    {"id":"b2"},\n    {"id":"b3"}'
    write_digest(tmp_path, day, lay_out_digest({**HEAD, "batchId": "B"}, lines, b'["d"]'))

    assert view.head["batchId"] == "A"
    assert [lead["id"] for lead in view.leads()] == ["a1", "a2"]
    assert view.count() == 2
    assert view.after_leads() == {"docChanges": []}
    assert open_digest(path).head["batchId"] == "B"


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

    assert main(project.main_args("digests", "show", day, "--offset", "12")) == 0
    assert "no lead from --offset 12: the digest lists 12" in capsys.readouterr().out
    assert main(project.main_args("digests", "show", day, "--limit", "0")) == 0
    assert "more: --offset" not in capsys.readouterr().out  # the head alone, as asked


def test_digests_show_says_when_the_file_lists_fewer_leads_than_its_summary_counts(
    project: Project, lead: Lead, capsys: pytest.CaptureFixture[str]
) -> None:
    """A digest cut short by hand after its fifth lead: shown as it is, and said so, never
    "+7 more" that no offset shows."""
    big_digest(project, lead, 12)
    day = dated("2026-11-28")
    path = project.digests / f"digest-{day}.json"
    lines = path.read_bytes().split(b"\n")
    first = next(at for at, line in enumerate(lines) if line.startswith(b'  "redditQueue"'))
    cut = [*lines[: first + 5], lines[first + 5].removesuffix(b","), *lines[first + 13 :]]
    path.write_bytes(b"\n".join(cut))

    code = main(project.main_args("digests", "show", day, "--offset", "3", "--limit", "5"))

    out = capsys.readouterr().out
    assert code == 0
    assert re.findall(r"^ +(\d+)\. ", out, re.MULTILINE) == ["4", "5"]
    assert "the summary counts 12 leads, but the file lists 5" in out
    assert "more: --offset" not in out


def test_digests_show_and_the_dashboard_show_a_lead_as_the_messages_do(
    project: Project, lead: Lead, capsys: pytest.CaptureFixture[str]
) -> None:
    """A question cross-posted to r/homelab, its subreddit kept by the sweeper as
    "r/DataHoarder": shown once, in r/DataHoarder (never r/r/), with its age and where else it
    was asked; the dashboard finds it under any spelling of the subreddit; the summary says
    why the other is not listed, and not a maximum age that is not set."""
    link = "https://www.reddit.com/r/DataHoarder/comments/abc123/tape/"
    project.write_state(
        {
            "redditQueue": [
                lead("a", 0.9, subreddit="r/DataHoarder", link=link),
                lead("b", 0.9, subreddit="homelab", link=link + "?utm_source=share"),
            ]
        }
    )
    run_task(project.app(), "nightly-batch", "manual")

    assert main(project.main_args("digests", "show", dated("2026-11-28"))) == 0

    out = capsys.readouterr().out
    assert "1 are listed: the others repeat a listed question." in out
    assert re.search(
        r"^ +1\. \[0\.90\] Question a\? r/DataHoarder · \d+ h ago · also in r/homelab ",
        out,
        re.MULTILINE,
    )
    assert "r/r/" not in out
    app = project.app()
    client = TestClient(create_dashboard(app.config, app.store, clock=app.clock))
    url = dated("/digests/digest-2026-11-28.json")
    for spelling in ("r/DataHoarder", "datahoarder", "/r/DATAHOARDER"):
        page = client.get(url, params={"subreddit": spelling}).text
        assert re.findall(r"<tr><td>(\d+)</td>", page) == ["1"]
        assert "r/r/" not in page


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
    assert "no lead in r/s9" in client.get(url + "?subreddit=s9").text


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


def test_the_pruned_log_names_the_oldest_version_removed(project: Project) -> None:
    """Three versions of one date, replaced z, then m, then a: keeping one removes m and z,
    and the log names z, the first replaced, not m, the first by name."""
    project.write_config(digestArchiveKeep=1)
    for replaced, batch in enumerate(["zzz", "mmm", "aaa"]):
        path = archived(project, 2, batch)
        os.utime(path, ns=(replaced * 10**9, replaced * 10**9))

    with capture_logs() as logs:
        run_task(project.app(), "heartbeat", "manual")

    pruned = next(entry for entry in logs if entry["event"] == "digest.archive_pruned")
    assert [path.name.split(".")[1] for path in (project.digests / "archive").iterdir()] == ["aaa"]
    assert pruned["removed"] == 2
    assert pruned["oldest"].split(".")[1] == "zzz"


def test_digest_archive_keep_is_a_count_or_days(project: Project) -> None:
    """ "2w" is refused in one sentence that says what is allowed."""
    project.write_config(digestArchiveKeep="2w")

    with pytest.raises(ConfigError) as raised:
        project.app()

    assert 'digestArchiveKeep = "2w" must be a count of versions (10) or an age in days' in str(
        raised.value
    )
