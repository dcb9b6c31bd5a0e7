"""An alert as one SMS segment: 160 GSM-7 septets, or 70 UTF-16 units when a character
needs UCS-2 (3GPP TS 23.038). A longer text would be split and billed as several messages,
and a pager-style alert is read in the first line anyway."""

from __future__ import annotations

from collections.abc import Callable

# The GSM 03.38 basic character set (the escape, 0x1B, left out) and its extension table,
# whose characters take two septets each.
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = frozenset("^{}\\[~]|€\f")
GSM_SEPTETS = 160
UCS2_UNITS = 70


def is_gsm(text: str) -> bool:
    return all(char in GSM_BASIC or char in GSM_EXTENDED for char in text)


def septets(text: str) -> int:
    return sum(2 if char in GSM_EXTENDED else 1 for char in text)


def ucs2_units(text: str) -> int:
    """UTF-16 code units: a character beyond the BMP (an emoji) takes two."""
    return sum(2 if ord(char) > 0xFFFF else 1 for char in text)


def one_segment(text: str) -> str:
    """`text` (whitespace runs made single spaces) cut to fit one segment, marked as cut."""
    text = " ".join(text.split())
    if is_gsm(text):
        return _cut(text, septets, GSM_SEPTETS, "...")
    return _cut(text, ucs2_units, UCS2_UNITS, "\u2026")


def _cut(text: str, measure: Callable[[str], int], limit: int, mark: str) -> str:
    if measure(text) <= limit:
        return text
    room, used, end = limit - measure(mark), 0, 0
    for end, char in enumerate(text):  # noqa: B007  (end is the cut after the loop)
        used += measure(char)
        if used > room:
            break
    return text[:end].rstrip() + mark
