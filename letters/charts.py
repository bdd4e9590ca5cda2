"""Charts as inline SVG: crisp in a browser, printable, no plotting library or image files to ship.

A stacked horizontal bar per outcome shows the share of clusters at each maturity level, with the count
written in the segment when it is wide enough to read; the legend and axis say what the colours mean,
so the chart survives being copied into a report without its table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

# Sequential palette (light -> dark) so order reads without the legend; passes contrast for white text
# on the two darker segments, dark text on the lighter ones.
LEVEL_COLOURS: tuple[tuple[str, str], ...] = (
    ("#d7e4f0", "#1a1a1a"),
    ("#92b4d6", "#1a1a1a"),
    ("#3f7bb5", "#ffffff"),
    ("#16416b", "#ffffff"),
)


@dataclass(frozen=True)
class StackedRow:
    label: str
    counts: Sequence[int]  # one per segment, in legend order


def stacked_bar_chart(
    rows: Sequence[StackedRow],
    segment_labels: Sequence[str],
    *,
    title: str,
    colours: Sequence[tuple[str, str]] = LEVEL_COLOURS,
    label_width: int = 330,
    bar_width: int = 420,
) -> str:
    """An SVG of 100%-stacked horizontal bars, one per row, with a legend and a 0–100% axis."""
    if len(segment_labels) > len(colours):
        raise ValueError("more segments than colours")
    row_h, gap, top, legend_h = 22, 8, 34, 30
    height = top + len(rows) * (row_h + gap) + 24 + legend_h
    width = label_width + bar_width + 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" font-family="Arial, sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" font-size="14" font-weight="bold">{escape(title)}</text>',
    ]
    for i, row in enumerate(rows):
        y = top + i * (row_h + gap)
        total = sum(row.counts)
        parts.append(
            f'<text x="{label_width - 8}" y="{y + row_h / 2 + 4:.1f}" text-anchor="end">{escape(row.label)}</text>'
        )
        x = float(label_width)
        for count, (fill, ink), seg_label in zip(row.counts, colours, segment_labels):
            if total == 0 or count == 0:
                continue
            w = bar_width * count / total
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row_h}" fill="{fill}">'
                f"<title>{escape(row.label)}: {escape(seg_label)} {count} of {total}</title></rect>"
            )
            if w >= 18:
                parts.append(
                    f'<text x="{x + w / 2:.1f}" y="{y + row_h / 2 + 4:.1f}" text-anchor="middle" fill="{ink}">{count}</text>'
                )
            x += w
        parts.append(f'<text x="{label_width + bar_width + 6}" y="{y + row_h / 2 + 4:.1f}" fill="#555">n={total}</text>')
    axis_y = top + len(rows) * (row_h + gap)
    for pct in (0, 25, 50, 75, 100):
        ax = label_width + bar_width * pct / 100
        parts.append(f'<line x1="{ax:.1f}" y1="{top - 4}" x2="{ax:.1f}" y2="{axis_y}" stroke="#999" stroke-width="0.5" stroke-dasharray="2,2"/>')
        parts.append(f'<text x="{ax:.1f}" y="{axis_y + 14}" text-anchor="middle" fill="#555">{pct}%</text>')
    lx, ly = label_width, axis_y + 24
    for seg_label, (fill, _ink) in zip(segment_labels, colours):
        parts.append(f'<rect x="{lx}" y="{ly}" width="12" height="12" fill="{fill}" stroke="#666" stroke-width="0.5"/>')
        parts.append(f'<text x="{lx + 16}" y="{ly + 10}">{escape(seg_label)}</text>')
        lx += 24 + 7 * len(seg_label)
    parts.append("</svg>")
    return "\n".join(parts)


def bar_chart(items: Sequence[tuple[str, int]], *, title: str, total: int | None = None, label_width: int = 200) -> str:
    """Simple horizontal bars (e.g. team stages) with the count and, given ``total``, "n of total"."""
    row_h, gap, top, bar_width = 22, 8, 34, 360
    peak = max((n for _, n in items), default=0) or 1
    height = top + len(items) * (row_h + gap) + 10
    width = label_width + bar_width + 110
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" font-family="Arial, sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" font-size="14" font-weight="bold">{escape(title)}</text>',
    ]
    for i, (label, n) in enumerate(items):
        y = top + i * (row_h + gap)
        w = bar_width * n / peak
        parts.append(f'<text x="{label_width - 8}" y="{y + 15}" text-anchor="end">{escape(label)}</text>')
        parts.append(f'<rect x="{label_width}" y="{y}" width="{w:.1f}" height="{row_h}" fill="#3f7bb5"/>')
        text = f"{n} of {total}" if total is not None else str(n)
        parts.append(f'<text x="{label_width + w + 6:.1f}" y="{y + 15}">{escape(text)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)
