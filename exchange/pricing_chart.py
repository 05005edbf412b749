"""The price history chart of a verification type: one point per quarter's market rate, as
geometry for a server-rendered inline SVG (the template also prints the numbers as a table)."""

from __future__ import annotations

WIDTH, HEIGHT, PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 360, 150, 48, 16, 12, 26
# Gridline steps a reader can add up: $1, $2, $2.50, $5, $10 ... $2,500 (four steps to the top).
NICE_STEPS_CENTS = (100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 25000, 50000)
NICE_STEPS_CENTS += (100_000, 200_000, 250_000)


def _dollars(cents: int) -> str:
    whole, part = divmod(cents, 100)
    return f"${whole:,}" if not part else f"${whole:,}.{part:02d}"


def history_chart(rates: list) -> dict:
    """Points (oldest quarter first) for MarketRate rows, with a y scale from 0 to a round
    top above the highest rate, in four steps."""
    peak = max((r.rate_cents for r in rates), default=0)
    step = next((s for s in NICE_STEPS_CENTS if s * 4 >= peak), -(-peak // 4))
    top = step * 4
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    slot = plot_w / max(len(rates), 1)
    points = []
    for i, rate in enumerate(rates):
        x = PAD_LEFT + slot * (i + 0.5)
        y = HEIGHT - PAD_BOTTOM - rate.rate_cents / top * plot_h
        points.append(
            {
                "x": round(x, 1),
                "y": round(y, 1),
                "quarter": rate.quarter,
                "rate_cents": rate.rate_cents,
                "label": _dollars(rate.rate_cents),
                "basis": rate.basis,
                "vote_count": rate.vote_count,
            }
        )
    ticks = [
        {"label": _dollars(v), "y": round(HEIGHT - PAD_BOTTOM - v / top * plot_h, 1)}
        for v in range(0, top + 1, step)
    ]
    return {
        "points": points,
        "polyline": " ".join(f"{p['x']},{p['y']}" for p in points),
        "ticks": ticks,
        "width": WIDTH,
        "height": HEIGHT,
        "pad_left": PAD_LEFT,
        "right": WIDTH - PAD_RIGHT,
        "axis_y": HEIGHT - PAD_BOTTOM,
        "label_y": HEIGHT - 8,
    }
