"""Escaping untrusted Reddit text for each output, and cutting it to length.

A title like `<!channel> <https://evil|Click>` or `@everyone [spoof](https://evil)` must arrive
as inert text: no ping, no disguised link.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

ELLIPSIS = "…"
_DISCORD_SPECIALS = re.compile(r"([\\*_~`|>#\[\]()<:-])")
_DISCORD_MENTION = re.compile(r"@(everyone|here)", re.IGNORECASE)
# C0 and C1 controls and DEL: the start of every ANSI and OSC escape a terminal obeys.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary where one is near, marked with …"""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit * 0.6:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


def safe_url(url: str | None) -> str | None:
    """An http(s) URL with the characters that could break out of link syntax encoded."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return quote(url.strip(), safe=":/?#@!$&'*+,;=%~-._[]")


def slack(text: str) -> str:
    """Slack's three control characters as entities; nothing else is touched."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_link(url: str | None, label: str) -> str:
    link = safe_url(url)
    return f"<{link}|{slack(label)}>" if link else slack(label)


def discord(text: str) -> str:
    """Markdown specials backslash-escaped; @everyone/@here broken with a zero-width space."""
    return _DISCORD_MENTION.sub("@\u200b\\1", _DISCORD_SPECIALS.sub(r"\\\1", text))


def discord_link(url: str | None, label: str) -> str:
    link = safe_url(url)
    return f"[{discord(label)}]({link})" if link else discord(label)


def terminal(text: str) -> str:
    """Untrusted text as a terminal may show it: every control character (C0, C1, DEL, so
    every ANSI or OSC escape) as a visible `\\xNN`, so a Reddit title cannot recolour the
    terminal, retitle its window or forge a line."""
    return _CONTROLS.sub(lambda found: f"\\x{ord(found.group()):02x}", text)
