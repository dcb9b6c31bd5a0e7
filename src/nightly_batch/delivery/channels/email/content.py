"""The digest as an e-mail: subject, a plain-text part (always) and an escaped HTML part."""

from __future__ import annotations

import html
from dataclasses import dataclass

from nightly_batch.rules import escape
from nightly_batch.rules.message import DigestMessage
from nightly_batch.rules.message_lines import also_in_text, note_lines

# E-mail has no hard limit, but a mail of thousands of leads helps nobody; the rest is linked.
LEADS_MAX = 200
TITLE_MAX = 300


@dataclass(frozen=True, slots=True)
class EmailContent:
    subject: str
    text: str
    html: str
    digest_id: str

    @property
    def message_id(self) -> str:
        """The Message-ID every provider sends, the same on the one automatic resend of an
        ambiguous attempt, so a mail client can fold a duplicate."""
        return f"<digest-{self.digest_id}@nightly-batch>"


def _text_link(url: str | None, label: str) -> str:
    link = escape.safe_url(url)
    return f"{label} <{link}>" if link else label


def _html_link(url: str | None, label: str) -> str:
    link = escape.safe_url(url)
    return f'<a href="{html.escape(link)}">{html.escape(label)}</a>' if link else html.escape(label)


def build_email(message: DigestMessage) -> EmailContent:
    shown = message.leads[:LEADS_MAX]
    hidden = len(message.leads) - len(shown) + message.unlisted
    where = message.url or message.digest_file
    text_lines = [message.title, "", message.summary, ""]
    items = []
    for rank, lead in enumerate(shown, start=1):
        title = escape.shorten(lead.title, TITLE_MAX)
        facts = ", ".join(
            part
            for part in (
                f"r/{lead.subreddit}" if lead.subreddit else "",
                f"confidence {lead.confidence_text}" if lead.confidence_text else "",
                lead.age or "",
                also_in_text(lead, str) or "",
            )
            if part
        )
        text_lines.append(f"{rank}. {title} ({facts})")
        link = escape.safe_url(lead.link)
        if link:
            text_lines.append(f"   {link}")
        label = html.escape(title)
        linked = f'<a href="{html.escape(link)}">{label}</a>' if link else label
        items.append(f"<li>{linked} <small>{html.escape(facts)}</small></li>")
    if hidden:
        text_lines += ["", f"+{hidden:,} more in {where}"]
    notes = note_lines(message, str, _text_link)
    if notes:
        text_lines += ["", *notes]
    if message.left_out:
        text_lines += ["", message.left_out]
    if message.url:
        text_lines += ["", f"View digest: {message.url}"]
    more = f"<p>+{hidden:,} more in {html.escape(where)}</p>" if hidden else ""
    view = f'<p><a href="{html.escape(message.url)}">View digest</a></p>' if message.url else ""
    notes_html = "".join(f"<p>{line}</p>" for line in note_lines(message, html.escape, _html_link))
    left_out = f"<p><small>{html.escape(message.left_out)}</small></p>" if message.left_out else ""
    body = (
        f"<html><body><h2>{html.escape(message.title)}</h2><p>{html.escape(message.summary)}</p>"
        f"<ol>{''.join(items)}</ol>{more}{notes_html}{view}{left_out}"
        f"<p><small>{html.escape(message.digest_file)} · batch {html.escape(message.batch_id)}</small></p>"
        "</body></html>"
    )
    return EmailContent(message.title, "\n".join(text_lines) + "\n", body, message.batch_id)
