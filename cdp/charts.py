"""Server-side SVG charts (no JavaScript, no CDN), their numbers also given as text for screen readers: the
home page's people and organizations over time (lines), and a data source's records and activities per day
(bars)."""

from __future__ import annotations

from datetime import date

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 700, 200
LEFT, BOTTOM, TOP, RIGHT = 56, 26, 12, 10
PEOPLE_COLOUR, ORGANIZATIONS_COLOUR = "#3b5bdb", "#b35c00"
BAR_WIDTH, BAR_HEIGHT = 700, 220
BAR_LEFT, BAR_BOTTOM, BAR_TOP = 40, 28, 12
RECORD_COLOUR, ACTIVITY_COLOUR = "#3b5bdb", "#8aa2f0"


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


def bar_chart_svg(days: list[tuple[date, int, int]], *, title: str) -> SafeString:
    """Grouped bars per day: records (dark) and activities (light), with a y axis and day labels."""
    top = _nice_max(max([max(r, a) for _, r, a in days] + [0]))
    plot_w = BAR_WIDTH - BAR_LEFT - 8
    plot_h = BAR_HEIGHT - BAR_BOTTOM - BAR_TOP
    slot = plot_w / max(len(days), 1)
    bar = max(slot / 2 - 3, 2)
    parts = [
        f'<svg class="chart-svg" viewBox="0 0 {BAR_WIDTH} {BAR_HEIGHT}" role="img" aria-labelledby="chart-title chart-desc" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-title">{escape(title)}</title>',
        '<desc id="chart-desc">'
        + escape("; ".join(f"{d:%d %b}: {r:,} records synced, {a:,} activities" for d, r, a in days))
        + "</desc>",
    ]
    for i in range(5):
        value = top * i // 4
        y = BAR_TOP + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{BAR_LEFT}" x2="{BAR_WIDTH - 8}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e9ecef"/>'
        )
        parts.append(
            f'<text x="{BAR_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#5c636a">{value:,}</text>'
        )
    for index, (day, records, activities) in enumerate(days):
        x = BAR_LEFT + index * slot + 3
        for offset, value, colour, what in (
            (0, records, RECORD_COLOUR, "records synced"),
            (bar + 1, activities, ACTIVITY_COLOUR, "activities"),
        ):
            h = plot_h * value / top if top else 0
            y = BAR_TOP + plot_h - h
            parts.append(
                f'<rect x="{x + offset:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{colour}" rx="2">'
                f"<title>{day:%d %b}: {value:,} {what}</title></rect>"
            )
        parts.append(
            f'<text x="{x + bar:.1f}" y="{BAR_HEIGHT - 10}" text-anchor="middle" font-size="11" fill="#5c636a">'
            f"{day:%d %b}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped or a number
