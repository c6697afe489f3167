"""Server-side SVG charts of counts per day: no JavaScript, no CDN, with a <title> and a <desc> that give the
numbers as text for screen readers. The home page's growth lines and a data source's daily bars share the
axis: a round maximum and four gridlines labelled with their values."""

from __future__ import annotations

from datetime import date

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

AXIS_TEXT_COLOUR, GRID_COLOUR = "#5c636a", "#e9ecef"
GRIDLINES = 4

GROWTH_WIDTH, GROWTH_HEIGHT = 700, 200
GROWTH_LEFT, GROWTH_BOTTOM, GROWTH_TOP, GROWTH_RIGHT = 56, 26, 12, 10
PEOPLE_COLOUR, ORGANIZATIONS_COLOUR = "#3b5bdb", "#b35c00"
DAYS_BETWEEN_LABELS = 7

BARS_WIDTH, BARS_HEIGHT = 700, 220
BARS_LEFT, BARS_BOTTOM, BARS_TOP, BARS_RIGHT = 40, 28, 12, 8
RECORD_COLOUR, ACTIVITY_COLOUR = "#3b5bdb", "#8aa2f0"


def _nice_max(value: int) -> int:
    """The axis top: the smallest of 1, 2, 5 or 10 times a power of ten that is at least `value` (5 at least)."""
    if value <= 5:
        return 5
    magnitude = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return value


def _y_axis(top: int, *, left: int, right: int, plot_top: int, plot_h: float) -> list[str]:
    """Gridlines from 0 to `top`, each labelled with its value left of the plot."""
    parts = []
    for i in range(GRIDLINES + 1):
        value = top * i // GRIDLINES
        y = plot_top + plot_h - plot_h * i / GRIDLINES
        parts.append(f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID_COLOUR}"/>')
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="{AXIS_TEXT_COLOUR}">'
            f"{value:,}</text>"
        )
    return parts


def growth_chart_svg(days) -> SafeString:
    """Two lines, people and organizations, one point per day (`selectors.growth`)."""
    if not days:
        return mark_safe("")  # noqa: S308 - empty
    top = _nice_max(max(max(d.people, d.organizations) for d in days))
    plot_w = GROWTH_WIDTH - GROWTH_LEFT - GROWTH_RIGHT
    plot_h = GROWTH_HEIGHT - GROWTH_BOTTOM - GROWTH_TOP
    step = plot_w / max(len(days) - 1, 1)

    def point(index: int, value: int) -> str:
        return f"{GROWTH_LEFT + index * step:.1f},{GROWTH_TOP + plot_h - plot_h * value / top:.1f}"

    first, last = days[0], days[-1]
    summary = (
        f"People: {first.people:,} on {first.day:%d %b}, {last.people:,} on {last.day:%d %b}. "
        f"Organizations: {first.organizations:,} on {first.day:%d %b}, {last.organizations:,} on {last.day:%d %b}."
    )
    parts = [
        f'<svg class="chart-svg" viewBox="0 0 {GROWTH_WIDTH} {GROWTH_HEIGHT}" role="img" '
        f'aria-labelledby="growth-title growth-desc" xmlns="http://www.w3.org/2000/svg">',
        '<title id="growth-title">People and organizations, last 30 days</title>',
        f'<desc id="growth-desc">{escape(summary)}</desc>',
        *_y_axis(
            top, left=GROWTH_LEFT, right=GROWTH_WIDTH - GROWTH_RIGHT, plot_top=GROWTH_TOP, plot_h=plot_h
        ),
    ]
    for index in range(0, len(days), DAYS_BETWEEN_LABELS):
        x = GROWTH_LEFT + index * step
        parts.append(
            f'<text x="{x:.1f}" y="{GROWTH_HEIGHT - 8}" text-anchor="middle" font-size="11" '
            f'fill="{AXIS_TEXT_COLOUR}">{days[index].day:%d %b}</text>'
        )
    for attr, colour in (("people", PEOPLE_COLOUR), ("organizations", ORGANIZATIONS_COLOUR)):
        points = " ".join(point(i, getattr(d, attr)) for i, d in enumerate(days))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped or a number


def bar_chart_svg(days: list[tuple[date, int, int]], *, title: str) -> SafeString:
    """Grouped bars per day: records (dark) and activities (light), with a y axis and day labels."""
    top = _nice_max(max([max(r, a) for _, r, a in days] + [0]))
    plot_w = BARS_WIDTH - BARS_LEFT - BARS_RIGHT
    plot_h = BARS_HEIGHT - BARS_BOTTOM - BARS_TOP
    slot = plot_w / max(len(days), 1)
    bar = max(slot / 2 - 3, 2)
    parts = [
        f'<svg class="chart-svg" viewBox="0 0 {BARS_WIDTH} {BARS_HEIGHT}" role="img" '
        f'aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-title">{escape(title)}</title>',
        '<desc id="chart-desc">'
        + escape("; ".join(f"{d:%d %b}: {r:,} records synced, {a:,} activities" for d, r, a in days))
        + "</desc>",
        *_y_axis(top, left=BARS_LEFT, right=BARS_WIDTH - BARS_RIGHT, plot_top=BARS_TOP, plot_h=plot_h),
    ]
    for index, (day, records, activities) in enumerate(days):
        x = BARS_LEFT + index * slot + 3
        for offset, value, colour, what in (
            (0, records, RECORD_COLOUR, "records synced"),
            (bar + 1, activities, ACTIVITY_COLOUR, "activities"),
        ):
            h = plot_h * value / top if top else 0
            y = BARS_TOP + plot_h - h
            parts.append(
                f'<rect x="{x + offset:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{colour}" rx="2">'
                f"<title>{day:%d %b}: {value:,} {what}</title></rect>"
            )
        parts.append(
            f'<text x="{x + bar:.1f}" y="{BARS_HEIGHT - 10}" text-anchor="middle" font-size="11" '
            f'fill="{AXIS_TEXT_COLOUR}">{day:%d %b}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped or a number
