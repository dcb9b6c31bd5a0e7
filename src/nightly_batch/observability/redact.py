"""Removes secrets from any text that leaves the process: logs, exception messages, alerts."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

MASK = "***"

# Shapes of credentials worth hiding even when they did not come from our environment
# (a URL in an error message from a library, a token pasted into a config value).
_PATTERNS = (
    (re.compile(r"(hooks\.slack\.com/(?:services|workflows|triggers)/)[^\s\"'<>]+"), rf"\1{MASK}"),
    (re.compile(r"(/api/webhooks/)[^\s\"'<>]+"), rf"\1{MASK}"),
    (re.compile(r"xox[abposr]-[A-Za-z0-9-]+"), f"xox-{MASK}"),
    (re.compile(r"SG\.[\w-]{8,}\.[\w-]{8,}"), f"SG.{MASK}"),
    (re.compile(r"(?i)(bearer\s+)[^\s\"']+"), rf"\1{MASK}"),
    (re.compile(r"(?i)(basic\s+)[A-Za-z0-9+/=]{8,}"), rf"\1{MASK}"),
    (re.compile(r"(?i)\b(key-)[0-9a-f]{16,}"), rf"\1{MASK}"),
    (re.compile(r"(\w+://[^/\s:@]*:)[^@\s/]+@"), rf"\1{MASK}@"),
)


class Redactor:
    """Replaces known secret values and credential-shaped text with ***."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is hidden whole.
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self.secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        for pattern, replacement in _PATTERNS:
            value = pattern.sub(replacement, value)
        return value

    def value(self, value: Any) -> Any:
        """Redact strings anywhere inside nested dicts, lists and tuples."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {key: self.value(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(item) for item in value]
        return value
