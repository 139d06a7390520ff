"""Small charts drawn on the server as SVG text: a contact's score history (a step line per
score: a score holds its value until the next recorded change). No script, no fonts to load;
the page's stylesheet colours them. The backtest charts of `calibration.charts` are matplotlib
figures (PNG, a second or more to import and draw); a step line needs none of that."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

WIDTH, HEIGHT = 640, 180
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 44, 12, 12, 26


def step_chart(points: Sequence[tuple[datetime, float]], *, until: datetime,
               title: str) -> str:
    """An SVG step line of (time, value) points, oldest first, held to `until`."""
    if not points:
        return ""
    times = [p[0].timestamp() for p in points] + [until.timestamp()]
    values = [p[1] for p in points]
    low, high = min(0.0, min(values)), max(values)
    if high <= low:
        high = low + 1
    start, end = times[0], max(times[-1], times[0] + 1)

    def x(t: float) -> float:
        return PAD_LEFT + (t - start) / (end - start) * (WIDTH - PAD_LEFT - PAD_RIGHT)

    def y(v: float) -> float:
        return PAD_TOP + (high - v) / (high - low) * (HEIGHT - PAD_TOP - PAD_BOTTOM)

    path = [f"M{x(times[0]):.1f},{y(values[0]):.1f}"]
    for i in range(1, len(values)):
        path.append(f"H{x(times[i]):.1f}V{y(values[i]):.1f}")
    path.append(f"H{x(times[-1]):.1f}")
    dots = "".join(f'<circle cx="{x(t):.1f}" cy="{y(v):.1f}" r="2.5"><title>'
                   f'{datetime.fromtimestamp(t, points[0][0].tzinfo):%Y-%m-%d %H:%M}: {v:g}'
                   f'</title></circle>' for t, v in zip(times, values, strict=False))
    grid = []
    for value in (low, (low + high) / 2, high):
        grid.append(f'<line class="grid" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" '
                    f'y1="{y(value):.1f}" y2="{y(value):.1f}"/>'
                    f'<text class="axis" x="{PAD_LEFT - 6}" y="{y(value) + 4:.1f}" '
                    f'text-anchor="end">{value:g}</text>')
    first = datetime.fromtimestamp(start, points[0][0].tzinfo)
    last = datetime.fromtimestamp(end, points[0][0].tzinfo)
    shown = "%Y-%m-%d" if end - start >= 2 * 86400 else "%Y-%m-%d %H:%M"  # a short span
    axis = (f'<text class="axis" x="{PAD_LEFT}" y="{HEIGHT - 6}">{first:{shown}}</text>'
            f'<text class="axis" x="{WIDTH - PAD_RIGHT}" y="{HEIGHT - 6}" '
            f'text-anchor="end">{last:{shown}}</text>')
    return (f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
            f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
            f'<title>{escape(title)}</title>{"".join(grid)}{axis}'
            f'<path class="line" d="{"".join(path)}"/>{dots}</svg>')





def bar_chart(counts: Sequence[tuple[str, int]], *, title: str) -> str:
    """An SVG of horizontal bars: one per (label, count), longest at the largest count."""
    if not counts:
        return ""
    row, label_width, width = 24, 110, 520
    most = max(count for _, count in counts) or 1
    bars = []
    for i, (label, count) in enumerate(counts):
        y = 6 + i * row
        length = max(1.0, (width - label_width - 70) * count / most)
        bars.append(f'<text class="axis" x="{label_width - 8}" y="{y + 14}" text-anchor="end">'
                    f'{escape(label)}</text><rect class="bar" x="{label_width}" y="{y + 2}" '
                    f'width="{length:.1f}" height="{row - 8}"/><text class="axis" '
                    f'x="{label_width + length + 6:.1f}" y="{y + 14}">{count:,}</text>')
    height = 12 + len(counts) * row
    return (f'<svg class="chart bars" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
            f'<title>{escape(title)}</title>{"".join(bars)}</svg>')

__all__ = ["bar_chart", "step_chart"]
