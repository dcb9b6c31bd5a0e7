"""Slack and Discord against respx: exact payloads and every failure class."""

from __future__ import annotations

import re
from datetime import timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
import respx

from fakes import EPOCH, FakeClock, Pauses, dated, message
from nightly_batch.core.jsonio import parse_json
from nightly_batch.delivery.channels.discord import DiscordChannel
from nightly_batch.delivery.channels.slack import API_URL, SlackChannel
from nightly_batch.delivery.http import HttpPoster, make_client
from nightly_batch.observability.redact import Redactor

HOOK = "https://hooks.slack.com/services/T000/B000/XXXXXXXXSECRET"
DISCORD = "https://discord.com/api/webhooks/123/DISCORDSECRET"


def slack(pauses: Pauses, **kwargs: Any) -> SlackChannel:
    poster = HttpPoster("slack", make_client(), pauses)
    return SlackChannel(poster, Redactor([HOOK]), FakeClock(), **({"webhook_url": HOOK} | kwargs))


def discord(pauses: Pauses, url: str = DISCORD) -> DiscordChannel:
    return DiscordChannel(
        HttpPoster("discord", make_client(), pauses), Redactor([url]), FakeClock(), url
    )


def body(call: Any) -> Any:
    return parse_json(call.request.content)


@respx.mock
def test_slack_webhook_payload_is_block_kit_with_a_text_fallback() -> None:
    """Header, summary, one line per lead, the View digest button, and top-level text."""
    route = respx.post(HOOK).respond(200, text="ok")
    lead_message = message(
        2,
        title="Best <b>proxy</b> & {i}?",
        url=dated("https://leads.example.com/digests/digest-2026-11-28.json"),
    )

    result = slack(Pauses()).send(lead_message)

    assert result.delivered
    assert body(route.calls.last) == {
        "text": "🚀 2 Reddit Leads Ready for Review\nThe nightly sweep holds 140 leads; 2 scored above 0.75 and are ready for drafting (1 new tonight).",
        "blocks": [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": "🚀 2 Reddit Leads Ready for Review"},
            },
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "The nightly sweep holds 140 leads; 2 scored above 0.75 and are ready for drafting (1 new tonight).",
                },
            },
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": (
                        "• <https://www.reddit.com/r/selfhosted/comments/0/|Best &lt;b&gt;proxy&lt;/b&gt; &amp; 0?> — r/selfhosted · 0.90\n"
                        "• <https://www.reddit.com/r/selfhosted/comments/1/|Best &lt;b&gt;proxy&lt;/b&gt; &amp; 1?> — r/selfhosted · 0.90"
                    ),
                },
            },
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "View digest"},
                        "url": dated("https://leads.example.com/digests/digest-2026-11-28.json"),
                    }
                ],
            },
        ],
        "unfurl_links": False,
        "unfurl_media": False,
    }
    assert route.calls.last.request.headers["User-Agent"].startswith("nightly-batch/")


@respx.mock
def test_slack_429_waits_for_retry_after_then_succeeds() -> None:
    """`Retry-After: 2` is honoured (plus a little jitter), then the post goes through."""
    route = respx.post(HOOK).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "2"}),
            httpx.Response(200, text="ok"),
        ]
    )
    pauses = Pauses()

    result = slack(pauses).send(message())

    assert result.delivered
    assert route.call_count == 2
    assert len(pauses.waits) == 1
    assert 2.0 <= pauses.waits[0] <= 2.25


@respx.mock
def test_retry_after_as_an_http_date() -> None:
    """A Retry-After date is turned into seconds from now (the fake clock's now)."""
    route = respx.post(HOOK).mock(
        side_effect=[
            httpx.Response(
                429,
                headers={"Retry-After": format_datetime(EPOCH + timedelta(seconds=5), usegmt=True)},
            ),
            httpx.Response(200, text="ok"),
        ]
    )
    pauses = Pauses()

    assert slack(pauses).send(message()).delivered
    assert route.call_count == 2
    assert 5.0 <= pauses.waits[0] <= 5.25


@respx.mock
def test_slack_500_is_retried_with_backoff_then_reported_transient() -> None:
    """Three attempts with growing, jittered waits; then the failure is transient."""
    route = respx.post(HOOK).respond(500, text="rollup_error")
    pauses = Pauses()

    result = slack(pauses).send(message())

    assert route.call_count == 3
    assert result.status == "transient"
    assert result.error == "HTTP 500: rollup_error"
    assert len(pauses.waits) == 2
    assert 0 <= pauses.waits[0] <= 1.0
    assert 0 <= pauses.waits[1] <= 2.0


@pytest.mark.parametrize("status", [401, 403, 404, 410])
@respx.mock
def test_slack_configuration_errors_are_not_retried(status: int) -> None:
    """401/403/404/410 stop at once: one call, a configuration failure."""
    route = respx.post(HOOK).respond(status, text="no_service")

    result = slack(Pauses()).send(message())

    assert route.call_count == 1
    assert result.status == "configuration"
    assert result.error == f"HTTP {status}: no_service"


@respx.mock
def test_slack_read_timeout_is_ambiguous_and_not_resent() -> None:
    """After the request went out, a timeout may hide a posted message: never resend it."""
    route = respx.post(HOOK).mock(side_effect=httpx.ReadTimeout("timed out"))

    result = slack(Pauses()).send(message())

    assert route.call_count == 1
    assert result.status == "ambiguous"


@respx.mock
def test_slack_connect_error_is_retried() -> None:
    """Nothing reached Slack on a connect error, so trying again is safe."""
    route = respx.post(HOOK).mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(200, text="ok")]
    )

    assert slack(Pauses()).send(message()).delivered
    assert route.call_count == 2


@respx.mock
def test_slack_invalid_blocks_gets_exactly_one_plain_text_resend() -> None:
    """A payload error is answered with one degraded text-only message, never the same payload."""
    route = respx.post(HOOK).mock(
        side_effect=[httpx.Response(400, text="invalid_blocks"), httpx.Response(200, text="ok")]
    )

    result = slack(Pauses()).send(message(3))

    assert result.delivered
    assert route.call_count == 2
    first, second = body(route.calls[0]), body(route.calls[1])
    assert "blocks" in first
    assert set(second) == {"text", "unfurl_links"}
    assert second["text"].count("• <https://www.reddit.com/") == 3


@respx.mock
def test_slack_payload_error_twice_is_not_sent_a_third_time() -> None:
    """If the plain-text resend is refused too, that is the end."""
    route = respx.post(HOOK).respond(400, text="invalid_payload")

    result = slack(Pauses()).send(message())

    assert route.call_count == 2
    assert result.status == "payload"


@respx.mock
def test_slack_bot_token_posts_to_the_channel_id_and_checks_ok() -> None:
    """With SLACK_BOT_TOKEN and a channel id, chat.postMessage is used and `ok` is checked."""
    route = respx.post(API_URL).mock(
        side_effect=[
            httpx.Response(200, json={"ok": False, "error": "not_in_channel"}),
            httpx.Response(200, json={"ok": True, "ts": "1700000000.000100"}),
        ]
    )
    channel = slack(
        Pauses(), webhook_url=None, bot_token="xoxb-1-2-SECRET", channel_id="C0123456789"
    )

    refused = channel.send(message())
    posted = channel.send(message())

    assert (refused.status, refused.error) == ("configuration", "Slack API error not_in_channel")
    assert (posted.status, posted.provider_id) == ("delivered", "1700000000.000100")
    request = route.calls.last.request
    assert request.headers["Authorization"] == "Bearer xoxb-1-2-SECRET"
    assert body(route.calls.last)["channel"] == "C0123456789"


@respx.mock
def test_discord_payload_waits_disables_mentions_and_escapes_markdown() -> None:
    """`?wait=true`, one embed, `allowed_mentions: {"parse": []}`, Markdown in titles escaped."""
    route = respx.post(f"{DISCORD}?wait=true").respond(200, json={"id": "998877"})
    lead_message = message(1, title="@everyone look [here](https://evil.example) *now* {i}")

    result = discord(Pauses()).send(lead_message)

    assert (result.status, result.provider_id) == ("delivered", "998877")
    payload = body(route.calls.last)
    assert payload["allowed_mentions"] == {"parse": []}
    assert payload["username"] == "nightly-batch"
    [embed] = payload["embeds"]
    assert embed["title"] == "🚀 1 Reddit Leads Ready for Review"
    assert embed["description"].endswith(
        "\n• [@\u200beveryone look \\[here\\]\\(https\\://evil.example\\) \\*now\\* 0](https://www.reddit.com/r/selfhosted/comments/0/) — r/selfhosted · 0.90"
    )
    assert route.calls.last.request.headers["User-Agent"].startswith("nightly-batch/")


@respx.mock
def test_discordapp_com_is_rewritten_to_discord_com() -> None:
    """The old host name still works; the request goes to discord.com."""
    route = respx.post(f"{DISCORD}?wait=true").respond(204)

    result = discord(Pauses(), url="https://discordapp.com/api/webhooks/123/DISCORDSECRET").send(
        message()
    )

    assert result.delivered
    assert route.call_count == 1


@respx.mock
def test_discord_429_honours_the_float_retry_after() -> None:
    """Discord's JSON `retry_after: 1.5` wins over its decimal reset header."""
    route = respx.post(f"{DISCORD}?wait=true").mock(
        side_effect=[
            httpx.Response(
                429,
                json={"retry_after": 1.5, "global": False},
                headers={"X-RateLimit-Reset": "1470173023.123"},
            ),
            httpx.Response(200, json={"id": "1"}),
        ]
    )
    pauses = Pauses()

    assert discord(pauses).send(message()).delivered
    assert route.call_count == 2
    assert 1.5 <= pauses.waits[0] <= 1.75


@respx.mock
def test_a_long_rate_limit_is_left_to_a_later_heartbeat() -> None:
    """A wait longer than a minute is not slept through; the result says rate-limited."""
    route = respx.post(HOOK).respond(429, headers={"Retry-After": "3600"})
    pauses = Pauses()

    result = slack(pauses).send(message())

    assert (result.status, result.retry_after) == ("rate-limited", 3600.0)
    assert route.call_count == 1
    assert pauses.waits == []


@respx.mock
def test_redirects_are_not_followed() -> None:
    """A redirect would carry the secret URL's request elsewhere: it is a configuration error."""
    route = respx.post(HOOK).respond(302, headers={"Location": "https://evil.example/"})
    evil = respx.post("https://evil.example/").respond(200, text="ok")

    result = slack(Pauses()).send(message())

    assert result.status == "configuration"
    assert route.call_count == 1
    assert evil.call_count == 0


def test_the_more_line_groups_its_thousands() -> None:
    """ "+271933 more" read as a serial number; it is "+271,933 more" now, on both services."""
    from nightly_batch.delivery.channels import discord as discord_channel  # noqa: PLC0415
    from nightly_batch.delivery.channels import slack as slack_channel  # noqa: PLC0415

    big = message(5000)
    slack_text = str(slack_channel.build_payload(big))
    discord_text = str(discord_channel.build_payload(big))

    for text in (slack_text, discord_text):
        [more] = re.findall(r"\+([\d,]+) more", text)
        assert re.fullmatch(r"\d,\d{3}", more), more
