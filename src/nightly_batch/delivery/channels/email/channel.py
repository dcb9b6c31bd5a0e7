"""E-mail delivery of the digest through SendGrid, Mailgun or SMTP."""

from __future__ import annotations

import html
import uuid
from dataclasses import dataclass
from typing import Protocol

from nightly_batch.delivery.channel import Delivery
from nightly_batch.delivery.channels.email.content import EmailContent, build_email
from nightly_batch.rules.message import DigestMessage


class EmailSender(Protocol):
    def send(self, content: EmailContent, sender: str, recipients: list[str]) -> Delivery: ...


@dataclass
class EmailChannel:
    sender: EmailSender
    from_address: str
    recipients: list[str]
    name: str = "email"

    def send(self, message: DigestMessage) -> Delivery:
        return self.sender.send(build_email(message), self.from_address, self.recipients)

    def notify(self, text: str) -> Delivery:
        subject = text.splitlines()[0][:120] if text.strip() else "nightly-batch"
        content = EmailContent(
            subject=subject,
            text=text + "\n",
            html=f"<html><body><pre>{html.escape(text)}</pre></body></html>",
            digest_id=f"notice-{uuid.uuid4()}",
        )
        return self.sender.send(content, self.from_address, self.recipients)
