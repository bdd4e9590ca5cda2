"""Which extra signals would lift the pxtextmining classifier? Measured on TRAIN only.

    python -m evaluation.pxtextmining_stacking_ablation [--data-dir DIR] [--out FILE]

Why this exists: track B's test split has already been scored several times, so tuning against it
would overfit the benchmark. Candidate changes to the stacker are compared here by cross-validation
on the training rows alone: the two heads' out-of-fold scores (TF-IDF logistic, embedding RBF-SVM —
exactly what ``ThemeClassifier.fit`` computes) and candidate extra heads, computed once on the same
folds, then each stacker variant is fitted and its cut-offs tuned on 4/5 of the rows and scored on
the remaining 1/5, over 5 outer seeds. Differences are paired by seed.

Variants: the current per-theme stacker (two log-odds) at three strengths; plus a k-nearest-neighbour
label vote on the embeddings; plus an NB-weighted logistic head on binary n-grams; a cross-theme
stacker (every theme's head scores as features for each theme).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from sklearn.pipeline import FeatureUnion
from sklearn.preprocessing import normalize

from evaluation.pxtextmining_benchmark import (
    CACHE_DIR, DEFAULT_DATA_DIR, OURS_PARAMS, CachedEmbedder, load_track_b, minilm_path,
)
from evaluation.results_file import write_result
from nlp.theme_classifier import ThemeClassifier
from nlp.threshold_tuning import CALIBRATED_GRID, labels_from_scores, tune_thresholds

OUTER_SEEDS = (1, 2, 3, 4, 5)
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "pxtextmining_stacking_ablation.json"


def _log_odds(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def _macro_f1(Y: np.ndarray, P: np.ndarray) -> float:
    tp = (Y & P).sum(0)
    fp = (P & (1 - Y)).sum(0)
    fn = ((1 - P) & Y).sum(0)
    denominator = 2 * tp + fp + fn
    return float(np.mean(np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1), 0.0)))


def knn_scores(E: np.ndarray, Y: np.ndarray, k: int, folds: KFold) -> np.ndarray:
    """Similarity-weighted share of each theme among the k nearest training rows, out of fold."""
    scores = np.zeros(Y.shape)
    for train, held in folds.split(Y):
        sims = E[held] @ E[train].T
        idx = np.argpartition(-sims, k, axis=1)[:, :k]
        weights = np.take_along_axis(sims, idx, 1).clip(0)
        scores[held] = (weights[:, :, None] * Y[train][idx]).sum(1) / np.maximum(weights.sum(1, keepdims=True), 1e-9)
    return scores


def nb_logistic_scores(texts: Sequence[str], Y: np.ndarray, folds: KFold, C: float = 4.0) -> np.ndarray:
    """Wang & Manning's NB-weighted logistic regression on binary word 1-3 and char 2-5 grams, out of fold."""
    vectorizer = FeatureUnion([
        ("word", TfidfVectorizer(ngram_range=(1, 3), binary=True, use_idf=False, norm=None, min_df=2)),
        ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), binary=True, use_idf=False, norm=None, min_df=2)),
    ])
    X = sp.csr_matrix(vectorizer.fit_transform(list(texts)))
    scores = np.zeros(Y.shape)
    for train, held in folds.split(Y):
        for j in range(Y.shape[1]):
            y = Y[train, j]
            p = np.asarray(X[train][y == 1].sum(0)).ravel() + 1
            q = np.asarray(X[train][y == 0].sum(0)).ravel() + 1
            ratio = np.log((p / p.sum()) / (q / q.sum()))
            weighted = normalize(sp.csr_matrix(X.multiply(ratio)))
            model = LogisticRegression(C=C, class_weight="balanced", solver="liblinear", dual=True, max_iter=1000)
            model.fit(weighted[train], y)
            scores[held, j] = model.predict_proba(weighted[held])[:, 1]
    return scores


def stacked_cv(features: list[np.ndarray], Y: np.ndarray, C: float, seed: int) -> float:
    """Macro-F1 of per-theme stackers on ``features[j]`` with cut-offs tuned on the fitting rows."""
    predicted = np.zeros_like(Y)
    for train, held in KFold(5, shuffle=True, random_state=seed).split(Y):
        fit_scores = np.zeros((len(train), Y.shape[1]))
        held_scores = np.zeros((len(held), Y.shape[1]))
        for j, F in enumerate(features):
            model = LogisticRegression(C=C, max_iter=3000).fit(F[train], Y[train, j])
            fit_scores[:, j] = model.predict_proba(F[train])[:, 1]
            held_scores[:, j] = model.predict_proba(F[held])[:, 1]
        thresholds = tune_thresholds(fit_scores, Y[train], CALIBRATED_GRID)
        predicted[held] = labels_from_scores(held_scores, thresholds, int(OURS_PARAMS["min_labels"]))
    return _macro_f1(Y, predicted)


def run(data_dir: Path) -> dict[str, object]:
    data = load_track_b(data_dir)
    Y = data.train_Y.astype(np.int8)
    embedder = CachedEmbedder(minilm_path(), CACHE_DIR)
    E = embedder.encode(data.train_texts)
    classifier = ThemeClassifier(embedder, seed=0, **OURS_PARAMS)
    classifier.vectorizer_ = classifier._make_vectorizer().fit(data.train_texts)
    held_out = classifier._out_of_fold_scores(classifier.vectorizer_.transform(data.train_texts), E, Y)
    assert held_out is not None and held_out[1] is not None
    folds = KFold(n_splits=int(OURS_PARAMS["n_folds"]), shuffle=True, random_state=0)
    heads = {
        "text": _log_odds(held_out[0]),
        "embedding": _log_odds(held_out[1]),
        "knn25": _log_odds(knn_scores(E, Y, 25, folds) * 0.98 + 0.01),
        "nb_logistic": _log_odds(nb_logistic_scores(data.train_texts, Y, folds)),
    }
    k = Y.shape[1]
    per_theme = lambda names: [np.column_stack([heads[n][:, j] for n in names]) for j in range(k)]  # noqa: E731
    cross = [np.column_stack([heads["text"], heads["embedding"]])] * k
    variants: dict[str, tuple[list[np.ndarray], float]] = {
        "current (text+embedding, C=0.1)": (per_theme(["text", "embedding"]), 0.1),
        "text+embedding, C=0.03": (per_theme(["text", "embedding"]), 0.03),
        "text+embedding, C=0.3": (per_theme(["text", "embedding"]), 0.3),
        "+ kNN vote (k=25)": (per_theme(["text", "embedding", "knn25"]), 0.1),
        "+ NB-logistic head": (per_theme(["text", "nb_logistic", "embedding"]), 0.1),
        "cross-theme stacker, C=0.01": (cross, 0.01),
    }
    scores = {name: [stacked_cv(f, Y, C, s) for s in OUTER_SEEDS] for name, (f, C) in variants.items()}
    baseline = np.array(scores["current (text+embedding, C=0.1)"])
    return {
        "what": "macro-F1 of stacker variants, 5-fold CV on pxtextmining track-B TRAIN rows only, 5 outer seeds",
        "n_train": len(data.train_texts),
        "outer_seeds": list(OUTER_SEEDS),
        "variants": {
            name: {
                "macro_f1_mean": round(float(np.mean(v)), 4),
                "diff_vs_current_mean": round(float(np.mean(np.array(v) - baseline)), 4),
                "diff_vs_current_per_seed": [round(float(d), 4) for d in np.array(v) - baseline],
            }
            for name, v in scores.items()
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    result = run(args.data_dir)
    write_result(args.out, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
