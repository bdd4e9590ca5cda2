"""Which training rows and which label floor? Two data choices for the pxtextmining classifier, on TRAIN rows only.

    python -m evaluation.pxtextmining_training_rows_ablation [--split-seeds 1 2 3] [--out FILE]

Why: 936 of the 5,913 training rows are the placeholder "Did not answer" with no theme. The protocol
drops those rows from test, so they are not comments the classifier will be scored on; in training they
are 16% of the rows, all negative for every theme, and they enter the out-of-fold scores the per-theme
cut-offs are tuned on. Separately, ``min_labels=1`` forces a label onto a comment no theme clears. Each
variant is fitted on the same 80/20 inner-train split of the training rows (``inner_split`` of the
fine-tuning ablation: "Did not answer" rows dropped from validation, as from test) and scored once on
its validation part; differences are paired by split. The test split is never read.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from evaluation.pxtextmining_benchmark import (
    CACHE_DIR, DEFAULT_DATA_DIR, NOT_ANSWERED, OURS_PARAMS, CachedEmbedder, load_track_b, macro_f1, minilm_path,
)
from evaluation.pxtextmining_fine_tuning_ablation import inner_split
from evaluation.results_file import write_result
from nlp.theme_classifier import ThemeClassifier

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "pxtextmining_training_rows_ablation.json"
#: (keep "Did not answer" rows in training, min_labels)
VARIANTS: dict[str, tuple[bool, int]] = {
    "current (placeholder rows kept, min_labels 1)": (True, 1),
    "placeholder rows dropped, min_labels 1": (False, 1),
    "placeholder rows kept, min_labels 0": (True, 0),
    "placeholder rows dropped, min_labels 0": (False, 0),
}


def run(data_dir: Path, split_seeds: Sequence[int]) -> dict[str, object]:
    data = load_track_b(data_dir)
    embedder = CachedEmbedder(minilm_path(), CACHE_DIR)
    embedder.encode(data.train_texts)
    texts, Y = data.train_texts, data.train_Y.astype(np.int8)
    splits: dict[str, dict[str, float]] = {}
    for seed in split_seeds:
        train_idx, val_idx = inner_split(texts, seed)
        val_texts, val_Y = [texts[i] for i in val_idx], Y[val_idx]
        row: dict[str, float] = {}
        for name, (keep_placeholders, min_labels) in VARIANTS.items():
            idx = [i for i in train_idx if keep_placeholders or texts[i].strip() != NOT_ANSWERED]
            started = time.perf_counter()
            clf = ThemeClassifier(embedder, seed=0, **{**OURS_PARAMS, "min_labels": min_labels})
            clf.fit([texts[i] for i in idx], Y[idx], data.labels)
            row[name] = round(macro_f1(val_Y, clf.predict(val_texts)), 4)
            print(f"split {seed}: {name}: {row[name]:.4f} ({time.perf_counter() - started:.0f}s)", flush=True)
        splits[str(seed)] = row
    current = next(iter(VARIANTS))
    summary = {
        name: {
            "macro_f1_mean": round(float(np.mean([splits[s][name] for s in splits])), 4),
            "diff_vs_current_per_split": [round(splits[s][name] - splits[s][current], 4) for s in splits],
            "diff_vs_current_mean": round(float(np.mean([splits[s][name] - splits[s][current] for s in splits])), 4),
        }
        for name in VARIANTS
    }
    return {
        "what": "validation macro-F1 on pxtextmining track-B TRAIN rows only (80/20 inner splits; 'Did not "
        "answer' rows dropped from validation as from test); ThemeClassifier(OURS_PARAMS) with the variant's "
        "training rows and min_labels",
        "split_seeds": list(split_seeds),
        "splits": splits,
        "summary": summary,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--split-seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    result = run(args.data_dir, args.split_seeds)
    write_result(args.out, result)
    for name, s in result["summary"].items():  # type: ignore[union-attr]
        print(f"{name}: mean {s['macro_f1_mean']:.4f}, vs current {s['diff_vs_current_mean']:+.4f} {s['diff_vs_current_per_split']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
