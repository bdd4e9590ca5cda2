"""Charts as inline SVG: crisp in a browser, printable, no plotting library or image files to ship.

A stacked horizontal bar per outcome shows the share of clusters at each maturity level, with the count
written in the segment when it is wide enough to read; the legend and axis say what the colours mean,
so the chart survives being copied into a report without its table. Plain bars show theme
frequencies and team stages; paired bars show one round beside the previous one as shares, because
the number of responses can change between rounds. A withheld (suppressed) figure is never drawn as
a length, only written as its text.
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


def _svg_open(title: str, width: int, height: int) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" font-family="Arial, sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" font-size="14" font-weight="bold">{escape(title)}</text>',
    ]


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
    parts = _svg_open(title, width, height)
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


@dataclass(frozen=True)
class BarItem:
    """One bar. ``value`` None means the figure is withheld: no bar is drawn (its length would give the
    number away) and ``text`` (e.g. "<5") is written where the bar would start."""

    label: str
    value: float | None
    text: str


def bars(items: Sequence[BarItem], *, title: str, label_width: int = 200, bar_width: int = 360,
         peak: float | None = None) -> str:
    """Horizontal bars scaled to ``peak`` (default: the largest value), each labelled with its text."""
    row_h, gap, top = 22, 8, 34
    peak = peak or max((i.value for i in items if i.value is not None), default=0) or 1
    height = top + len(items) * (row_h + gap) + 10
    parts = _svg_open(title, label_width + bar_width + 110, height)
    for n, item in enumerate(items):
        y = top + n * (row_h + gap)
        parts.append(f'<text x="{label_width - 8}" y="{y + 15}" text-anchor="end">{escape(item.label)}</text>')
        if item.value is None:
            parts.append(f'<text x="{label_width + 4}" y="{y + 15}" fill="#555" font-style="italic">{escape(item.text)}</text>')
            continue
        w = bar_width * item.value / peak
        parts.append(f'<rect x="{label_width}" y="{y}" width="{w:.1f}" height="{row_h}" fill="#3f7bb5"/>')
        parts.append(f'<text x="{label_width + w + 6:.1f}" y="{y + 15}">{escape(item.text)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


@dataclass(frozen=True)
class PairedItem:
    """One category in two rounds, as shares (0-1); None where the share is withheld."""

    label: str
    previous: float | None
    current: float | None
    previous_text: str
    current_text: str


PREVIOUS_FILL = "#b9c9d9"
CURRENT_FILL = "#16416b"


def paired_bar_chart(items: Sequence[PairedItem], *, title: str, previous_label: str, current_label: str,
                     label_width: int = 300, bar_width: int = 340) -> str:
    """Previous round (light) above this round (dark) for each category, on one 0-100% scale, so a
    change reads as a change in share even when the number of responses changed."""
    bar_h, pair_gap, top, legend_h = 13, 10, 52, 0
    row_h = 2 * bar_h + 2
    height = top + len(items) * (row_h + pair_gap) + 24 + legend_h
    parts = _svg_open(title, label_width + bar_width + 130, height)
    lx = label_width
    for label, fill in ((previous_label, PREVIOUS_FILL), (current_label, CURRENT_FILL)):
        parts.append(f'<rect x="{lx}" y="26" width="12" height="12" fill="{fill}"/>')
        parts.append(f'<text x="{lx + 16}" y="36">{escape(label)}</text>')
        lx += 40 + 7 * len(label)
    for n, item in enumerate(items):
        y = top + n * (row_h + pair_gap)
        parts.append(f'<text x="{label_width - 8}" y="{y + bar_h + 4}" text-anchor="end">{escape(item.label)}</text>')
        for k, (value, text, fill) in enumerate(
            ((item.previous, item.previous_text, PREVIOUS_FILL), (item.current, item.current_text, CURRENT_FILL))
        ):
            by = y + k * (bar_h + 2)
            if value is None:
                parts.append(f'<text x="{label_width + 4}" y="{by + 11}" fill="#555" font-style="italic">{escape(text)}</text>')
                continue
            w = bar_width * value
            parts.append(f'<rect x="{label_width}" y="{by}" width="{w:.1f}" height="{bar_h}" fill="{fill}"/>')
            parts.append(f'<text x="{label_width + w + 5:.1f}" y="{by + 11}" font-size="11">{escape(text)}</text>')
    axis_y = top + len(items) * (row_h + pair_gap)
    for pct in (0, 50, 100):
        ax = label_width + bar_width * pct / 100
        parts.append(f'<text x="{ax:.1f}" y="{axis_y + 10}" text-anchor="middle" fill="#555">{pct}%</text>')
    parts.append("</svg>")
    return "\n".join(parts)
