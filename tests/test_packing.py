"""Property tests: any titles, up to 1000 leads, every payload inside every limit, nothing injected."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakes import dated
from nightly_batch.delivery.channels import discord, slack
from nightly_batch.delivery.channels.email.content import build_email
from nightly_batch.rules.message import DigestMessage, Lead

NASTY = st.sampled_from(
    [
        "<!channel>",
        "<!here>",
        "<@U123>",
        "@everyone",
        "@here",
        "<https://evil.example|Click>",
        "[spoof](https://evil.example)",
        "&amp;",
        "&<>",
        "**bold**",
        "`code`",
        "```",
        "> quote",
        "\u202eevil",
        "\u05e9\u05dc\u05d5\u05dd",
        "🚀🔥",
        "\\",
        "|",
        "\n",
    ]
)
TITLES = (
    st.lists(st.one_of(st.text(max_size=40), NASTY), max_size=12)
    .map("".join)
    .map(lambda t: t[:300])
)
LEADS = st.lists(
    st.builds(
        Lead,
        id=st.text(min_size=1, max_size=10),
        title=TITLES,
        link=st.one_of(
            st.none(),
            st.just("https://www.reddit.com/r/x/comments/1/"),
            st.just("javascript:alert(1)"),
            st.text(max_size=30),
        ),
        subreddit=st.one_of(st.none(), TITLES.map(lambda t: t[:21])),
        confidence=st.one_of(st.none(), st.floats(0, 1)),
    ),
    max_size=1000,
)
MORE = re.compile(r"\+(\d+) more in ")
SLACK_LINK = re.compile(r"<https?://[^|<>\s]+\|[^<>]*>")


def message(leads: list[Lead], title: str) -> DigestMessage:
    return DigestMessage(
        title=f"🚀 {len(leads)} Reddit Leads Ready for Review {title}",
        summary=f"Summary {title}",
        leads=tuple(leads),
        digest_file=dated("digest-2026-11-28.json"),
        digest_date=dated("2026-11-28"),
        batch_id="b-1",
        url=dated("https://leads.example.com/digests/digest-2026-11-28.json"),
    )


def shown_plus_more(text: str, marker: str, total: int) -> None:
    shown = text.count(marker)
    match = MORE.search(text)
    hidden = int(match.group(1)) if match else 0
    assert shown + hidden == total, (shown, hidden, total)


def assert_no_slack_injection(text: str) -> None:
    bare = SLACK_LINK.sub("", text)
    assert "<" not in bare
    assert ">" not in bare
    for link in SLACK_LINK.findall(text):
        assert link.startswith(("<https://www.reddit.com/", "<https://leads.example.com/")), link


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(leads=LEADS, title=TITLES)
def test_slack_payload_within_limits_and_inert(leads: list[Lead], title: str) -> None:
    """Header <= 150, sections <= 3000, <= 50 blocks; no ping, no spoofed link; +K more adds up."""
    payload = slack.build_payload(message(leads, title))

    blocks = payload["blocks"]
    assert len(blocks) <= 50
    assert len(blocks[0]["text"]["text"]) <= 150
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    texts += [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]
    assert all(len(t) <= 3000 for t in texts)
    assert sum(len(t) for t in texts) <= 12_000
    assert len(payload["text"]) <= 3000
    for text in [*texts, payload["text"]]:
        assert_no_slack_injection(text)
    shown_plus_more("\n".join(texts), "• ", len(leads))
    plain = slack.plain_text(message(leads, title))
    assert len(plain) <= 3000
    assert_no_slack_injection(plain)
    shown_plus_more(plain, "• ", len(leads))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(leads=LEADS, title=TITLES)
def test_discord_payload_within_limits_and_inert(leads: list[Lead], title: str) -> None:
    """Title <= 256, description <= 4096, <= 6000 in all; mentions off; +K more adds up."""
    payload = discord.build_payload(message(leads, title))

    [embed] = payload["embeds"]
    assert payload["allowed_mentions"] == {"parse": []}
    assert len(embed["title"]) <= 256
    assert len(embed["description"]) <= 4096
    assert len(embed["title"]) + len(embed["description"]) + len(embed["footer"]["text"]) <= 6000
    assert "@everyone" not in embed["description"]
    assert "@here" not in embed["description"].replace("@\u200bhere", "")
    shown_plus_more(embed["description"], "\n• ", len(leads))
    plain = discord.plain_payload(message(leads, title))
    assert len(plain["content"]) <= 2000
    shown_plus_more(plain["content"], "\n• ", len(leads))


@settings(max_examples=30, deadline=None)
@given(leads=LEADS, title=TITLES)
def test_email_html_is_escaped_and_every_lead_is_accounted_for(
    leads: list[Lead], title: str
) -> None:
    """No tag from Reddit text reaches the HTML part; listed plus '+K more' covers every lead."""
    content = build_email(message(leads, title))

    assert "<script" not in content.html.lower().replace("&lt;script", "")
    assert content.html.count("<li>") + (
        int(m.group(1)) if (m := MORE.search(content.text)) else 0
    ) == len(leads)
