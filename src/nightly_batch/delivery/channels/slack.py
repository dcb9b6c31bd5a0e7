"""Slack: an incoming webhook, or chat.postMessage with a bot token when the target is a channel id.

Block Kit with a top-level `text` (mobile notifications show only that), packed within Slack's
hard limits: header <= 150 characters, sections <= 3000, at most 50 blocks; block text is kept
under ~12,000 characters in all, below the undocumented `msg_blocks_too_long` limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx

from nightly_batch.core.channels import ChannelSpec
from nightly_batch.core.clock import Clock
from nightly_batch.core.names import DeliveryStatus
from nightly_batch.delivery.building import BuildContext, allowed_url, poster
from nightly_batch.delivery.channel import Delivery
from nightly_batch.delivery.http import HttpPoster, classify_status, error_text
from nightly_batch.errors import ConfigError
from nightly_batch.observability.redact import Redactor
from nightly_batch.rules import escape
from nightly_batch.rules.message import DigestMessage, Lead
from nightly_batch.rules.message_lines import lead_facts, note_lines

API_URL = "https://slack.com/api/chat.postMessage"
CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")
HEADER_MAX = 150
SECTION_MAX = 3000
BLOCKS_MAX = 50
BLOCK_TEXT_BUDGET = 11_000
TITLE_MAX = 200
# chat.postMessage answers 200 with {"ok": false, "error": ...}; these say the message was bad.
PAYLOAD_ERRORS = {
    "invalid_blocks",
    "invalid_blocks_format",
    "msg_too_long",
    "no_text",
    "msg_blocks_too_long",
    "invalid_arguments",
    "too_many_attachments",
}
TRANSIENT_ERRORS = {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}


def lead_line(lead: Lead) -> str:
    where = f" — r/{escape.slack(lead.subreddit)}" if lead.subreddit else ""
    facts = lead_facts(lead, escape.slack)
    return f"• {escape.slack_link(lead.link, escape.shorten(lead.title, TITLE_MAX))}{where}{facts}"


def notes(message: DigestMessage) -> list[str]:
    """The near-miss and precision lines, then the left-out footer: each a context block."""
    lines = note_lines(message, escape.slack, escape.slack_link)
    if message.left_out:
        lines.append(escape.slack(message.left_out))
    return [line[:SECTION_MAX] for line in lines]


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def more_line(count: int, message: DigestMessage) -> str:
    link = escape.safe_url(message.url)
    return f"+{count:,} more in {f'<{link}|the digest>' if link else message.digest_file}"


def pack_sections(lines: list[str], budget: int, blocks: int) -> tuple[list[str], int]:
    """Lead lines grouped into sections of <= 3000 characters; how many lines fit."""
    sections: list[str] = []
    used = 0
    for count, line in enumerate(lines):
        if sections and len(sections[-1]) + 1 + len(line) <= SECTION_MAX:
            grown = len(line) + 1
            if used + grown > budget:
                return sections, count
            sections[-1] += "\n" + line
        else:
            if len(sections) == blocks or used + len(line) > budget:
                return sections, count
            sections.append(line)
            grown = len(line)
        used += grown
    return sections, len(lines)


def build_payload(message: DigestMessage) -> dict[str, Any]:
    """The Block Kit message: header, summary, leads, "+K more", the notes (near misses,
    precision, what was left out), a View digest button."""
    summary = escape.slack(message.summary)
    fixed: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": escape.shorten(message.title, HEADER_MAX)},
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": summary[:SECTION_MAX]}},
    ]
    lines = [lead_line(lead) for lead in message.leads]
    below = notes(message)
    reserve = 3 + len(below)  # the "+K more" context, the button, the notes, room to spare
    sections, shown = pack_sections(
        lines,
        BLOCK_TEXT_BUDGET - len(summary) - sum(map(len, below)),
        BLOCKS_MAX - len(fixed) - reserve,
    )
    blocks = fixed + [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}} for text in sections
    ]
    hidden = len(lines) - shown + message.unlisted
    if hidden:
        blocks.append(_context(more_line(hidden, message)))
    blocks += [_context(line) for line in below]
    link = escape.safe_url(message.url)
    if link:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "View digest"},
                        "url": link,
                    }
                ],
            }
        )
    return {
        "text": notification_text(message),
        "blocks": blocks,
        "unfurl_links": False,
        "unfurl_media": False,
    }


def notification_text(message: DigestMessage) -> str:
    """The top-level text: what phone notifications show."""
    return f"{escape.slack(message.title)}\n{escape.slack(message.summary)}"[:SECTION_MAX]


def plain_text(message: DigestMessage) -> str:
    """The whole message as one text of <= 3000 characters, for the degraded resend."""
    text = notification_text(message)
    lines = [lead_line(lead) for lead in message.leads]
    below = notes(message)
    # The notes are short and say what the leads cannot; room is kept for them first.
    room = SECTION_MAX - 80 - min(sum(len(line) + 1 for line in below), SECTION_MAX // 3)
    body, count = text, 0
    for line in lines:
        if len(body) + len(line) > room:
            break
        body += "\n" + line
        count += 1
    if count < len(lines) or message.unlisted:
        body += "\n" + more_line(len(lines) - count + message.unlisted, message)
    for line in below:
        if len(body) + 1 + len(line) <= SECTION_MAX:
            body += "\n" + line
    return body


@dataclass
class SlackChannel:
    """Posts to an incoming webhook, or with a bot token to the channel id in the target."""

    poster: HttpPoster
    redactor: Redactor
    clock: Clock
    webhook_url: str | None = None
    bot_token: str | None = None
    channel_id: str | None = None
    name: str = "slack"

    def send(self, message: DigestMessage) -> Delivery:
        result = self._post(build_payload(message))
        if result.status == DeliveryStatus.PAYLOAD:
            # One degraded resend as plain text, so the leads still arrive; never the same payload.
            result = self._post({"text": plain_text(message), "unfurl_links": False})
        return result

    def notify(self, text: str) -> Delivery:
        return self._post({"text": escape.slack(text)})

    def _post(self, payload: dict[str, Any]) -> Delivery:
        if self.bot_token and self.channel_id:
            return self.poster.post(
                API_URL,
                self._classify_api,
                json={"channel": self.channel_id, **payload},
                headers={"Authorization": f"Bearer {self.bot_token}"},
            )
        assert self.webhook_url is not None  # noqa: S101  (checked when the channel was built)
        return self.poster.post(self.webhook_url, self._classify_webhook, json=payload)

    def _classify_webhook(self, response: httpx.Response) -> Delivery:
        # Slack answers "ok"; compatible servers may answer otherwise, and any 2xx means posted.
        return classify_status(response, self.redactor, self.clock.now(), provider_id="webhook")

    def _classify_api(self, response: httpx.Response) -> Delivery:
        result = classify_status(response, self.redactor, self.clock.now())
        if result.status != DeliveryStatus.DELIVERED:
            return result
        try:
            body = response.json()
        except ValueError:
            return Delivery(DeliveryStatus.TRANSIENT, error=error_text(response, self.redactor))
        if body.get("ok") is True:
            return Delivery(DeliveryStatus.DELIVERED, provider_id=str(body.get("ts")))
        code = str(body.get("error", "unknown_error"))
        kind = (
            DeliveryStatus.PAYLOAD
            if code in PAYLOAD_ERRORS
            else DeliveryStatus.TRANSIENT
            if code in TRANSIENT_ERRORS
            else None
        )
        if code == "ratelimited":
            return Delivery(
                DeliveryStatus.RATE_LIMITED, error="Slack API error ratelimited", retry_after=1.0
            )
        # Anything else (invalid_auth, channel_not_found, not_in_channel, ...) is the setup's fault.
        return Delivery(kind or DeliveryStatus.CONFIGURATION, error=f"Slack API error {code}")


def build(context: BuildContext, spec: ChannelSpec, retries: bool) -> SlackChannel:
    """The digest's Slack channel: a bot token with a channel id, else the incoming webhook."""
    env = context.environment
    target = (context.config.digest_notification_target or "").strip()
    token = env.get("SLACK_BOT_TOKEN")
    if token and CHANNEL_ID.match(target):
        return SlackChannel(
            poster(context, spec.name, retries),
            context.redactor,
            context.clock,
            bot_token=token,
            channel_id=target,
        )
    webhook = env.get("SLACK_WEBHOOK_URL")
    if not webhook:
        raise ConfigError(
            "the slack channel needs SLACK_WEBHOOK_URL, or SLACK_BOT_TOKEN with a channel id "
            "(like C0123456789) in digestNotificationTarget."
        )
    url = allowed_url(context, spec, "webhook", "SLACK_WEBHOOK_URL", webhook)
    return SlackChannel(
        poster(context, spec.name, retries), context.redactor, context.clock, webhook_url=url
    )


def build_alerts(
    context: BuildContext, spec: ChannelSpec, webhook: str, *, retries: bool = True
) -> SlackChannel:
    """The alert channel on SLACK_ERROR_WEBHOOK (with retries, but for test-notify: an alert
    must get out)."""
    url = allowed_url(context, spec, "webhook", "SLACK_ERROR_WEBHOOK", webhook)
    return SlackChannel(
        poster(context, "alert-slack", retries=retries),
        context.redactor,
        context.clock,
        webhook_url=url,
    )
