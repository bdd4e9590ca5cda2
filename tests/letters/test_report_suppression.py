"""Small-number suppression: what a board report shows, and that nothing withheld can be worked out."""

from __future__ import annotations

import itertools
from collections import defaultdict

import pytest

from letters.suppression import Suppression, signed, signed_points

SUP = Suppression(5)


def test_counts_of_one_to_four_read_less_than_five_and_zero_and_five_are_shown() -> None:
    assert [SUP.count(n).text for n in range(7)] == ["0", "<5", "<5", "<5", "<5", "5", "6"]
    assert SUP.count(3).value is None and SUP.count(3).share_of(SUP.count(9)) is None
    assert SUP.count(6).share_of(SUP.count(9)) == pytest.approx(6 / 9)
    assert Suppression(None).count(2).text == "2"  # the all-Wales report shows everything


def test_a_single_small_cell_beside_a_total_gets_a_partner_and_both_read_c() -> None:
    cells, total = SUP.row([3, 6, 0, 0], 9)
    assert [c.text for c in cells] == ["[c]", "[c]", "0", "0"] and total.text == "9"
    cells, total = SUP.row([2, 3, 0, 6], 11)  # two small cells already leave 1+4, 2+3... open
    assert [c.text for c in cells] == ["<5", "<5", "0", "6"]
    cells, total = SUP.row([0, 2, 0, 0], 2)  # a small total hides the whole row, zeros too
    assert [c.text for c in cells] == ["[c]"] * 4 and total.text == "<5"


def test_no_withheld_cell_can_be_recovered_by_a_reader_who_knows_the_algorithm() -> None:
    """Every row of four cells up to a total of 15: group the rows by what the report shows; within a
    group, each withheld cell must take at least two different values (else the display names it).
    (4, 4, 4, 4) of 16 is the one row the rule cannot protect (see letters.suppression); no Welsh
    health board has 16 clusters."""
    shown_as = defaultdict(list)
    for total in range(16):
        for row in itertools.product(range(total + 1), repeat=4):
            if sum(row) != total:
                continue
            cells, total_cell = SUP.row(row, total)
            assert all(c.value == n for c, n in zip(cells, row) if c.value is not None)
            assert all(c.value is None for c, n in zip(cells, row) if 0 < n < 5)
            shown_as[(tuple(c.text for c in cells), total_cell.text)].append(row)
    recoverable = [
        (display, rows)
        for display, rows in shown_as.items()
        for i, text in enumerate(display[0])
        if text in ("<5", "[c]") and len({r[i] for r in rows}) < 2
    ]
    assert recoverable == []


def test_changes_between_rounds_are_withheld_when_either_figure_is() -> None:
    assert SUP.change(SUP.count(7), SUP.count(5)).text == "+2"
    assert SUP.change(SUP.count(5), SUP.count(7)).text == "−2"
    assert SUP.change(SUP.count(7), SUP.count(3)).value is None
    assert SUP.change(SUP.count(3), SUP.count(7)).text == "—"
    assert (signed(0), signed_points(0.0412), signed_points(-0.05), signed_points(None)) == ("0", "+4 pp", "−5 pp", "—")
