"""Discord: an execute-webhook call with `?wait=true`, so a rejected message is an error, not a 204.

One embed within Discord's limits (title 256, description 4096, 6000 across embeds), mentions
disabled with `allowed_mentions: {"parse": []}`, and Markdown in Reddit text escaped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from nightly_batch.core.channels import ChannelSpec
from nightly_batch.core.clock import Clock
from nightly_batch.core.names import DeliveryStatus
from nightly_batch.delivery.building import BuildContext, allowed_url, poster
from nightly_batch.delivery.channel import Delivery
from nightly_batch.delivery.http import HttpPoster, classify_status, json_field
from nightly_batch.errors import ConfigError
from nightly_batch.observability.redact import Redactor
from nightly_batch.rules import escape
from nightly_batch.rules.message import DigestMessage, Lead
from nightly_batch.rules.message_lines import lead_facts, note_lines

TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FOOTER_MAX = 2048
EMBEDS_TOTAL_MAX = 6000
CONTENT_MAX = 2000
LEAD_TITLE_MAX = 200
COLOR = 0x5865F2
NO_MENTIONS: dict[str, list[str]] = {"parse": []}


def webhook_url(url: str) -> str:
    """discordapp.com is the old name; `wait=true` makes Discord report a rejected message."""
    parts = urlsplit(url)
    host = parts.netloc.replace("discordapp.com", "discord.com")
    query = dict(parse_qsl(parts.query))
    query["wait"] = "true"
    return urlunsplit((parts.scheme, host, parts.path, urlencode(query), ""))


def lead_line(lead: Lead) -> str:
    where = f" — r/{escape.discord(lead.subreddit)}" if lead.subreddit else ""
    facts = lead_facts(lead, escape.discord)
    return f"• {escape.discord_link(lead.link, escape.shorten(lead.title, LEAD_TITLE_MAX))}{where}{facts}"


def notes(message: DigestMessage) -> str:
    """The near-miss and precision lines, after a blank line; "" when there are none."""
    lines = note_lines(message, escape.discord, escape.discord_link)
    return "\n\n" + "\n".join(lines) if lines else ""


def more_line(count: int, message: DigestMessage) -> str:
    link = escape.safe_url(message.url)
    return f"+{count:,} more in " + (
        f"[the digest]({link})" if link else escape.discord(message.digest_file)
    )


def fill(head: str, lines: list[str], limit: int, message: DigestMessage) -> str:
    """`head` plus as many lines as fit in `limit` characters, then a "+K more" line, then
    the notes (which fit first: they are short, and say what the leads cannot)."""
    below = notes(message)[: limit // 3]
    reserve = len(more_line(len(lines) + message.unlisted, message)) + 1 + len(below)
    text, shown = head, 0
    for line in lines:
        if len(text) + 1 + len(line) + reserve > limit:
            break
        text += "\n" + line
        shown += 1
    if shown < len(lines) or message.unlisted:
        text += "\n" + more_line(len(lines) - shown + message.unlisted, message)
    return text + below


def build_payload(message: DigestMessage) -> dict[str, Any]:
    title = escape.shorten(message.title, TITLE_MAX)
    left_out = f"{message.left_out} · " if message.left_out else ""
    footer = f"{left_out}{message.digest_date} · batch {message.batch_id}"[:FOOTER_MAX]
    room = min(DESCRIPTION_MAX, EMBEDS_TOTAL_MAX - len(title) - len(footer) - 100)
    description = fill(
        escape.discord(message.summary), [lead_line(lead) for lead in message.leads], room, message
    )
    embed: dict[str, Any] = {
        "title": title,
        "description": description,
        "color": COLOR,
        "footer": {"text": footer},
    }
    link = escape.safe_url(message.url)
    if link:
        embed["url"] = link
    return {"username": "nightly-batch", "embeds": [embed], "allowed_mentions": NO_MENTIONS}


def plain_payload(message: DigestMessage) -> dict[str, Any]:
    head = f"**{escape.discord(message.title)}**\n{escape.discord(message.summary)}"
    footer = f"\n{escape.discord(message.left_out)}" if message.left_out else ""
    room = CONTENT_MAX - len(footer)
    content = fill(head, [lead_line(lead) for lead in message.leads], room, message) + footer
    # Links in plain content would each unfurl into a preview; suppress embeds (flag 1 << 2).
    return {"content": content, "allowed_mentions": NO_MENTIONS, "flags": 4}


@dataclass
class DiscordChannel:
    poster: HttpPoster
    redactor: Redactor
    clock: Clock
    url: str
    name: str = "discord"

    def send(self, message: DigestMessage) -> Delivery:
        result = self._post(build_payload(message))
        if result.status == DeliveryStatus.PAYLOAD:
            result = self._post(plain_payload(message))
        return result

    def notify(self, text: str) -> Delivery:
        return self._post(
            {"content": escape.discord(text)[:CONTENT_MAX], "allowed_mentions": NO_MENTIONS}
        )

    def _post(self, payload: dict[str, Any]) -> Delivery:
        return self.poster.post(webhook_url(self.url), self._classify, json=payload)

    def _classify(self, response: httpx.Response) -> Delivery:
        provider_id = json_field(response, "id") if response.status_code == 200 else None
        return classify_status(response, self.redactor, self.clock.now(), provider_id)


def build(context: BuildContext, spec: ChannelSpec, retries: bool) -> DiscordChannel:
    """The digest's Discord channel on DISCORD_WEBHOOK_URL."""
    url = context.environment.get("DISCORD_WEBHOOK_URL")
    if not url:
        raise ConfigError("the discord channel needs DISCORD_WEBHOOK_URL.")
    checked = allowed_url(context, spec, "webhook", "DISCORD_WEBHOOK_URL", webhook_url(url))
    return DiscordChannel(
        poster(context, spec.name, retries), context.redactor, context.clock, checked
    )
