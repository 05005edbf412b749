"""The screening trends chart: hits per month as a server-rendered SVG (numbers as a table
next to it in the template)."""

from __future__ import annotations

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 560, 180, 32, 24, 12


def trend_chart(months: list[dict]) -> dict:
    """Bar geometry for `screening.selectors.hits_by_month` output: stacked confirmed,
    open and cleared per month, with a y scale of at most five ticks."""
    peak = max((m["total"] for m in months), default=0)
    top = max(peak, 1)
    step = max(1, -(-top // 4))
    top = step * 4 if peak else 4
    plot_h = HEIGHT - PAD_BOTTOM - PAD_TOP
    slot = (WIDTH - PAD_LEFT) / max(len(months), 1)
    bars = []
    for i, m in enumerate(months):
        x = PAD_LEFT + i * slot + slot * 0.18
        y = HEIGHT - PAD_BOTTOM
        segments = []
        for key in ("confirmed", "open", "cleared"):
            h = m[key] / top * plot_h
            if h:
                y -= h
                segments.append({"key": key, "y": round(y, 1), "h": round(h, 1), "n": m[key]})
        bars.append(
            {
                "x": round(x, 1),
                "w": round(slot * 0.64, 1),
                "label": m["month"].strftime("%b"),
                "label_x": round(x + slot * 0.32, 1),
                "segments": segments,
                **m,
            }
        )
    ticks = [
        {"value": v, "y": round(HEIGHT - PAD_BOTTOM - v / top * plot_h, 1)}
        for v in range(0, top + 1, step)
    ]
    return {
        "bars": bars,
        "ticks": ticks,
        "width": WIDTH,
        "height": HEIGHT,
        "axis_y": HEIGHT - PAD_BOTTOM,
        "pad_left": PAD_LEFT,
        "label_y": HEIGHT - 6,
        "total": sum(m["total"] for m in months),
    }
