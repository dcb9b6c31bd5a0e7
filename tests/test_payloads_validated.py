"""What we send, checked by the services' own client libraries rather than by our constants:
slack_sdk's Block Kit models, discord.py's Embed. Our limits could share our misunderstanding
of the service; theirs cannot."""

from __future__ import annotations

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


@pytest.mark.parametrize("count", [0, 1, 49, 50, 2000])
@pytest.mark.parametrize("title", TITLES)
def test_slack_blocks_pass_slack_sdks_block_kit_validation(count: int, title: str) -> None:
    payload = slack_channel.build_payload(message(count, title=title, url="https://l.example/d"))

    blocks = Block.parse_all(payload["blocks"])
    for block in blocks:
        block.validate_json()  # raises SlackObjectFormationError past any Block Kit limit
    assert len(blocks) <= 50  # a message's block limit
    assert [block.to_dict() for block in blocks] == payload["blocks"]  # no field it does not know
    assert 0 < len(payload["text"]) <= 40_000  # chat.postMessage truncates beyond


@pytest.mark.parametrize("count", [0, 1, 49, 50, 2000])
@pytest.mark.parametrize("title", TITLES)
def test_discord_embeds_fit_discord_pys_own_measure(count: int, title: str) -> None:
    payload = discord_channel.build_payload(message(count, title=title, url="https://l.example/d"))

    embeds = [discord.Embed.from_dict(embed) for embed in payload["embeds"]]
    assert len(embeds) <= 10
    assert sum(len(embed) for embed in embeds) <= 6000  # discord.py counts as Discord does
    for embed in embeds:
        assert len(embed.title or "") <= 256
        assert len(embed.description or "") <= 4096
        assert len(embed.footer.text or "") <= 2048
        assert embed.to_dict()["description"] == payload["embeds"][0]["description"]


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
