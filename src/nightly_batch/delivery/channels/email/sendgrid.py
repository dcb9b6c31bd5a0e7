"""SendGrid v3 mail/send: JSON with personalizations, a text and an HTML part; 202 means queued."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

import httpx

from nightly_batch.core.clock import Clock
from nightly_batch.delivery.channel import Delivery
from nightly_batch.delivery.channels.email.content import EmailContent
from nightly_batch.delivery.http import HttpPoster, classify_status
from nightly_batch.observability.redact import Redactor

DEFAULT_URL = "https://api.sendgrid.com/v3/mail/send"


def address(text: str) -> dict[str, str]:
    """`Name <addr>` as SendGrid's {"name", "email"} (its Mail helper does the same); a bare
    address as {"email"}. The whole text in "email" is refused or shown raw."""
    name, email = parseaddr(text)
    return {"name": name, "email": email} if name else {"email": email or text}


def build_request(content: EmailContent, sender: str, recipients: list[str]) -> dict[str, Any]:
    # One personalization per recipient, so nobody sees the others' addresses.
    return {
        "personalizations": [{"to": [{"email": address}]} for address in recipients],
        "from": address(sender),
        "subject": content.subject,
        "content": [
            {"type": "text/plain", "value": content.text},
            {"type": "text/html", "value": content.html},
        ],
        "headers": {"Message-ID": content.message_id, "X-Digest-Id": content.digest_id},
        "custom_args": {"digest_id": content.digest_id},
    }


@dataclass
class SendGridSender:
    poster: HttpPoster
    redactor: Redactor
    clock: Clock
    api_key: str
    url: str = DEFAULT_URL

    def send(self, content: EmailContent, sender: str, recipients: list[str]) -> Delivery:
        return self.poster.post(
            self.url,
            self._classify,
            json=build_request(content, sender, recipients),
            headers={"Authorization": f"Bearer {self.api_key}"},
        )

    def _classify(self, response: httpx.Response) -> Delivery:
        return classify_status(
            response, self.redactor, self.clock.now(), response.headers.get("X-Message-Id")
        )
