"""The server-side SVG chart: scaled bars, escaped text, a description screen readers can read."""

from __future__ import annotations

import re
from datetime import date, timedelta

from cdp.charts import bar_chart_svg


def test_bars_scale_to_a_round_maximum_and_describe_every_day():
    days = [(date(2026, 11, 1) + timedelta(days=i), i * 10, 5) for i in range(14)]

    svg = str(bar_chart_svg(days, title="Records <and> activities"))

    assert svg.startswith('<svg class="chart-svg" viewBox="0 0 700 220" role="img"')
    assert '<title id="chart-title">Records &lt;and&gt; activities</title>' in svg
    assert "14 Nov: 130 records synced, 5 activities" in svg
    # 130 is the largest value: the axis tops out at 200 and the tallest bar is 130/200 of the plot.
    assert ">200</text>" in svg
    heights = [float(h) for h in re.findall(r'<rect [^>]*height="([0-9.]+)" fill="#3b5bdb"', svg)]
    assert len(heights) == 14 and heights[0] == 0.0
    assert round(heights[-1] / 180, 2) == 0.65


def test_an_empty_fortnight_draws_an_axis_and_no_bars():
    days = [(date(2026, 11, 1) + timedelta(days=i), 0, 0) for i in range(14)]

    svg = str(bar_chart_svg(days, title="Nothing yet"))

    assert ">5</text>" in svg
    assert set(re.findall(r'height="([0-9.]+)" fill=', svg)) == {"0.0"}
