"""What we send, checked by the services' own client libraries rather than by our constants:
slack_sdk's Block Kit models, discord.py's Embed. Our limits could share our misunderstanding
of the service; theirs cannot."""

from __future__ import annotations

import html

import discord
import pytest
from slack_sdk.models.blocks import Block

from fakes import message
from nightly_batch.delivery.channels import discord as discord_channel
from nightly_batch.delivery.channels import slack as slack_channel
from nightly_batch.rules.message import build_message

# Titles that stress the limits: long, wide characters, Slack and Markdown specials.
TITLES = [
    "Question {i}?",
    "Which reverse proxy & <cert> for {i} domains? " * 12,
    "🚀 Self-hosting ünïcødé 中文 {i} " * 30,
]


@pytest.mark.parametrize("notes", [False, True])
@pytest.mark.parametrize("count", [0, 1, 49, 50, 2000])
@pytest.mark.parametrize("title", TITLES)
def test_slack_blocks_pass_slack_sdks_block_kit_validation(
    count: int, title: str, notes: bool
) -> None:
    built = message(count, title=title, url="https://l.example/d", notes=notes)
    payload = slack_channel.build_payload(built)

    blocks = Block.parse_all(payload["blocks"])
    for block in blocks:
        block.validate_json()  # raises SlackObjectFormationError past any Block Kit limit
    assert len(blocks) <= 50  # a message's block limit
    assert [block.to_dict() for block in blocks] == payload["blocks"]  # no field it does not know
    assert 0 < len(payload["text"]) <= 40_000  # chat.postMessage truncates beyond
    shown = str(payload["blocks"])
    if notes:  # the notes always fit, however many leads crowd them
        assert "10 near misses, best 0.73: <https://www.reddit.com/r/homelab/comments/n0/|" in shown
        assert "62 % of the last 30 days' selections were drafted, n=140" in shown
        assert payload["blocks"][-2]["elements"][0]["text"].startswith("Left out: 81,200 below")
        if count:
            assert "· 9 h ago · also in r/homelab_0, r/homelab_1" in shown
            assert "r/homelab_4 +2" in shown
    plain = slack_channel.plain_text(built)
    assert len(plain) <= 3000
    assert ("Left out: 81,200" in plain) == notes


@pytest.mark.parametrize("notes", [False, True])
@pytest.mark.parametrize("count", [0, 1, 49, 50, 2000])
@pytest.mark.parametrize("title", TITLES)
def test_discord_embeds_fit_discord_pys_own_measure(count: int, title: str, notes: bool) -> None:
    built = message(count, title=title, url="https://l.example/d", notes=notes)
    payload = discord_channel.build_payload(built)

    embeds = [discord.Embed.from_dict(embed) for embed in payload["embeds"]]
    assert len(embeds) <= 10
    assert sum(len(embed) for embed in embeds) <= 6000  # discord.py counts as Discord does
    for embed in embeds:
        assert len(embed.title or "") <= 256
        assert len(embed.description or "") <= 4096
        assert len(embed.footer.text or "") <= 2048
        assert embed.to_dict()["description"] == payload["embeds"][0]["description"]
    if notes:
        assert (embeds[0].footer.text or "").startswith("Left out: 81,200 below the threshold")
        assert "62 % of the last 30 days' selections were drafted, n=140" in (
            embeds[0].description or ""
        )
        assert "10 near misses, best 0.73\\: [" in (embeds[0].description or "")
    plain = discord_channel.plain_payload(built)["content"]
    assert len(plain) <= 2000
    assert ("81,200 below the threshold" in plain) == notes


def test_bidi_controls_in_untrusted_text_reach_no_channel() -> None:
    """U+202E in a Reddit title reversed the rest of the line (confidence, link text) in Slack,
    Discord and e-mail; it is removed where the message is built, for every channel."""
    digest = {
        "batchId": "b-1",
        "summary": {"selectedTotal": 1},
        "redditQueue": [
            {
                "id": "a",
                "question": "Need help \u202eetadpu ot deen\u202c with \u2066isolates\u2069?",
                "subreddit": "self\u200fhosted",
                "link": "https://www.reddit.com/r/selfhosted/comments/a/",
                "confidence": 0.9,
            }
        ],
    }

    built = build_message(digest, "digest.json", None)

    rendered = [
        str(slack_channel.build_payload(built)),
        str(discord_channel.build_payload(built)),
        built.leads[0].title,
        built.leads[0].subreddit or "",
    ]
    for text in rendered:
        assert not any(
            mark in text
            for mark in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
        )
    assert built.leads[0].title == "Need help etadpu ot deen with isolates?"
    assert built.leads[0].subreddit == "selfhosted"


def test_a_confidence_is_shown_to_the_places_that_decide_it() -> None:
    """0.7519 read as 0.75 under "scored above 0.75"; every channel shows 0.752 now, and a
    plain 0.9 stays 0.90."""
    from nightly_batch.delivery.channels.email.content import build_email  # noqa: PLC0415

    digest = {
        "batchId": "b-1",
        "summary": {"selectedTotal": 2, "threshold": 0.75},
        "redditQueue": [
            {"id": "a", "question": "Close call?", "confidence": 0.7519},
            {"id": "b", "question": "Clear?", "confidence": 0.9},
        ],
    }

    built = build_message(digest, "digest.json", None)

    assert [lead.confidence_text for lead in built.leads] == ["0.752", "0.90"]
    assert "· 0.752" in str(slack_channel.build_payload(built))
    assert "· 0.752" in str(discord_channel.build_payload(built))
    assert "confidence 0.752" in build_email(built).text


def test_the_digests_notes_reach_every_channel() -> None:
    """The digest's head as the batch writes it (nearMisses, precision, summary.suppressed,
    a lead's alsoIn and creation time) becomes the same lines in Slack, Discord and e-mail."""
    from datetime import UTC, datetime  # noqa: PLC0415

    from nightly_batch.delivery.channels.email.content import build_email  # noqa: PLC0415

    now = datetime(2026, 11, 29, 7, 0, tzinfo=UTC)
    digest = {
        "batchId": "b-1",
        "summary": {
            "selectedTotal": 1,
            "threshold": 0.75,
            "queueTotal": 9,
            "suppressed": {
                "belowThreshold": 5,
                "invalid": 0,
                "alreadyDrafted": 1,
                "duplicate": 2,
                "stale": 0,
            },
        },
        "precision": {"windowDays": 30, "selected": 140, "drafted": 87, "suggestedThreshold": None},
        "nearMisses": [
            {
                "id": "n1",
                "question": "Older, better?",
                "confidence": 0.74,
                "link": "https://www.reddit.com/r/homelab/comments/n1/",
                "subreddit": "homelab",
            },
            {"id": "n2", "question": "Newer?", "confidence": 0.7},
        ],
        "redditQueue": [
            {
                "id": "a",
                "question": "Which proxy?",
                "subreddit": "selfhosted",
                "link": "https://www.reddit.com/r/selfhosted/comments/a/",
                "confidence": 0.9,
                "created_utc": int(datetime(2026, 11, 28, 22, 0, tzinfo=UTC).timestamp()),
                "alsoIn": [{"subreddit": "homelab", "id": "b"}, {"subreddit": "docker", "id": "c"}],
            }
        ],
    }

    built = build_message(digest, "digest.json", None, now=now)

    slack = str(slack_channel.build_payload(built))
    discord_text = str(discord_channel.build_payload(built))
    email = build_email(built)
    assert "· 0.90 · 9 h ago · also in r/homelab, r/docker" in slack
    assert "· 0.90 · 9 h ago · also in r/homelab, r/docker" in discord_text
    assert "(r/selfhosted, confidence 0.90, 9 h ago, also in r/homelab, r/docker)" in email.text
    assert (
        "2 near misses, best 0.74: <https://www.reddit.com/r/homelab/comments/n1/|Older, better?>"
        " — r/homelab" in slack
    )
    assert (
        "2 near misses, best 0.74: Older, better? <https://www.reddit.com/r/homelab/comments/n1/>"
        in email.text
    )
    assert (
        '<a href="https://www.reddit.com/r/homelab/comments/n1/">Older, better?</a>' in email.html
    )
    line = "62 % of the last 30 days' selections were drafted, n=140."
    left_out = "Left out: 5 below the threshold, 1 already drafted, 2 duplicates."
    for text in (slack, email.text, html.unescape(email.html)):
        assert line in text
        assert left_out in text
    assert "62 % of the last 30 days' selections were drafted, n=140." in discord_text
    assert "Left out\\: 5 below the threshold" not in discord_text  # the footer is plain text
    assert "'footer': {'text': 'Left out: 5 below the threshold, 1 already drafted" in discord_text
