"""Mailgun messages API: form fields, basic auth `api:KEY`, a US or EU base URL."""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx

from nightly_batch.core.clock import Clock
from nightly_batch.core.names import DeliveryStatus
from nightly_batch.delivery.channel import Delivery
from nightly_batch.delivery.channels.email.content import EmailContent
from nightly_batch.delivery.http import HttpPoster, classify_status, json_field
from nightly_batch.observability.redact import Redactor

BASE_URLS = {"us": "https://api.mailgun.net", "eu": "https://api.eu.mailgun.net"}


def build_form(
    content: EmailContent, sender: str, recipients: list[str]
) -> dict[str, str | list[str]]:
    form: dict[str, str | list[str]] = {
        "from": sender,
        "to": recipients,  # a repeated field
        "subject": content.subject,
        "text": content.text,
        "html": content.html,
        "h:Message-Id": content.message_id,
        "h:X-Digest-Id": content.digest_id,
        "v:digest_id": content.digest_id,
    }
    if len(recipients) > 1:
        # Batch sending: each recipient gets a copy addressed to them alone.
        form["recipient-variables"] = json.dumps({address: {} for address in recipients})
    return form


@dataclass
class MailgunSender:
    poster: HttpPoster
    redactor: Redactor
    clock: Clock
    api_key: str
    domain: str
    base_url: str = BASE_URLS["us"]

    def send(self, content: EmailContent, sender: str, recipients: list[str]) -> Delivery:
        return self.poster.post(
            f"{self.base_url}/v3/{self.domain}/messages",
            self._classify,
            data=build_form(content, sender, recipients),
            auth=("api", self.api_key),
        )

    def _classify(self, response: httpx.Response) -> Delivery:
        provider_id = json_field(response, "id") if response.status_code == 200 else None
        result = classify_status(response, self.redactor, self.clock.now(), provider_id)
        if result.status == DeliveryStatus.TRANSIENT and response.status_code >= 500:
            # Mailgun sometimes delivers despite a 5xx: resend once, with the same digest id.
            return Delivery(DeliveryStatus.AMBIGUOUS, error=result.error)
        return result
