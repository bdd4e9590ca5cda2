"""Small-number suppression for board-level outputs: no cell lets a reader single out a few clusters.

A health board has between two and a dozen clusters, so "2 of 3 clusters said the health board's
processes were a barrier" points at named teams. Board reports therefore show counts of 1 to
``threshold - 1`` as ``<threshold`` (``<5`` by default; zero is shown, because "nobody" identifies
no one). Shares of a suppressed count are hidden with it.

A table row whose cells add up to a total it also shows (maturity levels of one outcome, team
stages) could give a suppressed cell back by subtraction: "<5, 6, 0, 0 of 9" is 3. Such a row gets
*secondary* suppression: the smallest other cell is withheld too, and every withheld cell of that row
then reads ``[c]`` (the statistical convention for "confidential"). One marker for both matters: a
reader who knows the rule knows a secondary cell is 0 or at least 5, so "<5, [c], 0, 0 of 6" would
still mean 1 and 5, while "[c], [c], 0, 0 of 6" could be 1 and 5 or 5 and 1. ``recoverable`` checks a
row the way such a reader would; the tests check every row up to a total of 12 against a reader who
knows the whole algorithm. Independent counts (themes, where a cluster can raise several) have no
sum to recover them from and need primary suppression only. Residual risk, stated in the method
note: a row whose every cell is small and at its maximum (4, 4, 4, 4 of 16) has its total withheld,
but a reader who knows that all of a board's clusters answered could still put it back; no Welsh
health board has 16 clusters.

The all-Wales report uses ``Suppression(None)``: every count is shown, because the published report
does, and 46 clusters over seven boards is not a small number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_THRESHOLD = 5
SECONDARY_TEXT = "[c]"
HIDDEN = "—"


@dataclass(frozen=True)
class Cell:
    """One figure as a report shows it. ``value`` is None whenever the figure is withheld, so a
    template or exporter cannot leak a suppressed number by accident."""

    value: int | None
    text: str
    status: str = "shown"  # "shown" | "small" (primary) | "secondary"

    @property
    def suppressed(self) -> bool:
        return self.value is None

    def share_of(self, base: Cell) -> float | None:
        """This count as a share of ``base``; None when either is withheld or the base is zero."""
        if self.value is None or base.value is None or base.value == 0:
            return None
        return self.value / base.value


def shown(value: int) -> Cell:
    return Cell(value, str(value))


@dataclass(frozen=True)
class Suppression:
    """The rule a report applies. ``threshold=None`` shows everything (the all-Wales report)."""

    threshold: int | None = DEFAULT_THRESHOLD

    @property
    def active(self) -> bool:
        return self.threshold is not None

    @property
    def small_text(self) -> str:
        return f"<{self.threshold}" if self.threshold is not None else ""

    def _is_small(self, n: int) -> bool:
        return self.threshold is not None and 0 < n < self.threshold

    def count(self, n: int) -> Cell:
        """Primary suppression only: for counts no shown total adds up to."""
        if n < 0:
            raise ValueError(f"a count cannot be negative: {n}")
        return Cell(None, self.small_text, "small") if self._is_small(n) else shown(n)

    def row(self, counts: Sequence[int], total: int) -> tuple[tuple[Cell, ...], Cell]:
        """Cells of a row that sums to ``total`` (shown beside it), with secondary suppression."""
        if sum(counts) != total:
            raise ValueError(f"row {list(counts)} does not add up to its total {total}")
        total_cell = self.count(total)
        if total_cell.suppressed:  # a total of 1-4: every cell, zeros too, is withheld
            return tuple(Cell(None, SECONDARY_TEXT, "secondary") for _ in counts), total_cell
        status = ["small" if self._is_small(n) else "shown" for n in counts]
        if self.threshold is not None:
            while recoverable(counts, status, total, total_shown=True, threshold=self.threshold):
                open_cells = [i for i, s in enumerate(status) if s == "shown"]
                if not open_cells:
                    total_cell = Cell(None, SECONDARY_TEXT, "secondary")
                    break
                # Withhold the smallest non-zero cell (it loses the least information), or a zero when no
                # non-zero cell is left; every cell tied for that place, so that which one was small
                # stays ambiguous (with one chosen by position, "0, [c], 5, [c]" would name the small one).
                smallest = min((counts[i] == 0, counts[i]) for i in open_cells)
                for i in open_cells:
                    if (counts[i] == 0, counts[i]) == smallest:
                        status[i] = "secondary"
        # Once a row needs secondary suppression, every withheld cell in it reads "[c]": were the small
        # one marked "<5" beside a "[c]" known to be 0 or >= 5, "<5, [c], total 6" would still mean 1 and 5.
        masked = "secondary" in status
        cells = tuple(
            shown(n) if s == "shown" else Cell(None, SECONDARY_TEXT if masked else self.small_text, "secondary" if masked else s)
            for n, s in zip(counts, status)
        )
        return cells, total_cell

    def change(self, current: Cell, previous: Cell) -> Cell:
        """The signed change between two rounds' counts; withheld if either count is."""
        if current.value is None or previous.value is None:
            return Cell(None, HIDDEN, "secondary")
        return Cell(current.value - previous.value, signed(current.value - previous.value))


def signed(n: int) -> str:
    """"+3", "−2" (a real minus sign, as in print), "0"."""
    return f"+{n}" if n > 0 else (f"−{-n}" if n < 0 else "0")


def signed_points(delta: float | None) -> str:
    """A change in share as percentage points ("+4 pp"); "—" when it cannot be shown."""
    if delta is None:
        return HIDDEN
    points = round(delta * 100)
    return f"{signed(points)} pp"


def feasible_values(
    counts: Sequence[int], status: Sequence[str], total: int, *, total_shown: bool, threshold: int
) -> list[set[int]]:
    """For each cell, every value a reader could infer it holds from what the row shows.

    Shown cells have their one value; ``small`` cells ("<5") are 1..threshold-1; once any cell is
    ``secondary`` all withheld cells read "[c]" and could be anything from 0 to the total; a hidden
    total is 1..threshold-1. A cell is recoverable when its set has one member.
    """
    totals = [total] if total_shown else list(range(1, threshold))
    upper = max(totals)
    masked = "secondary" in status
    domains: list[list[int]] = []
    for n, s in zip(counts, status):
        if s == "shown":
            domains.append([n])
        elif masked:
            domains.append(list(range(0, upper + 1)))
        else:
            domains.append(list(range(1, threshold)))
    out: list[set[int]] = []
    for i, domain in enumerate(domains):
        others = {0}
        for j, other in enumerate(domains):
            if j != i:
                others = {a + b for a in others for b in other if a + b <= upper}
        out.append({v for v in domain if any(t - v in others for t in totals)})
    return out


def recoverable(
    counts: Sequence[int], status: Sequence[str], total: int, *, total_shown: bool, threshold: int
) -> bool:
    """True when some withheld cell of the row could only hold one value."""
    values = feasible_values(counts, status, total, total_shown=total_shown, threshold=threshold)
    return any(len(v) <= 1 for v, s in zip(values, status) if s != "shown")
