"""Inline SVG bar charts: no JavaScript, no external assets, readable on a phone."""

from __future__ import annotations

from html import escape

WIDTH = 600
HEIGHT = 60
TOP = 14  # room above the bars for the scale's label


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


def value_bars(
    labels: list[str],
    values: list[float | None],
    title: str,
    unit: str,
    *,
    top: float | None = None,
    slots: int = 14,
) -> str:
    """One bar per label, as tall as its value (None: no bar, "no data" on hover), scaled to
    `top` (else the largest value), which the axis names; at least `slots` bar widths, so
    a single day is a bar and not the whole chart. For run durations and drafted shares."""
    known = [value for value in values if value is not None]
    if not known:
        return f'<p class="muted">{escape(title)}: no data yet.</p>'
    scale = top or max(known) or 1.0
    step = WIDTH / max(len(labels), slots)
    bar = max(step * 0.8, 1.0)
    parts = [
        _svg(TOP + HEIGHT + 14, title),
        f"<title>{escape(title)}</title>",
        f'<text x="2" y="10" class="axis">{escape(f"{scale:,.2f} {unit}")}</text>',
    ]
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = index * step
        if value is None:
            parts.append(
                f"<g><title>{escape(f'{label}: no data')}</title>"
                f"{_rect(x, TOP + HEIGHT - 1, bar, 1, 'axis')}</g>"
            )
            continue
        tall = HEIGHT * min(value / scale, 1.0)
        parts.append(
            f"<g><title>{escape(f'{label}: {value:,.2f} {unit}')}</title>"
            f"{_rect(x, TOP + HEIGHT - tall, bar, tall, 'ok')}</g>"
        )
    bottom = TOP + HEIGHT + 12
    parts.append(f'<text x="0" y="{bottom}" class="axis">{escape(labels[0])}</text>')
    if len(labels) > 1:
        parts.append(
            f'<text x="{(len(labels) - 1) * step + bar:.1f}" y="{bottom}" text-anchor="end" '
            f'class="axis">{escape(labels[-1])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def band_bars(bands: list[dict[str, object]], title: str) -> str:
    """Per confidence band: the selections (grey) and, inside, those drafted (green)."""
    counts = [
        (str(band.get("band")), _count(band.get("selected")), _count(band.get("drafted")))
        for band in bands
    ]
    tallest = max((selected for _, selected, _ in counts), default=0)
    if not tallest:
        return f'<p class="muted">{escape(title)}: no selection in the window yet.</p>'
    step = WIDTH / len(counts)
    bar = step * 0.6
    parts = [
        _svg(TOP + HEIGHT + 28, title),
        f"<title>{escape(title)}</title>",
    ]
    for index, (label, selected, drafted) in enumerate(counts):
        x = index * step + step * 0.2
        all_h, drafted_h = HEIGHT * selected / tallest, HEIGHT * drafted / tallest
        floor = TOP + HEIGHT
        share = f"{100 * drafted / selected:.0f} %" if selected else "-"
        hover = escape(f"{label}: {drafted} of {selected} drafted ({share})")
        parts.append(
            f"<g><title>{hover}</title>"
            f"{_rect(x, floor - all_h, bar, all_h, 'axis')}"
            f"{_rect(x, floor - drafted_h, bar, drafted_h, 'ok')}"
            f"{_centred(x + bar / 2, floor + 12, label)}{_centred(x + bar / 2, floor + 25, share)}"
            "</g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _rect(x: float, y: float, width: float, height: float, kind: str) -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" class="{kind}"/>'
    )


def _centred(x: float, y: float, text: str) -> str:
    return f'<text x="{x:.1f}" y="{y}" text-anchor="middle" class="axis">{escape(text)}</text>'


def _svg(height: int, title: str) -> str:
    return (
        f'<svg viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}" '
        'class="chart">'
    )
