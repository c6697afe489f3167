"""Server-side SVG for the sync health pages: no JavaScript, no CDN, with <title>/<desc> for screen readers."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from integrations.models import SyncRun

WIDTH, HEIGHT = 760, 250
LEFT, RIGHT, TOP, BOTTOM = 56, 56, 26, 34
BAR_COLOURS: dict[str, str] = {
    SyncRun.State.SUCCEEDED: "#4c6ef5",
    SyncRun.State.FAILED: "#e03131",
    SyncRun.State.PAUSED: "#f59f00",
    SyncRun.State.RUNNING: "#74c0fc",
    SyncRun.State.QUEUED: "#a5d8ff",
}
LINE_COLOUR = "#2b8a3e"


def _nice_max(value: float) -> float:
    if value <= 5:
        return 5
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return value


def _fmt(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if value >= 1000:
        return f"{value / 1000:g}k"
    return f"{value:g}"


def run_history_svg(runs: Sequence[SyncRun], *, title: str) -> SafeString:
    """Oldest run first: a bar per run for records fetched (coloured by outcome), a line for its duration."""
    runs = list(runs)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    records_top = _nice_max(max([r.fetched for r in runs] + [0]))
    seconds = [max(r.seconds or 0.0, 0.0) for r in runs]
    seconds_top = _nice_max(max(seconds + [0]))
    slot = plot_w / max(len(runs), 1)
    bar_w = max(min(slot * 0.7, 28), 2)
    desc = (
        "; ".join(
            f"run {r.pk} ({r.get_kind_display().lower()}, {r.get_state_display().lower()}): "
            f"{r.fetched} records, {s:.0f} s, {r.api_calls} API calls"
            for r, s in zip(runs, seconds, strict=True)
        )
        or "No runs yet."
    )
    parts = [
        f'<svg class="inflow-chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" role="img" '
        f'aria-labelledby="run-chart-title run-chart-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="run-chart-title">{escape(title)}</title>',
        f'<desc id="run-chart-desc">{escape(desc)}</desc>',
    ]
    for i in range(5):
        y = TOP + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e9ecef"/>')
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#495057">'
            f"{_fmt(records_top * i / 4)}</text>"
        )
        parts.append(
            f'<text x="{WIDTH - RIGHT + 6}" y="{y + 4:.1f}" font-size="11" fill="{LINE_COLOUR}">'
            f"{_fmt(seconds_top * i / 4)}s</text>"
        )
    parts.append(
        f'<text x="{LEFT - 6}" y="12" text-anchor="end" font-size="11" fill="#495057">records</text>'
        f'<text x="{WIDTH - RIGHT + 6}" y="12" font-size="11" fill="{LINE_COLOUR}">duration</text>'
    )
    points = []
    label_every = max(1, len(runs) // 12)
    for index, (run, secs) in enumerate(zip(runs, seconds, strict=True)):
        centre = LEFT + slot * index + slot / 2
        h = plot_h * run.fetched / records_top if records_top else 0
        y = TOP + plot_h - h
        colour = BAR_COLOURS.get(run.state, "#adb5bd")
        parts.append(
            f'<rect x="{centre - bar_w / 2:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{colour}" '
            f'rx="2"><title>Run #{run.pk} {escape(run.get_state_display())}: {run.fetched:,} records, '
            f"{secs:.0f} s, {run.api_calls:,} API calls</title></rect>"
        )
        points.append((centre, TOP + plot_h - (plot_h * secs / seconds_top if seconds_top else 0)))
        if index % label_every == 0:
            parts.append(
                f'<text x="{centre:.1f}" y="{HEIGHT - 16}" text-anchor="middle" font-size="10" fill="#495057">'
                f"#{run.pk}</text>"
            )
    if len(points) > 1:
        parts.append(
            f'<polyline fill="none" stroke="{LINE_COLOUR}" stroke-width="2" points="'
            + " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            + '"/>'
        )
    for x, y in points:
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{LINE_COLOUR}"/>')
    parts.append(
        f'<text x="{LEFT}" y="{HEIGHT - 2}" font-size="11" fill="#495057">Bars: records fetched per run '
        "(blue succeeded, red failed, amber paused). Line: duration.</text>"
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped or a number


def usage_bar_svg(
    *, used: int | None, limit: int | None, budget_percent: int, inflow_calls: int
) -> SafeString:
    """The org's rolling 24-hour API use against its limit, with the budget marked and Inflow's own share."""
    width, height, left, right = 360, 64, 4, 4
    plot = width - left - right
    if not limit:
        return mark_safe("")  # the page says "not measured yet" in words
    used = used or 0
    budget = limit * budget_percent / 100
    used_w = plot * min(used / limit, 1)
    inflow_w = plot * min(inflow_calls / limit, 1)
    budget_x = left + plot * budget / limit
    over = used >= budget
    title = (
        f"{used:,} of {limit:,} daily API requests used ({100 * used / limit:.1f}%); budget {budget_percent}% "
        f"({budget:,.0f}); Inflow made {inflow_calls:,} of them in the last 24 hours"
    )
    return mark_safe(  # noqa: S308 - numbers and an escaped title only
        f'<svg class="inflow-chart" viewBox="0 0 {width} {height}" width="{width}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        f'<rect x="{left}" y="8" width="{plot}" height="22" fill="#f1f3f5" rx="3"/>'
        f'<rect x="{left}" y="8" width="{used_w:.1f}" height="22" fill="{"#e03131" if over else "#74c0fc"}" rx="3"/>'
        f'<rect x="{left}" y="8" width="{inflow_w:.1f}" height="22" fill="#1c7ed6" rx="3"/>'
        f'<line x1="{budget_x:.1f}" x2="{budget_x:.1f}" y1="2" y2="36" stroke="#212529" stroke-width="2" '
        f'stroke-dasharray="4 2"/>'
        f'<text x="{min(budget_x + 4, width - 70):.1f}" y="48" font-size="11" fill="#212529">'
        f"budget {budget_percent}%</text>"
        f'<text x="{left}" y="62" font-size="11" fill="#495057">dark: Inflow · light: whole org · '
        "line: budget</text></svg>"
    )
