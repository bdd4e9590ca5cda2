"""Per-label decision thresholds for multi-label classifiers, and turning scores into label sets.

Why per label: themes differ in prevalence by more than tenfold (a gratitude theme on a quarter of
comments, a triage theme on under 2%), and a probability from a class-weighted model is not
calibrated in the same way for each. One global cut-off (0.5) over-predicts common themes and misses
rare ones; the cut-off that maximises each theme's F1 on held-out scores does neither.

Why out-of-fold: thresholds chosen on scores a model gives to its own training rows are far too high
(the model is confident on what it memorised). The caller passes scores for rows the scoring model
never saw, so the chosen cut-offs match how the model behaves on new text.
"""

from __future__ import annotations

import numpy as np

#: Candidate cut-offs. Coarse on purpose: with ~100 positives per theme a finer grid fits noise.
DEFAULT_GRID: np.ndarray = np.round(np.arange(0.05, 0.951, 0.025), 3)

#: Cut-offs for calibrated probabilities (an unweighted stacker): a rare theme's best cut-off then
#: sits around 0.1-0.4, where its scores are crowded, so a 0.025 step is coarse there, and common
#: themes can want more than 0.95. Chosen by cross-validation on pxtextmining train (+0.001 to
#: +0.004 macro-F1 over ``DEFAULT_GRID`` with the same unweighted stacker, small but consistent).
CALIBRATED_GRID: np.ndarray = np.round(np.arange(0.05, 0.991, 0.01), 3)


def f1_at_thresholds(scores: np.ndarray, truth: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """F1 of ``scores >= t`` against 0/1 ``truth`` for every ``t`` in ``grid`` (one label).

    Vectorised over the grid: shape ``(len(grid),)``. F1 is 0 where nothing is predicted and
    nothing is true, matching scikit-learn's ``zero_division=0``.
    """
    predicted = scores[None, :] >= grid[:, None]
    true_pos = (predicted & (truth[None, :] == 1)).sum(axis=1)
    denominator = predicted.sum(axis=1) + truth.sum()
    return np.where(denominator > 0, 2.0 * true_pos / np.maximum(denominator, 1), 0.0)


def tune_thresholds(
    scores: np.ndarray, truth: np.ndarray, grid: np.ndarray = DEFAULT_GRID
) -> np.ndarray:
    """Per-label cut-off maximising that label's F1, from held-out ``scores`` and ``truth`` (n, k).

    Ties go to the middle of the best plateau rather than its lowest end: an F1 plateau means the
    data cannot tell those cut-offs apart, and the middle is least sensitive to the sample. A label
    with no positives gets the top of the grid (predict it only when very sure).
    """
    n_labels = truth.shape[1]
    thresholds = np.empty(n_labels, dtype=np.float64)
    for j in range(n_labels):
        if truth[:, j].sum() == 0:
            thresholds[j] = grid[-1]
            continue
        f1 = f1_at_thresholds(scores[:, j], truth[:, j], grid)
        best = np.flatnonzero(np.isclose(f1, f1.max()))
        thresholds[j] = grid[best[len(best) // 2]]
    return thresholds


def labels_from_scores(
    scores: np.ndarray, thresholds: np.ndarray, min_labels: int = 0
) -> np.ndarray:
    """0/1 label matrix: ``scores >= thresholds``, topped up to ``min_labels`` labels per row.

    Rows short of ``min_labels`` get the labels whose score is highest relative to their own
    cut-off (``score / threshold``), not the highest raw score: a rare theme with a low cut-off and
    a near miss is a better guess than a common theme far below its cut-off.
    """
    labels = (scores >= thresholds[None, :]).astype(np.int8)
    if min_labels <= 0:
        return labels
    ratio = scores / np.maximum(thresholds[None, :], 1e-9)
    for row in np.flatnonzero(labels.sum(axis=1) < min_labels):
        order = np.argsort(-ratio[row], kind="stable")
        missing = min_labels - int(labels[row].sum())
        for j in order:
            if missing == 0:
                break
            if labels[row, j] == 0:
                labels[row, j] = 1
                missing -= 1
    return labels
