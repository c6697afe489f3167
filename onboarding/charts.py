"""A small server-side SVG bar chart: no JavaScript, no CDN, readable by screen readers."""

from __future__ import annotations

from datetime import date

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 700, 220
MARGIN_LEFT, MARGIN_BOTTOM, MARGIN_TOP = 40, 28, 12
RECORD_COLOUR, ACTIVITY_COLOUR = "#3b5bdb", "#8aa2f0"


def _nice_max(value: int) -> int:
    if value <= 5:
        return 5
    magnitude = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return value


def bar_chart_svg(days: list[tuple[date, int, int]], *, title: str) -> SafeString:
    """Grouped bars per day: records (dark) and activities (light), with a y axis and day labels."""
    top = _nice_max(max([max(r, a) for _, r, a in days] + [0]))
    plot_w = WIDTH - MARGIN_LEFT - 8
    plot_h = HEIGHT - MARGIN_BOTTOM - MARGIN_TOP
    slot = plot_w / max(len(days), 1)
    bar = max(slot / 2 - 3, 2)
    parts = [
        f'<svg class="chart-svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="chart-title chart-desc" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-title">{escape(title)}</title>',
        '<desc id="chart-desc">'
        + escape("; ".join(f"{d:%d %b}: {r:,} records synced, {a:,} activities" for d, r, a in days))
        + "</desc>",
    ]
    for i in range(5):
        value = top * i // 4
        y = MARGIN_TOP + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{MARGIN_LEFT}" x2="{WIDTH - 8}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e9ecef"/>'
        )
        parts.append(
            f'<text x="{MARGIN_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#5c636a">{value:,}</text>'
        )
    for index, (day, records, activities) in enumerate(days):
        x = MARGIN_LEFT + index * slot + 3
        for offset, value, colour, what in (
            (0, records, RECORD_COLOUR, "records synced"),
            (bar + 1, activities, ACTIVITY_COLOUR, "activities"),
        ):
            h = plot_h * value / top if top else 0
            y = MARGIN_TOP + plot_h - h
            parts.append(
                f'<rect x="{x + offset:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{colour}" rx="2">'
                f"<title>{day:%d %b}: {value:,} {what}</title></rect>"
            )
        parts.append(
            f'<text x="{x + bar:.1f}" y="{HEIGHT - 10}" text-anchor="middle" font-size="11" fill="#5c636a">'
            f"{day:%d %b}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped or a number
