"""Does a fine-tuned MiniLM network lift the pxtextmining classifier? Measured on TRAIN rows only.

    python -m evaluation.pxtextmining_fine_tuning_ablation [--data-dir DIR] [--out FILE]
                                                           [--split-seeds 1 2] [--time-full-fit]

Why this exists: track B's test split has already been scored several times, so no candidate may be
chosen on it. Here the 5,913 training rows are split 80/20 into inner-train and validation with a
fixed seed (one split per ``--split-seeds`` value). The current classifier (``ThemeClassifier`` with
the benchmark's ``OURS_PARAMS``) is fitted on inner-train and scored once on validation. The
candidate adds MiniLM fine-tuned end to end with a multi-label BCE head (``evaluation.encoder_fine_tuning``),
cross-fitted in two folds on inner-train, used in the two ways the hypothesis allowed:

- blend: ``(1 - w) * classifier score + w * fine-tuned probability``, with ``w`` and the per-theme
  cut-offs chosen on inner-train out-of-fold scores (macro-F1, ``min_labels`` applied);
- stacked: the fine-tuned log-odds as a third input of the per-theme stacker next to the TF-IDF and
  embedding heads, cut-offs tuned as ``ThemeClassifier`` tunes them.

Both reuse the fitted classifier's heads and stacker, so they differ from the baseline only by the
fine-tuned network; nothing is fitted or tuned on validation. As the protocol does for test,
validation rows whose text is "Did not answer" are dropped (936 of the 5,913 training rows are; they
carry no theme, and with ``min_labels=1`` they would dominate the score with forced labels); they stay
in inner-train, as they stay in the benchmark's training rows. Differences are paired by split.

Fit seconds are wall-clock on this machine, with the load average after each fit (the machine is
shared, so timings vary). A candidate's fit seconds are the classifier's fit plus the fine-tuning and
the blend search; recomputing the classifier's out-of-fold scores (which an integrated version would
get from ``fit``) is left out. ``--time-full-fit`` also times the fine-tuning on all training rows,
the cost the benchmark would pay. The frozen sentence embeddings come from the benchmark's cache;
their cost is reported separately.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from evaluation.pxtextmining_benchmark import (
    CACHE_DIR, DEFAULT_DATA_DIR, NOT_ANSWERED, OURS_PARAMS, CachedEmbedder, load_track_b, macro_f1,
    minilm_path,
)
from evaluation.results_file import write_result
from evaluation.encoder_fine_tuning import CrossFittedFineTuning, EncoderFineTuner
from nlp.theme_classifier import ThemeClassifier, _score_heads
from nlp.threshold_tuning import CALIBRATED_GRID, DEFAULT_GRID, labels_from_scores, tune_thresholds

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "pxtextmining_fine_tuning_ablation.json"
SPLIT_SEEDS = (1, 2)
VALIDATION_SHARE = 0.2
CLASSIFIER_SEED = 0
#: Folds of the cross-fitted fine-tuning: with two, the fold networks together see the rows once
#: per epoch, the cost of one fit on everything (``CrossFittedFineTuning`` says why).
FINE_TUNING_FOLDS = 2
#: Blend weights of the fine-tuned network tried on the out-of-fold scores (0 = not used).
BLEND_WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
#: Candidates: ``EncoderFineTuner`` settings (its defaults: batch 32, encoder lr 8e-5, head lr 2e-3,
#: 10% warm-up then linear decay, pos_weight sqrt(neg/pos), max_seq_length 128, 2 torch threads).
#: 3 epochs was the best of the settings tried on an exploratory split (seed 100, not reused here):
#: 2 epochs, 3 epochs, and 4 epochs at batch 64 with lr 1e-4 and frozen word embeddings.
CANDIDATES: dict[str, dict[str, object]] = {
    "fine-tuned MiniLM, 3 epochs": {"epochs": 3},
}


def inner_split(texts: Sequence[str], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of inner-train and validation: a seeded permutation cut at 80/20, then the
    "Did not answer" rows dropped from validation (as from test)."""
    order = np.random.default_rng(seed).permutation(len(texts))
    cut = int(round((1.0 - VALIDATION_SHARE) * len(texts)))
    validation = [i for i in np.sort(order[cut:]) if texts[i].strip() != NOT_ANSWERED]
    return np.sort(order[:cut]), np.array(validation, dtype=int)


def evaluate_split(
    embedder: CachedEmbedder, texts: list[str], Y: np.ndarray, labels: list[str],
    val_texts: list[str], val_Y: np.ndarray,
) -> dict[str, object]:
    """Baseline and every candidate (blend and stacked) fitted on ``texts``, scored on validation."""
    Y = Y.astype(np.int8)
    started = time.perf_counter()
    clf = ThemeClassifier(embedder, seed=CLASSIFIER_SEED, **OURS_PARAMS).fit(texts, Y, labels)
    baseline_seconds = time.perf_counter() - started
    baseline_f1 = macro_f1(val_Y, clf.predict(val_texts))
    print(f"  baseline {baseline_f1:.4f} macro-F1, fit {baseline_seconds:.0f}s", flush=True)
    result: dict[str, object] = {
        "baseline": {"macro_f1": round(baseline_f1, 4), "fit_seconds": round(baseline_seconds, 1),
                     "load_average_1min_after": round(os.getloadavg()[0], 2)},
    }

    # The classifier's own out-of-fold head scores (same folds and seed as inside fit) and its
    # stacked combination of them: what its cut-offs were tuned on.
    held_out = clf._out_of_fold_scores(clf.vectorizer_.transform(texts), embedder.encode(texts), Y)
    assert held_out is not None and held_out[1] is not None
    combined = clf._combine(*held_out)
    grid = CALIBRATED_GRID if clf.stackers_ is not None else DEFAULT_GRID
    val_scores = clf.predict_proba(val_texts)
    val_heads = [
        _score_heads(clf.text_heads_, clf.vectorizer_.transform(val_texts)),
        _score_heads(clf.embedding_heads_, embedder.encode(val_texts)),
    ]
    for name, settings in CANDIDATES.items():
        started = time.perf_counter()
        tuner = EncoderFineTuner(**{**settings, "seed": CLASSIFIER_SEED})
        fine_tuning = CrossFittedFineTuning(tuner, FINE_TUNING_FOLDS, CLASSIFIER_SEED).fit(texts, Y)
        weight, thresholds = choose_blend(
            combined, fine_tuning.held_out_scores_, Y, grid, clf.min_labels
        )
        candidate_seconds = baseline_seconds + time.perf_counter() - started
        val_fine_tuned = fine_tuning.predict_proba(val_texts)
        blended = (1.0 - weight) * val_scores + weight * val_fine_tuned
        blend_f1 = macro_f1(val_Y, labels_from_scores(blended, thresholds, clf.min_labels))
        stacked_f1 = stacked_f1_score(
            [*held_out, fine_tuning.held_out_scores_], [*val_heads, val_fine_tuned],
            Y, val_Y, clf.stacker_C, clf.min_labels,
        )
        print(f"  {name}: blend {blend_f1:.4f} (w={weight}), stacked {stacked_f1:.4f}, "
              f"fine-tune {fine_tuning.fit_seconds_:.0f}s", flush=True)
        result[name] = {
            "blend_macro_f1": round(blend_f1, 4),
            "blend_weight": weight,
            "stacked_macro_f1": round(stacked_f1, 4),
            "fine_tuned_alone_macro_f1": round(_alone_f1(fine_tuning, Y, val_fine_tuned, val_Y), 4),
            "fine_tune_seconds": round(fine_tuning.fit_seconds_, 1),
            "fit_seconds": round(candidate_seconds, 1),
            "load_average_1min_after": round(os.getloadavg()[0], 2),
            "epoch_losses_per_fold": [[round(x, 4) for x in n.losses_] for n in fine_tuning.networks_],
        }
    return result


def choose_blend(
    combined: np.ndarray, fine_tuned: np.ndarray, Y: np.ndarray, grid: np.ndarray, min_labels: int
) -> tuple[float, np.ndarray]:
    """The blend weight (ties: the smaller) and its cut-offs maximising out-of-fold macro-F1."""
    best = (-1.0, 0.0, np.empty(0))
    for w in BLEND_WEIGHTS:
        blended = (1.0 - w) * combined + w * fine_tuned
        thresholds = tune_thresholds(blended, Y, grid)
        f1 = macro_f1(Y, labels_from_scores(blended, thresholds, min_labels))
        if f1 > best[0] + 1e-9:
            best = (f1, float(w), thresholds)
    return best[1], best[2]


def stacked_f1_score(
    fit_heads: list[np.ndarray], val_heads: list[np.ndarray], Y: np.ndarray, val_Y: np.ndarray,
    stacker_C: float, min_labels: int,
) -> float:
    """Validation macro-F1 of a per-theme unweighted stacker on the heads' log-odds, fitted and its
    cut-offs tuned on the out-of-fold ``fit_heads``: ``ThemeClassifier``'s stacking, with more heads."""
    fit_scores, val_scores = np.zeros(Y.shape), np.zeros(val_Y.shape)
    for j in range(Y.shape[1]):
        fit_features = np.column_stack([_log_odds(h[:, j]) for h in fit_heads])
        val_features = np.column_stack([_log_odds(h[:, j]) for h in val_heads])
        stacker = LogisticRegression(C=stacker_C, max_iter=2000).fit(fit_features, Y[:, j])
        fit_scores[:, j] = stacker.predict_proba(fit_features)[:, 1]
        val_scores[:, j] = stacker.predict_proba(val_features)[:, 1]
    thresholds = tune_thresholds(fit_scores, Y, CALIBRATED_GRID)
    return macro_f1(val_Y, labels_from_scores(val_scores, thresholds, min_labels))


def _alone_f1(
    fine_tuning: CrossFittedFineTuning, Y: np.ndarray, val_scores: np.ndarray, val_Y: np.ndarray
) -> float:
    thresholds = tune_thresholds(fine_tuning.held_out_scores_, Y, DEFAULT_GRID)
    return macro_f1(val_Y, labels_from_scores(val_scores, thresholds, int(OURS_PARAMS["min_labels"])))


def _log_odds(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def run(data_dir: Path, split_seeds: Sequence[int], time_full_fit: bool) -> dict[str, object]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    data = load_track_b(data_dir)
    Y = data.train_Y
    embedder = CachedEmbedder(minilm_path(), CACHE_DIR)
    embedder.encode(data.train_texts)  # fill the cache outside the timed fits
    splits: dict[str, dict[str, object]] = {}
    for seed in split_seeds:
        fit_rows, val_rows = inner_split(data.train_texts, seed)
        print(f"split {seed}: {len(fit_rows)} inner-train / {len(val_rows)} validation", flush=True)
        splits[str(seed)] = {
            "inner_train_rows": len(fit_rows), "validation_rows": len(val_rows),
            **evaluate_split(
                embedder, [data.train_texts[i] for i in fit_rows], Y[fit_rows], data.labels,
                [data.train_texts[i] for i in val_rows], Y[val_rows],
            ),
        }

    baseline = np.array([splits[s]["baseline"]["macro_f1"] for s in splits])
    summary: dict[str, dict[str, object]] = {
        "baseline": {"macro_f1_mean": round(float(baseline.mean()), 4)}
    }
    for name in CANDIDATES:
        for use in ("blend", "stacked"):
            scores = np.array([splits[s][name][f"{use}_macro_f1"] for s in splits])
            diffs = scores - baseline
            summary[f"{name}, {use}"] = {
                "macro_f1_mean": round(float(scores.mean()), 4),
                "diff_vs_baseline_mean": round(float(diffs.mean()), 4),
                "diff_vs_baseline_per_split": [round(float(d), 4) for d in diffs],
                "wins_by_0.01": bool(diffs.mean() >= 0.01),
            }
    result: dict[str, object] = {
        "what": "validation macro-F1 on pxtextmining track-B TRAIN rows only: 80/20 inner splits, "
        "'Did not answer' rows dropped from validation; baseline = ThemeClassifier(OURS_PARAMS); "
        "candidates add a cross-fitted fine-tuned MiniLM, blended or as a third stacker input",
        "n_train": len(data.train_texts),
        "split_seeds": list(split_seeds),
        "validation_share": VALIDATION_SHARE,
        "baseline_params": OURS_PARAMS,
        "candidates": CANDIDATES,
        "fine_tuning_folds": FINE_TUNING_FOLDS,
        "blend_weights": list(BLEND_WEIGHTS),
        "summary": summary,
        "splits": splits,
        "embedding_seconds_all_train_estimate": round(embedder.seconds_per_text * len(Y), 1),
    }
    if time_full_fit:
        name = max(CANDIDATES, key=lambda n: summary[f"{n}, blend"]["macro_f1_mean"])
        print(f"fine-tuning on all {len(Y)} training rows: {name}", flush=True)
        tuner = EncoderFineTuner(**{**CANDIDATES[name], "seed": CLASSIFIER_SEED})
        fine_tuning = CrossFittedFineTuning(tuner, FINE_TUNING_FOLDS, CLASSIFIER_SEED)
        fine_tuning.fit(data.train_texts, Y)
        result["full_train_fine_tuning"] = {
            "candidate": name,
            "fine_tune_seconds": round(fine_tuning.fit_seconds_, 1),
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "note": "the fine-tuning alone; the benchmark's total would add the classifier's fit "
            "and the embedding of the training texts (embedding_seconds_all_train_estimate)",
        }
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--split-seeds", type=int, nargs="+", default=list(SPLIT_SEEDS))
    parser.add_argument("--time-full-fit", action="store_true")
    args = parser.parse_args(argv)
    write_result(args.out, run(args.data_dir, args.split_seeds, args.time_full_fit))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
