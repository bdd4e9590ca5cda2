"""Inter-coder agreement coefficients over a reliability-data matrix (pure Python + numpy).

Why these and not just kappa: Public Health Wales has 2-3 reviewers code each answer, and themes are
often rare. Cohen's kappa (pairs) is what reviewers know; Krippendorff's alpha is the coefficient that
takes any number of coders and missing codings; Gwet's AC1 stays meaningful when a theme is rare, where
kappa collapses (the "kappa paradox", Feinstein & Cicchetti 1990). Showing all three beside the theme's
prevalence lets a reader see *why* kappa is low rather than conclude the coders disagree.

The input shape is Krippendorff's reliability-data matrix: one row per coder, one column per unit
(answer), ``None`` where that coder has not coded that unit. A missing value is *missing*, never a
category: it is not counted as disagreement and it does not shift chance agreement.

Every coefficient comes back as an :class:`Estimate`: the value, how many units it rests on, and, when
the coefficient is undefined for these data (0/0), ``value=None`` with the reason in words, so the
workspace can print "undefined: every coder said no on every answer" instead of ``nan``.

Sources for the formulas:

* Cohen, J. (1960). A coefficient of agreement for nominal scales. *Educational and Psychological
  Measurement* 20(1), 37-46: kappa = (p_o - p_e) / (1 - p_e), p_e = sum_k p_A(k) p_B(k).
* Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability. Annenberg School for
  Communication, University of Pennsylvania, https://repository.upenn.edu/asc_papers/43 (section C,
  nominal data, any number of observers, missing values): coincidences o_ck = sum_u (number of c-k
  pairs in u) / (m_u - 1) over units with m_u >= 2 values; n_c = sum_k o_ck; n = sum_c n_c;
  alpha = 1 - (n - 1) * sum_{c != k} o_ck / sum_{c != k} n_c n_k.
* Gwet, K. L. (2008). Computing inter-rater reliability and its variance in the presence of high
  agreement. *British Journal of Mathematical and Statistical Psychology* 61, 29-48; and Gwet (2014),
  *Handbook of Inter-Rater Reliability*, 4th ed., ch. 2 (multiple raters, missing ratings):
  p_a = (1/n') sum_{i: r_i >= 2} sum_k r_ik (r_ik - 1) / (r_i (r_i - 1)),
  pi_k = (1/n) sum_{i: r_i >= 1} r_ik / r_i,  p_e = (1 / (q - 1)) sum_k pi_k (1 - pi_k),
  AC1 = (p_a - p_e) / (1 - p_e), with q the number of categories on the scale.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from corpora.errors import ClwstwrError

__all__ = [
    "AgreementError",
    "Estimate",
    "cohen_kappa",
    "gwet_ac1",
    "krippendorff_alpha_nominal",
    "observed_agreement",
    "prevalence",
]

Matrix = Sequence[Sequence[Hashable | None]]


class AgreementError(ClwstwrError):
    """Coding data that agreement cannot be computed from (ragged matrix, unknown theme, duplicate code).

    CW711, beside CW710 (a decision that cannot be recorded), so the API and the CLI answer it like
    any other bad coding input: a message naming the row, never a stack trace.
    """

    code = "CW711"


@dataclass(frozen=True)
class Estimate:
    """A coefficient's value, the number of units it rests on, and why it is undefined when it is.

    ``value`` is ``None`` exactly when ``reason`` is set: a number is never shown without enough data
    behind it, and an undefined one always says why in words a reviewer understands.
    """

    value: float | None
    n_items: int
    reason: str | None = None

    @property
    def defined(self) -> bool:
        return self.value is not None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def undefined(reason: str, n_items: int = 0) -> Estimate:
    """An undefined coefficient: kept as a function so every undefined case reads the same."""
    return Estimate(value=None, n_items=n_items, reason=reason)


def _check_matrix(matrix: Matrix) -> list[list[Hashable | None]]:
    """Rows of equal length, or an error naming the first ragged row: a silent zip would drop units."""
    rows = [list(row) for row in matrix]
    if rows:
        width = len(rows[0])
        for index, row in enumerate(rows):
            if len(row) != width:
                raise AgreementError(
                    f"reliability matrix row {index} (coder {index + 1}) has {len(row)} values; expected "
                    f"{width}, one per unit as in row 0 (use None for a unit the coder did not code)"
                )
    return rows


def _value_counts(
    matrix: Matrix, categories: Sequence[Hashable] | None = None
) -> tuple[list[Hashable], np.ndarray]:
    """Units x categories counts (r_ik in Gwet, n_uc in Krippendorff) from a coders x units matrix.

    Given ``categories``, a value outside them is an error naming the coder row and unit column, so a
    typo in the data cannot quietly become a new category.
    """
    rows = _check_matrix(matrix)
    n_units = len(rows[0]) if rows else 0
    index: dict[Hashable, int] = {}
    if categories is not None:
        for category in categories:
            index.setdefault(category, len(index))
    cells: list[tuple[int, int]] = []
    for coder, row in enumerate(rows):
        for unit, value in enumerate(row):
            if value is None:
                continue
            if value not in index:
                if categories is not None:
                    raise AgreementError(
                        f"reliability matrix row {coder}, unit {unit}: value {value!r} is not one of the "
                        f"categories {list(categories)!r}"
                    )
                index[value] = len(index)
            cells.append((unit, index[value]))
    counts = np.zeros((n_units, len(index)), dtype=np.int64)
    for unit, category in cells:
        counts[unit, category] += 1
    return list(index), counts


def cohen_kappa(a: Sequence[Hashable | None], b: Sequence[Hashable | None]) -> Estimate:
    """Cohen's (1960) kappa for two coders over the units both coded (``None`` = not coded).

    Undefined (``None``) when no unit was coded by both, or when chance agreement is 1, i.e. both
    coders gave one and the same value to every shared unit: kappa is then 0/0. That is the common
    case for a theme nobody applied, which is why the summary also reports AC1 and prevalence.
    """
    if len(a) != len(b):
        raise AgreementError(
            f"cohen_kappa: coder A has {len(a)} values and coder B {len(b)}; expected one value (or None) "
            "per unit for both"
        )
    pairs = [(x, y) for x, y in zip(a, b) if x is not None and y is not None]
    n = len(pairs)
    if n == 0:
        return undefined("no unit was coded by both coders")
    categories = sorted({v for pair in pairs for v in pair}, key=repr)
    position = {c: i for i, c in enumerate(categories)}
    table = np.zeros((len(categories), len(categories)), dtype=np.int64)
    for x, y in pairs:
        table[position[x], position[y]] += 1
    agree = int(np.trace(table))
    chance_numerator = int(table.sum(axis=1) @ table.sum(axis=0))  # sum_k n_A(k) n_B(k)
    if chance_numerator == n * n:
        return undefined(
            "both coders gave the same single value to every unit, so chance agreement is 1 and kappa "
            "is 0/0",
            n,
        )
    p_o = agree / n
    p_e = chance_numerator / (n * n)
    return Estimate(value=(p_o - p_e) / (1 - p_e), n_items=n)


def krippendorff_alpha_nominal(matrix: Matrix) -> Estimate:
    """Krippendorff's alpha for nominal data, any number of coders, missing values allowed.

    Rows are coders, columns units, ``None`` missing. Units with fewer than two values are not
    pairable and drop out, as the coefficient defines (Krippendorff 2011, step C.1). Undefined when no
    unit has two values, or when every pairable value is the same (expected disagreement D_e = 0).
    """
    _, counts = _value_counts(matrix)
    m_u = counts.sum(axis=1)
    pairable = m_u >= 2
    n_items = int(pairable.sum())
    if n_items == 0:
        return undefined("no unit was coded by two or more coders")
    counts = counts[pairable].astype(float)
    weights = 1.0 / (m_u[pairable] - 1)
    # o_ck = sum_u n_uc (n_uk - [c == k]) / (m_u - 1): the coincidence matrix of Krippendorff (2011).
    coincidences = np.einsum("u,uc,uk->ck", weights, counts, counts) - np.diag(weights @ counts)
    n_c = coincidences.sum(axis=1)
    n = float(n_c.sum())
    expected_pairs = n * n - float(n_c @ n_c)  # sum_{c != k} n_c n_k
    if expected_pairs <= 1e-12:
        return undefined(
            "every coded value is the same, so there is no variation to agree on (expected "
            "disagreement is 0)",
            n_items,
        )
    observed_off_diagonal = n - float(np.trace(coincidences))  # sum_{c != k} o_ck
    return Estimate(value=1.0 - (n - 1.0) * observed_off_diagonal / expected_pairs, n_items=n_items)


def observed_agreement(matrix: Matrix) -> Estimate:
    """Share of agreeing coder pairs, averaged over units with two or more codings (Gwet's p_a).

    Each unit counts once however many coders it has, the usual multi-rater percent agreement
    (Fleiss 1971; Gwet 2014, eq. 2.9 with missing ratings). For two coders it is the share of units on
    which they agree.
    """
    _, counts = _value_counts(matrix)
    p_a, n_items = _pairwise_agreement(counts)
    if p_a is None:
        return undefined("no unit was coded by two or more coders")
    return Estimate(value=p_a, n_items=n_items)


def _pairwise_agreement(counts: np.ndarray) -> tuple[float | None, int]:
    r_i = counts.sum(axis=1)
    multi = r_i >= 2
    n_items = int(multi.sum())
    if n_items == 0:
        return None, 0
    r = counts[multi].astype(float)
    r_total = r_i[multi].astype(float)
    per_unit = (r * (r - 1)).sum(axis=1) / (r_total * (r_total - 1))
    return float(per_unit.mean()), n_items


def gwet_ac1(matrix: Matrix, categories: Sequence[Hashable] | None = None) -> Estimate:
    """Gwet's AC1, multi-rater form with missing ratings (Gwet 2008; 2014, ch. 2).

    ``categories`` is the scale (``(0, 1)`` for a theme applied / not applied). It matters: q enters
    chance agreement, and a theme nobody applied still has two possible values. Without it the values
    seen are the scale. pi_k uses every unit rated at least once; p_a only units rated twice or more.
    Undefined when no unit has two ratings, or when the scale has fewer than two categories.
    """
    scale, counts = _value_counts(matrix, categories)
    q = len(scale)
    p_a, n_items = _pairwise_agreement(counts)
    if p_a is None:
        return undefined("no unit was coded by two or more coders")
    if q < 2:
        return undefined(
            "only one category on the scale; pass the scale's categories (e.g. (0, 1)) so chance "
            "agreement can be computed",
            n_items,
        )
    r_i = counts.sum(axis=1)
    rated = r_i >= 1
    pi = (counts[rated] / r_i[rated][:, None]).mean(axis=0)
    p_e = float((pi * (1.0 - pi)).sum()) / (q - 1)
    # p_e <= 1/q < 1 for q >= 2, so the denominator is never 0.
    return Estimate(value=(p_a - p_e) / (1.0 - p_e), n_items=n_items)


def prevalence(matrix: Matrix, present: Hashable = 1) -> Estimate:
    """Share of coded (unit, coder) cells equal to ``present``: how often the theme is applied at all.

    Shown beside kappa because kappa's chance term grows as prevalence nears 0 or 1 (Byrt, Bishop &
    Carlin 1993), so the same raw agreement gives a much lower kappa on a rare theme.
    """
    rows = _check_matrix(matrix)
    coded = [value for row in rows for value in row if value is not None]
    if not coded:
        return undefined("nothing was coded")
    return Estimate(value=sum(1 for v in coded if v == present) / len(coded), n_items=len(coded))
