"""Inline SVG bar charts: no JavaScript, no external assets, readable on a phone."""

from __future__ import annotations

from html import escape

WIDTH = 600
HEIGHT = 60


def stacked_bars(days: list[str], ok: list[int], failed: list[int], title: str) -> str:
    """One bar per day, successes green, failures red on top; a <title> per bar for hover."""
    if not days:
        return f'<p class="muted">{escape(title)}: no runs yet.</p>'
    tallest = max((a + b for a, b in zip(ok, failed, strict=True)), default=1) or 1
    step = WIDTH / len(days)
    bar = max(step * 0.8, 1.0)
    parts = [
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT + 14}" role="img" aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
    ]
    for index, (day, good, bad) in enumerate(zip(days, ok, failed, strict=True)):
        x = index * step
        good_h = HEIGHT * good / tallest
        bad_h = HEIGHT * bad / tallest
        label = escape(f"{day}: {good} ok, {bad} failed")
        good_y, bad_y = HEIGHT - good_h, HEIGHT - good_h - bad_h
        parts.append(
            f"<g><title>{label}</title>"
            f'<rect x="{x:.1f}" y="{good_y:.1f}" width="{bar:.1f}" height="{good_h:.1f}" class="ok"/>'
            f'<rect x="{x:.1f}" y="{bad_y:.1f}" width="{bar:.1f}" height="{bad_h:.1f}" class="bad"/>'
            "</g>"
        )
    parts.append(f'<text x="0" y="{HEIGHT + 12}" class="axis">{escape(days[0])}</text>')
    parts.append(
        f'<text x="{WIDTH}" y="{HEIGHT + 12}" text-anchor="end" class="axis">{escape(days[-1])}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)
