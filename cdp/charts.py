"""The home page's people and organizations over time: a server-side SVG line chart (no JavaScript, no CDN),
its numbers also given as text for screen readers."""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 700, 200
LEFT, BOTTOM, TOP, RIGHT = 56, 26, 12, 10
PEOPLE_COLOUR, ORGANIZATIONS_COLOUR = "#3b5bdb", "#b35c00"


def _nice_max(value: int) -> int:
    if value <= 5:
        return 5
    magnitude = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return value


def growth_chart_svg(days) -> SafeString:
    """Two lines, people and organizations, one point per day (`selectors.growth`)."""
    if not days:
        return mark_safe("")  # noqa: S308 - empty
    top = _nice_max(max(max(d.people, d.organizations) for d in days))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - BOTTOM - TOP
    step = plot_w / max(len(days) - 1, 1)

    def point(index: int, value: int) -> str:
        return f"{LEFT + index * step:.1f},{TOP + plot_h - plot_h * value / top:.1f}"

    first, last = days[0], days[-1]
    summary = (
        f"People: {first.people:,} on {first.day:%d %b}, {last.people:,} on {last.day:%d %b}. "
        f"Organizations: {first.organizations:,} on {first.day:%d %b}, {last.organizations:,} on {last.day:%d %b}."
    )
    parts = [
        f'<svg class="chart-svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="growth-title growth-desc" xmlns="http://www.w3.org/2000/svg">',
        '<title id="growth-title">People and organizations, last 30 days</title>',
        f'<desc id="growth-desc">{escape(summary)}</desc>',
    ]
    for i in range(5):
        value = top * i // 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e9ecef"/>')
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#5c636a">{value:,}</text>'
        )
    for index in range(0, len(days), 7):
        x = LEFT + index * step
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - 8}" text-anchor="middle" font-size="11" fill="#5c636a">'
            f"{days[index].day:%d %b}</text>"
        )
    for attr, colour in (("people", PEOPLE_COLOUR), ("organizations", ORGANIZATIONS_COLOUR)):
        points = " ".join(point(i, getattr(d, attr)) for i, d in enumerate(days))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped or a number
